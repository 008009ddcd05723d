#include "support/timeline_checks.h"

#include <algorithm>
#include <cstdlib>
#include <sstream>

#include "support/packet_analysis.h"

namespace venuecast::testing {
namespace {

std::vector<ProbePacket> inWindow(const std::vector<ProbePacket>& packets, MediaKind kind, TimeWindow window) {
  std::vector<ProbePacket> out;
  for (const auto& p : packets)
    if (p.kind == kind && p.dtsMs != kNoTimestamp && window.contains(p.arrivalUs)) out.push_back(p);
  return out;
}

int64_t median(std::vector<int64_t> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::string ms(int64_t us) {
  std::ostringstream s;
  s << us / 1000 << " ms";
  return s.str();
}

}  // namespace

std::string OrderReport::describe() const {
  std::ostringstream s;
  s << video << " video + " << audio << " audio packets, " << reordered << " with pts > dts; " << dtsNotIncreasing
    << " dts not increasing, " << ptsBeforeDts << " pts < dts, " << noTimestamp << " without dts";
  for (const auto& p : problems) s << "\n  " << p;
  return s.str();
}

std::string StepReport::describe() const {
  std::ostringstream s;
  s << steps << " steps, min " << minStepMs << " ms, max " << maxStepMs << " ms (from dts " << maxStepFromMs
    << ", arrival gap " << maxStepArrivalGapMs << " ms)";
  return s.str();
}

std::string SkewReport::describe() const {
  std::ostringstream s;
  s << pairs << " A/V pairs, skew median " << medianMs << " ms, max |skew| " << maxAbsMs << " ms";
  return s.str();
}

std::string RateReport::describe() const {
  std::ostringstream s;
  s.precision(4);
  s << "dts/wall slope " << slope << " over " << spanS << " s (" << packets << " packets)";
  return s.str();
}

std::string TimelineChecks::describe(const DelayStats& d) {
  std::ostringstream s;
  s << d.matched << " matched (" << d.unmatched << " unmatched), delay min " << ms(d.minUs) << ", median "
    << ms(d.medianUs) << ", p95 " << ms(d.p95Us) << ", max " << ms(d.maxUs);
  return s.str();
}

OrderReport TimelineChecks::order(const std::vector<ProbePacket>& endpoint, TimeWindow window) {
  OrderReport r;
  int64_t last[2] = {kNoTimestamp, kNoTimestamp};
  auto problem = [&r](const ProbePacket& p, const std::string& what) {
    if (r.problems.size() >= 8) return;
    std::ostringstream s;
    s << toString(p.kind) << " dts " << p.dtsMs << " pts " << p.ptsMs << " (session " << p.session << "): " << what;
    r.problems.push_back(s.str());
  };
  for (const auto& p : endpoint) {
    if (p.kind == MediaKind::Other || !window.contains(p.arrivalUs)) continue;
    if (p.dtsMs == kNoTimestamp) {
      ++r.noTimestamp;
      problem(p, "no timestamp");
      continue;
    }
    const int k = p.kind == MediaKind::Video ? 0 : 1;
    (k == 0 ? r.video : r.audio)++;
    if (last[k] != kNoTimestamp && p.dtsMs <= last[k]) {
      ++r.dtsNotIncreasing;
      problem(p, "dts not above the previous " + std::to_string(last[k]));
    }
    if (p.ptsMs != kNoTimestamp && p.ptsMs < p.dtsMs) {
      ++r.ptsBeforeDts;
      problem(p, "pts < dts");
    }
    if (k == 0 && p.ptsMs != kNoTimestamp && p.ptsMs > p.dtsMs) ++r.reordered;
    last[k] = p.dtsMs;
  }
  return r;
}

StepReport TimelineChecks::steps(const std::vector<ProbePacket>& endpoint, MediaKind kind, TimeWindow window) {
  StepReport r;
  auto ps = inWindow(endpoint, kind, window);
  for (std::size_t i = 1; i < ps.size(); ++i) {
    const int64_t step = ps[i].dtsMs - ps[i - 1].dtsMs;
    if (r.steps == 0 || step > r.maxStepMs) {
      r.maxStepMs = step;
      r.maxStepFromMs = ps[i - 1].dtsMs;
      r.maxStepArrivalGapMs = (ps[i].arrivalUs - ps[i - 1].arrivalUs) / 1000;
    }
    if (r.steps == 0 || step < r.minStepMs) r.minStepMs = step;
    ++r.steps;
  }
  return r;
}

DelayStats TimelineChecks::delay(const std::vector<ProbePacket>& source, const std::vector<ProbePacket>& endpoint,
                                 MediaKind kind, TimeWindow window) {
  auto e = PacketAnalysis::ofKind(endpoint, kind);
  auto matches = PacketMatcher::match(source, endpoint, kind);
  std::vector<PacketMatch> kept;
  for (const auto& m : matches)
    if (window.contains(e[m.endpointIndex].arrivalUs)) kept.push_back(m);
  std::size_t total = 0;
  for (const auto& p : e) total += window.contains(p.arrivalUs);
  return PacketMatcher::delayStats(kept, total - kept.size());
}

SkewReport TimelineChecks::avSkew(const std::vector<ProbePacket>& source, const std::vector<ProbePacket>& endpoint,
                                  TimeWindow window) {
  const auto sv = PacketAnalysis::ofKind(source, MediaKind::Video);
  const auto sa = PacketAnalysis::ofKind(source, MediaKind::Audio);
  const auto ev = PacketAnalysis::ofKind(endpoint, MediaKind::Video);
  const auto ea = PacketAnalysis::ofKind(endpoint, MediaKind::Audio);
  const auto mv = PacketMatcher::match(source, endpoint, MediaKind::Video);
  // Audio frames of a steady tone have few distinct sizes: a longer window keeps the matches honest.
  const auto ma = PacketMatcher::match(source, endpoint, MediaKind::Audio, 8);
  std::vector<int64_t> skews;
  std::size_t vi = 0;
  for (const auto& a : ma) {
    const ProbePacket& srcA = sa[a.sourceIndex];
    const ProbePacket& endA = ea[a.endpointIndex];
    if (!window.contains(endA.arrivalUs)) continue;
    // mv is ordered by source index, hence by source arrival: advance to the video match nearest in time.
    while (vi + 1 < mv.size() && std::llabs(sv[mv[vi + 1].sourceIndex].arrivalUs - srcA.arrivalUs) <=
                                     std::llabs(sv[mv[vi].sourceIndex].arrivalUs - srcA.arrivalUs))
      ++vi;
    if (vi >= mv.size()) break;
    const ProbePacket& srcV = sv[mv[vi].sourceIndex];
    const ProbePacket& endV = ev[mv[vi].endpointIndex];
    const int64_t arrivalDiffMs = (srcV.arrivalUs - srcA.arrivalUs) / 1000;
    if (std::llabs(arrivalDiffMs) > 100 || srcV.session != srcA.session) continue;
    // Both on the same side of any source-side discontinuity (jump, wrap, restart in-band).
    if (std::llabs((srcV.dtsMs - srcA.dtsMs) - arrivalDiffMs) > 500) continue;
    skews.push_back((endV.dtsMs - endA.dtsMs) - (srcV.dtsMs - srcA.dtsMs));
  }
  SkewReport r;
  r.pairs = skews.size();
  for (auto s : skews) r.maxAbsMs = std::max<int64_t>(r.maxAbsMs, std::llabs(s));
  r.medianMs = median(skews);
  return r;
}

RateReport TimelineChecks::wallClockRate(const std::vector<ProbePacket>& endpoint, MediaKind kind,
                                         TimeWindow window) {
  RateReport r;
  auto ps = inWindow(endpoint, kind, window);
  r.packets = ps.size();
  if (ps.size() < 2) return r;
  // Centre both axes for numerical stability.
  const double x0 = ps.front().arrivalUs / 1000.0, y0 = static_cast<double>(ps.front().dtsMs);
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (const auto& p : ps) {
    const double x = p.arrivalUs / 1000.0 - x0, y = p.dtsMs - y0;
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  const double n = static_cast<double>(ps.size());
  const double den = n * sxx - sx * sx;
  r.slope = den > 0 ? (n * sxy - sx * sy) / den : 0;
  r.spanS = (ps.back().arrivalUs - ps.front().arrivalUs) / 1e6;
  return r;
}

int64_t TimelineChecks::dtsLeadMs(const std::vector<ProbePacket>& endpoint, MediaKind kind, TimeWindow window) {
  std::vector<int64_t> leads;
  for (const auto& p : inWindow(endpoint, kind, window)) leads.push_back(p.dtsMs - p.arrivalUs / 1000);
  return median(leads);
}

int64_t TimelineChecks::maxArrivalGapMs(const std::vector<ProbePacket>& packets, MediaKind kind, TimeWindow window) {
  int64_t worst = 0, last = kNoTimestamp;
  for (const auto& p : packets) {
    if ((kind != MediaKind::Other && p.kind != kind) || !window.contains(p.arrivalUs)) continue;
    if (last != kNoTimestamp) worst = std::max(worst, (p.arrivalUs - last) / 1000);
    last = p.arrivalUs;
  }
  return worst;
}

}  // namespace venuecast::testing
