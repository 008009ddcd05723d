#include "relay/gop_cache.h"

namespace venuecast::relay {

void GopCache::clear() {
  packets_.clear();
  bytes_ = 0;
}

void GopCache::add(const ingest::PacketPtr& packet) {
  if (packet->key) {
    clear();
  } else if (packets_.empty()) {
    return;  // nothing to start from until the next keyframe
  }
  if (packets_.empty()) frontDts_ = packet->dts();
  packets_.push_back(packet);
  bytes_ += static_cast<size_t>(packet->size());
  const int64_t span = packet->dts() - frontDts_;
  if (packets_.size() > limits_.maxPackets || bytes_ > limits_.maxBytes || span > limits_.maxDurationUs) {
    clear();
  }
}

}  // namespace venuecast::relay
