#pragma once
// One output's queue between the venue hub (producer, must never block) and the output's writer thread.
// Bounded by media duration and bytes; on overflow it drops whole GOPs from the front, and if no later
// keyframe is queued it drops everything and restarts at the next keyframe, so the writer never
// resumes mid-GOP. Drops are counted, not logged per packet.
// The consumer either waits in pop() (a writer thread) or, on an event loop, takes what is there with
// popAvailable() and is told by the ready callback when more arrives (no thread handoff per packet). An event-loop
// consumer may also take a packet straight from push() (an offer) while it has nothing queued: the usual case of a
// relay keeping up, where queueing and popping again would only cost time.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "ingest/packet.h"

namespace venuecast::relay {

class PacketQueue {
 public:
  struct Limits {
    int64_t maxDurationUs = 5'000'000;
    size_t maxBytes = 64u << 20;
  };
  struct Stats {
    uint64_t droppedPackets = 0;
    uint64_t overflows = 0;  // times a bound was hit
    size_t queuedPackets = 0;
    size_t queuedBytes = 0;
  };

  PacketQueue() = default;
  explicit PacketQueue(Limits limits) : limits_(limits) {}

  void push(const ingest::PacketPtr& packet);
  void pushAll(const std::vector<ingest::PacketPtr>& packets);
  // Waits up to `wait`; null on timeout.
  ingest::PacketPtr pop(std::chrono::milliseconds wait);
  // Moves up to `max` packets into `out` without waiting; returns how many. Once it leaves the queue empty,
  // the next push fires the ready callback (once).
  size_t popAvailable(std::vector<ingest::PacketPtr>& out, size_t max);
  // Called on the pushing thread, after the queue's lock is released (so it may pop right away), once per
  // emptying; fires at once if packets are already queued. Empty to stop: a push racing with that may still
  // run the old callback once, so it must cope with being called late.
  void setReadyCallback(std::function<void()> onReady);
  // As above, plus offers: while the consumer waits on an empty queue (and no keyframe is awaited), push() first calls
  // `offer` with the packet, outside the lock; true means taken (it never enters the queue), false that it is queued
  // as usual. Pushes must not race each other (the venue hub serialises them), or an offer could overtake.
  void setReadyCallback(std::function<void()> onReady, std::function<bool(const ingest::PacketPtr&)> offer);
  // Empties the queue; the next accepted packet must be a keyframe.
  void reset();
  Stats stats() const;

 private:
  void pushLocked(const ingest::PacketPtr& packet);
  void trimLocked();
  struct Consumer {
    std::function<void()> ready;
    std::function<bool(const ingest::PacketPtr&)> offer;  // may be empty
  };
  // The consumer to call once the lock is released, if this push makes the queue ready for it.
  std::shared_ptr<const Consumer> takeReadyLocked();
  // Queues `packet` and wakes the consumer.
  void enqueue(const ingest::PacketPtr& packet);

  Limits limits_{};
  mutable std::mutex mu_;
  std::condition_variable ready_;
  std::deque<ingest::PacketPtr> packets_;
  size_t bytes_ = 0;
  bool waitingForKey_ = true;
  bool overflowed_ = false;
  std::shared_ptr<const Consumer> onReady_;
  bool readyArmed_ = false;  // the consumer has found the queue empty and waits for the callback
  uint64_t dropped_ = 0;
  uint64_t overflows_ = 0;
};

}  // namespace venuecast::relay
