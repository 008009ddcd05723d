#include "support/packet_analysis.h"

#include <algorithm>
#include <cstdlib>

namespace venuecast::testing {

std::vector<ProbePacket> PacketAnalysis::ofKind(const std::vector<ProbePacket>& packets, MediaKind kind) {
  std::vector<ProbePacket> out;
  for (const auto& p : packets) if (p.kind == kind && p.dtsMs != kNoTimestamp) out.push_back(p);
  return out;
}

std::vector<ProbePacket> PacketAnalysis::ofSession(const std::vector<ProbePacket>& packets, int session) {
  std::vector<ProbePacket> out;
  for (const auto& p : packets) if (p.session == session) out.push_back(p);
  return out;
}

std::vector<ProbePacket> PacketAnalysis::arrivedBetween(const std::vector<ProbePacket>& packets, int64_t fromUs,
                                                        int64_t toUs) {
  std::vector<ProbePacket> out;
  for (const auto& p : packets) if (p.arrivalUs >= fromUs && p.arrivalUs < toUs) out.push_back(p);
  return out;
}

std::vector<DtsStep> PacketAnalysis::dtsDiscontinuities(const std::vector<ProbePacket>& packets, MediaKind kind,
                                                        int64_t maxForwardMs) {
  std::vector<DtsStep> out;
  auto ps = ofKind(packets, kind);
  for (std::size_t i = 1; i < ps.size(); ++i) {
    int64_t step = ps[i].dtsMs - ps[i - 1].dtsMs;
    if (step < 0 || step > maxForwardMs) out.push_back({i, ps[i - 1].dtsMs, ps[i].dtsMs, ps[i].arrivalUs});
  }
  return out;
}

bool PacketAnalysis::dtsMonotonic(const std::vector<ProbePacket>& packets, MediaKind kind) {
  auto ps = ofKind(packets, kind);
  for (std::size_t i = 1; i < ps.size(); ++i) if (ps[i].dtsMs < ps[i - 1].dtsMs) return false;
  return true;
}

double PacketAnalysis::mediaRate(const std::vector<ProbePacket>& packets, MediaKind kind) {
  auto ps = ofKind(packets, kind);
  if (ps.size() < 2) return 0;
  double wallMs = (ps.back().arrivalUs - ps.front().arrivalUs) / 1000.0;
  return wallMs > 0 ? (ps.back().dtsMs - ps.front().dtsMs) / wallMs : 0;
}

std::vector<int64_t> PacketAnalysis::keyframeIntervalsMs(const std::vector<ProbePacket>& packets) {
  std::vector<int64_t> out;
  int64_t last = kNoTimestamp;
  for (const auto& p : ofKind(packets, MediaKind::Video)) {
    if (!p.key) continue;
    if (last != kNoTimestamp) out.push_back(p.dtsMs - last);
    last = p.dtsMs;
  }
  return out;
}

std::size_t PacketAnalysis::countReordered(const std::vector<ProbePacket>& packets) {
  std::size_t n = 0;
  for (const auto& p : ofKind(packets, MediaKind::Video)) n += p.ptsMs != kNoTimestamp && p.ptsMs > p.dtsMs;
  return n;
}

int64_t PacketAnalysis::maxAvSkewMs(const std::vector<ProbePacket>& packets) {
  int64_t v = kNoTimestamp, a = kNoTimestamp, worst = 0;
  for (const auto& p : packets) {
    if (p.dtsMs == kNoTimestamp) continue;
    if (p.kind == MediaKind::Video) v = p.dtsMs;
    else if (p.kind == MediaKind::Audio) a = p.dtsMs;
    if (v != kNoTimestamp && a != kNoTimestamp) worst = std::max<int64_t>(worst, std::llabs(v - a));
  }
  return worst;
}

int64_t PacketAnalysis::maxArrivalGapMs(const std::vector<ProbePacket>& packets) {
  int64_t worst = 0;
  for (std::size_t i = 1; i < packets.size(); ++i)
    worst = std::max(worst, (packets[i].arrivalUs - packets[i - 1].arrivalUs) / 1000);
  return worst;
}

}  // namespace venuecast::testing
