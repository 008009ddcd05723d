#include "relay/output_timeline.h"

#include <algorithm>

namespace venuecast::relay {
namespace {

int64_t usToMs(int64_t us) { return us >= 0 ? (us + 500) / 1000 : -((-us + 500) / 1000); }

}  // namespace

bool OutputTimeline::map(ingest::MediaKind kind, int64_t dtsUs, int64_t ptsUs, int64_t& dtsMs, int64_t& ptsMs) {
  if (!started_) {
    started_ = true;
    baseUs_ = dtsUs;
  }
  int64_t dts = usToMs(dtsUs - baseUs_);
  int64_t pts = usToMs(ptsUs - baseUs_);
  if (dts < 0) return false;
  auto& last = lastDts_[static_cast<size_t>(kind)];
  if (dts <= last) dts = last + 1;
  pts = std::max(pts, dts);
  last = dts;
  dtsMs = dts;
  ptsMs = pts;
  return true;
}

}  // namespace venuecast::relay
