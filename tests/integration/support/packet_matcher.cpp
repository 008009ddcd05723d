#include "support/packet_matcher.h"

#include <algorithm>
#include <optional>

#include "support/packet_analysis.h"

namespace venuecast::testing {
namespace {

constexpr int64_t kSlackUs = 1'000'000;

bool windowEqual(const std::vector<ProbePacket>& s, std::size_t i, const std::vector<ProbePacket>& e, std::size_t j,
                 int window) {
  for (int k = 0; k < window; ++k) {
    if (j + k >= e.size()) return true;   // endpoint ran out: shorter window
    if (i + k >= s.size()) return false;  // source ran out: cannot confirm
    if (s[i + k].size != e[j + k].size) return false;
  }
  return true;
}

}  // namespace

std::vector<PacketMatch> PacketMatcher::match(const std::vector<ProbePacket>& source,
                                              const std::vector<ProbePacket>& endpoint, MediaKind kind, int window) {
  auto s = PacketAnalysis::ofKind(source, kind);
  auto e = PacketAnalysis::ofKind(endpoint, kind);
  std::vector<PacketMatch> out;
  std::size_t cursor = 0;
  for (std::size_t j = 0; j < e.size(); ++j) {
    std::optional<std::size_t> found;
    for (std::size_t i = cursor; i < s.size(); ++i) {
      if (!windowEqual(s, i, e, j, window)) continue;
      if (!out.empty()) {  // in order after the previous match
        found = i;
        break;
      }
      // First match: the latest candidate not after the endpoint's arrival (+1 s slack for probe scheduling).
      if (s[i].arrivalUs > e[j].arrivalUs + kSlackUs) break;
      found = i;
    }
    if (!found) continue;
    out.push_back({*found, j, e[j].arrivalUs - s[*found].arrivalUs});
    cursor = *found + 1;
  }
  return out;
}

DelayStats PacketMatcher::delayStats(const std::vector<PacketMatch>& matches, std::size_t unmatched) {
  DelayStats st;
  st.matched = matches.size();
  st.unmatched = unmatched;
  if (matches.empty()) return st;
  std::vector<int64_t> d;
  for (const auto& m : matches) d.push_back(m.delayUs);
  std::sort(d.begin(), d.end());
  st.minUs = d.front();
  st.maxUs = d.back();
  st.medianUs = d[d.size() / 2];
  st.p95Us = d[std::min(d.size() - 1, d.size() * 95 / 100)];
  return st;
}

DelayStats PacketMatcher::delay(const std::vector<ProbePacket>& source, const std::vector<ProbePacket>& endpoint,
                                MediaKind kind, int window) {
  auto m = match(source, endpoint, kind, window);
  return delayStats(m, PacketAnalysis::ofKind(endpoint, kind).size() - m.size());
}

}  // namespace venuecast::testing
