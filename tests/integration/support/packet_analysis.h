#pragma once
// Measurements over what a StreamProbe recorded. All functions look at one kind (video/audio) unless noted and
// ignore packets without a dts.
#include <cstdint>
#include <optional>
#include <vector>

#include "support/stream_probe.h"

namespace venuecast::testing {

struct DtsStep {
  std::size_t index = 0;  // into the filtered (one kind) sequence
  int64_t fromMs = 0, toMs = 0;
  int64_t arrivalUs = 0;
};

class PacketAnalysis {
 public:
  static std::vector<ProbePacket> ofKind(const std::vector<ProbePacket>& packets, MediaKind kind);
  static std::vector<ProbePacket> ofSession(const std::vector<ProbePacket>& packets, int session);
  static std::vector<ProbePacket> arrivedBetween(const std::vector<ProbePacket>& packets, int64_t fromUs, int64_t toUs);

  // Steps where dts decreases (step < 0) or jumps forward by more than `maxForwardMs`.
  static std::vector<DtsStep> dtsDiscontinuities(const std::vector<ProbePacket>& packets, MediaKind kind,
                                                 int64_t maxForwardMs = 1000);
  static bool dtsMonotonic(const std::vector<ProbePacket>& packets, MediaKind kind);  // non-decreasing
  // Media time per wall time over the packets of `kind` (1.0 = real time): (dts span) / (arrival span).
  static double mediaRate(const std::vector<ProbePacket>& packets, MediaKind kind);
  // dts gaps between consecutive keyframes of video, in ms.
  static std::vector<int64_t> keyframeIntervalsMs(const std::vector<ProbePacket>& packets);
  static std::size_t countReordered(const std::vector<ProbePacket>& packets);  // video packets with pts > dts
  // Largest |last video dts - last audio dts| seen at any packet arrival (after both kinds have started).
  static int64_t maxAvSkewMs(const std::vector<ProbePacket>& packets);
  // Largest gap between consecutive packet arrivals (any kind), in ms.
  static int64_t maxArrivalGapMs(const std::vector<ProbePacket>& packets);
};

}  // namespace venuecast::testing
