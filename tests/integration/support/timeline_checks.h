#pragma once
// What platforms need from an output's timestamps, measured on what an endpoint received (StreamProbe) and,
// where a reference is needed, on what the source carried at the same time (a second StreamProbe on the venue
// server). Monotonic DTS alone proves little: clamping every late timestamp to "previous + 1" keeps DTS
// increasing yet leaves the output far behind live with audio off video. So besides the order checks this
// measures delay behind the source, A/V skew against the source's own A/V relationship, whether output DTS
// advances at wall-clock rate, and where DTS stands relative to the wall clock before and after an outage.
//
// Windows are [fromUs, toUs) on the StreamProbe::nowUs() clock, selecting *endpoint* packets by arrival time.
// Packets without a dts are ignored everywhere except in order(), which counts them.
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "support/packet_matcher.h"
#include "support/stream_probe.h"

namespace venuecast::testing {

struct TimeWindow {
  int64_t fromUs = std::numeric_limits<int64_t>::min();
  int64_t toUs = std::numeric_limits<int64_t>::max();
  bool contains(int64_t us) const { return us >= fromUs && us < toUs; }
};

// Per stream (video, audio): DTS strictly increasing, PTS >= DTS; plus the B-frame count.
struct OrderReport {
  std::size_t video = 0, audio = 0;
  std::size_t noTimestamp = 0;          // packets without dts
  std::size_t dtsNotIncreasing = 0;     // dts <= previous dts of the same stream
  std::size_t ptsBeforeDts = 0;         // pts < dts
  std::size_t reordered = 0;            // video pts > dts (B-frames present)
  std::vector<std::string> problems;    // the first few violations, described
  bool ok() const { return noTimestamp == 0 && dtsNotIncreasing == 0 && ptsBeforeDts == 0; }
  std::string describe() const;
};

// The largest dts step between consecutive packets of one stream (and where it was).
struct StepReport {
  std::size_t steps = 0;
  int64_t maxStepMs = 0;        // largest dts advance
  int64_t minStepMs = 0;        // smallest (<= 0 means a step back or a repeat)
  int64_t maxStepFromMs = 0;    // dts before the largest step
  int64_t maxStepArrivalGapMs = 0;  // arrival gap across the largest step
  std::string describe() const;
};

// A/V skew against the source: for an audio packet and the video packet that arrived at the source closest to it
// (within 100 ms, same source session, source dts consistent with arrival), both matched by content to endpoint
// packets: skew = (endpoint video dts - endpoint audio dts) - (source video dts - source audio dts).
struct SkewReport {
  std::size_t pairs = 0;
  int64_t maxAbsMs = 0;
  int64_t medianMs = 0;
  std::string describe() const;
};

// Least-squares slope of dts (ms) against arrival (ms), and how much media time the window covers.
struct RateReport {
  std::size_t packets = 0;
  double slope = 0;       // 1.0 = output time advances exactly at wall-clock rate
  double spanS = 0;       // arrival span of the packets used
  std::string describe() const;
};

class TimelineChecks {
 public:
  static OrderReport order(const std::vector<ProbePacket>& endpoint, TimeWindow window = {});
  static StepReport steps(const std::vector<ProbePacket>& endpoint, MediaKind kind, TimeWindow window = {});
  // Delay behind the source (endpoint arrival - source arrival of the same packet, matched by size sequence),
  // over the endpoint packets of `window`. `unmatched` counts endpoint packets of the window without a match.
  static DelayStats delay(const std::vector<ProbePacket>& source, const std::vector<ProbePacket>& endpoint,
                          MediaKind kind, TimeWindow window = {});
  static SkewReport avSkew(const std::vector<ProbePacket>& source, const std::vector<ProbePacket>& endpoint,
                           TimeWindow window = {});
  static RateReport wallClockRate(const std::vector<ProbePacket>& endpoint, MediaKind kind, TimeWindow window = {});
  // Median of (dts ms - arrival ms) over the window: where the output timeline stands against the wall clock.
  // Constant while the output keeps real time; an output that falls behind (or jumps ahead) shifts it.
  static int64_t dtsLeadMs(const std::vector<ProbePacket>& endpoint, MediaKind kind, TimeWindow window = {});
  // Longest arrival gap between consecutive packets of `kind` (MediaKind::Other: of any kind) in the window, ms.
  static int64_t maxArrivalGapMs(const std::vector<ProbePacket>& packets, MediaKind kind, TimeWindow window = {});

  static std::string describe(const DelayStats& d);
};

}  // namespace venuecast::testing
