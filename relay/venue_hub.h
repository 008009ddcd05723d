#pragma once
// Fans one venue's packets out to the queues of its outputs, and keeps the venue's current GOP so a
// queue that subscribes starts at once on the latest keyframe. Runs on the source's thread and never
// blocks on an output: each push is a bounded, non-blocking queue insert.
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ingest/packet_sink.h"
#include "relay/gop_cache.h"
#include "relay/packet_queue.h"

namespace venuecast::relay {

class VenueHub : public ingest::PacketSink {
 public:
  explicit VenueHub(std::string venueId) : venueId_(std::move(venueId)) {}

  void onStreams(ingest::StreamSetPtr streams) override;
  void onPacket(ingest::PacketPtr packet) override;
  void onSourceLost() override;

  // Primes `queue` with the cached GOP, then feeds it live packets until unsubscribed.
  // Returns how many cached packets it was primed with.
  size_t subscribe(const std::shared_ptr<PacketQueue>& queue);
  void unsubscribe(const std::shared_ptr<PacketQueue>& queue);

  const std::string& venueId() const { return venueId_; }
  bool live() const;
  ingest::StreamSetPtr streams() const;

 private:
  const std::string venueId_;
  mutable std::mutex mu_;
  GopCache gop_;
  ingest::StreamSetPtr streams_;
  bool live_ = false;
  std::vector<std::shared_ptr<PacketQueue>> queues_;
};

}  // namespace venuecast::relay
