#pragma once
// Bounds every blocking libav call. rw_timeout alone is not enough: socket buffers hide a stalled peer
// for seconds, and trailer/close would each wait again. The watchdog is libav's interrupt callback
// (polled every ~100 ms while a socket waits): it fires when the armed operation runs past its limit,
// when a stop is requested (after an optional grace for a clean trailer), and stays fired once tripped
// so that teardown of a dead peer cannot block again.
extern "C" {
#include <libavformat/avio.h>
}
#include <atomic>
#include <chrono>

namespace venuecast::ingest {

class IoWatchdog {
 public:
  using Clock = std::chrono::steady_clock;

  explicit IoWatchdog(const std::atomic<bool>& stop);

  AVIOInterruptCB callback() { return {&IoWatchdog::poll, this}; }

  // Start timing one blocking operation; it is interrupted if it runs longer than `limit`.
  void arm(std::chrono::milliseconds limit);
  void disarm();
  // Abort everything from now on (the peer is dead or stalled).
  void trip() { tripped_.store(true, std::memory_order_relaxed); }
  // On stop, let calls run `grace` longer (a clean FLV trailer + RTMP close) before aborting.
  void setStopGrace(std::chrono::milliseconds grace) { graceMs_.store(grace.count()); }

  bool tripped() const { return tripped_.load(std::memory_order_relaxed); }
  // True when the last trip came from an armed operation overrunning its limit.
  bool stalled() const { return stalled_.load(std::memory_order_relaxed); }
  bool interrupted() const;

 private:
  static int poll(void* self);
  static int64_t nowMs();

  const std::atomic<bool>& stop_;
  std::atomic<bool> tripped_{false};
  std::atomic<bool> stalled_{false};
  std::atomic<int64_t> armedAtMs_{0};  // 0 = not armed
  std::atomic<int64_t> limitMs_{0};
  std::atomic<int64_t> graceMs_{0};
  std::atomic<int64_t> stopSeenAtMs_{0};
};

}  // namespace venuecast::ingest
