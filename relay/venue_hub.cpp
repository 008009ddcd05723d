#include "relay/venue_hub.h"

#include <algorithm>

namespace venuecast::relay {

void VenueHub::onStreams(ingest::StreamSetPtr streams) {
  std::lock_guard lock(mu_);
  // Cached packets of another layout cannot start an output opened with the new one.
  if (streams_ && !streams_->sameLayout(*streams)) gop_.clear();
  streams_ = std::move(streams);
  live_ = true;
}

void VenueHub::onPacket(ingest::PacketPtr packet) {
  std::lock_guard lock(mu_);
  gop_.add(packet);
  for (const auto& q : queues_) q->push(packet);
}

void VenueHub::onSourceLost() {
  std::lock_guard lock(mu_);
  // A stale GOP must not be replayed to an output that connects while the venue is down.
  gop_.clear();
  live_ = false;
}

size_t VenueHub::subscribe(const std::shared_ptr<PacketQueue>& queue) {
  std::lock_guard lock(mu_);
  queue->pushAll(gop_.packets());
  queues_.push_back(queue);
  return gop_.packets().size();
}

void VenueHub::unsubscribe(const std::shared_ptr<PacketQueue>& queue) {
  std::lock_guard lock(mu_);
  queues_.erase(std::remove(queues_.begin(), queues_.end(), queue), queues_.end());
}

bool VenueHub::live() const {
  std::lock_guard lock(mu_);
  return live_;
}

ingest::StreamSetPtr VenueHub::streams() const {
  std::lock_guard lock(mu_);
  return streams_;
}

}  // namespace venuecast::relay
