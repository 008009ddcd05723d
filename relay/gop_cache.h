#pragma once
// The venue's latest GOP, from its keyframe on, so an output that (re)connects starts at once on a
// keyframe instead of waiting up to a GOP. Capped so a source with very long GOPs (or none) cannot
// grow it; audio-only sources keep just the latest frame.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "ingest/packet.h"

namespace venuecast::relay {

class GopCache {
 public:
  struct Limits {
    size_t maxPackets = 4096;
    size_t maxBytes = 48u << 20;
    int64_t maxDurationUs = 12'000'000;
  };

  GopCache() = default;
  explicit GopCache(Limits limits) : limits_(limits) {}

  void add(const ingest::PacketPtr& packet);
  void clear();
  // Starts with a keyframe, or is empty.
  const std::vector<ingest::PacketPtr>& packets() const { return packets_; }
  size_t bytes() const { return bytes_; }

 private:
  Limits limits_{};
  std::vector<ingest::PacketPtr> packets_;
  size_t bytes_ = 0;
  int64_t frontDts_ = 0;  // packets_.front()'s, kept here: reading it would touch a packet gone cold since
};

}  // namespace venuecast::relay
