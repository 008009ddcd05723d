#pragma once
// Pairs the packets an endpoint received with the packets the source carried, to measure how far the endpoint is
// behind the source. Probe both (source nginx and endpoint nginx) at once. The relay rebases timestamps, so
// packets are matched by kind + payload size sequence, in order, never by dts: a packet matches when its size
// and the sizes of the next `window - 1` packets of its kind equal those at the source. The clip loops every
// 10 s with the same sizes, so the first match is the latest candidate that arrived at the source no later than
// 1 s after the endpoint packet, and later matches only move forward (skipping packets the relay dropped).
#include <cstdint>
#include <vector>

#include "support/stream_probe.h"

namespace venuecast::testing {

struct PacketMatch {
  std::size_t sourceIndex = 0;    // into PacketAnalysis::ofKind(source, kind)
  std::size_t endpointIndex = 0;  // into PacketAnalysis::ofKind(endpoint, kind)
  int64_t delayUs = 0;            // endpoint arrival - source arrival
};

struct DelayStats {
  std::size_t matched = 0;
  std::size_t unmatched = 0;  // endpoint packets with no source counterpart
  int64_t minUs = 0, medianUs = 0, p95Us = 0, maxUs = 0;
};

class PacketMatcher {
 public:
  static std::vector<PacketMatch> match(const std::vector<ProbePacket>& source,
                                        const std::vector<ProbePacket>& endpoint, MediaKind kind, int window = 4);
  static DelayStats delayStats(const std::vector<PacketMatch>& matches, std::size_t unmatched = 0);
  // match + delayStats in one call.
  static DelayStats delay(const std::vector<ProbePacket>& source, const std::vector<ProbePacket>& endpoint,
                          MediaKind kind, int window = 4);
};

}  // namespace venuecast::testing
