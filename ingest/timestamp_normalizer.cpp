#include "ingest/timestamp_normalizer.h"

extern "C" {
#include <libavutil/avutil.h>
}
#include <algorithm>
#include <climits>
#include <cmath>

namespace venuecast::ingest {

void TimestampNormalizer::rebaseOnto(int64_t referenceDts, int64_t referenceWall, int64_t sourceDts,
                                     int64_t sourcePts, int64_t wallUs) {
  // Where the timeline would be now had it kept running at wall-clock rate, never before its end. Nor may the
  // first packet be presented before what was already sent, plus one frame: a session cut in the middle of a GOP
  // (a switch between two live sources) leaves frames whose pts is ahead of their dts by the B-frame delay, and a
  // player on a constant frame rate needs the frame's slot.
  const int64_t gap = std::max<int64_t>(wallUs - referenceWall, options_.minGapUs);
  const int64_t cts = std::max<int64_t>(sourcePts - sourceDts, 0);
  int64_t resume = referenceDts + gap;
  if (liveLead_ != INT64_MIN && resume - wallUs > liveLead_) {
    resume = std::max(wallUs + liveLead_, referenceDts + options_.minGapUs);  // back towards live, never backwards
  }
  int64_t target = std::max({resume, lastEnd_, lastVideoPtsMax_ + options_.minGapUs - cts});
  // And on the frame grid of what was sent: the first frame is presented a whole number of frames after the
  // last one shown (a switch between two live sources would otherwise shift the grid by a fraction of a frame).
  // (A one-step frame duration would drift off the grid by a third of a frame over a one-second outage.)
  if (const double frame = videoFrames_.frameUs(); frame >= 1'000) {
    const double after = static_cast<double>(target + cts - lastVideoPtsMax_);
    const double frames = std::max(1.0, std::ceil(after / frame));
    target = lastVideoPtsMax_ + static_cast<int64_t>(std::llround(frames * frame)) - cts;
  }
  videoFrames_.reset();  // the new session's frames are measured afresh
  offset_ = target - sourceDts;
  ++discontinuities_;
}

bool TimestampNormalizer::normalize(MediaKind kind, int64_t& dts, int64_t& pts, int64_t durationUs,
                                    int64_t wallUs) {
  if (dts == AV_NOPTS_VALUE) dts = pts;
  if (dts == AV_NOPTS_VALUE) return false;
  if (pts == AV_NOPTS_VALUE) pts = dts;
  const auto k = static_cast<size_t>(kind);

  if (rebase_) {
    rebase_ = false;
    if (!started_) {
      offset_ = -dts;  // the venue timeline starts at 0
      started_ = true;
    } else {
      rebaseOnto(lastDtsAny_, lastWallAny_, dts, pts, wallUs);
    }
  } else if (seen_[k]) {
    const int64_t step = dts + offset_ - lastDts_[k];
    const int64_t wallStep = wallUs - lastWall_[k];
    if (step < -options_.maxBackwardUs || step > wallStep + options_.maxForwardSlackUs) {
      rebaseOnto(lastDts_[k], lastWall_[k], dts, pts, wallUs);
    }
  }

  int64_t outDts = dts + offset_;
  int64_t outPts = pts + offset_;
  // A stream must never step back even by jitter the detector tolerates.
  if (seen_[k] && outDts <= lastDts_[k]) {
    outDts = lastDts_[k] + 1;
    outPts = std::max(outPts, outDts);
  }
  dts = outDts;
  pts = outPts;
  if (discontinuities_ == 0) liveLead_ = std::max(liveLead_, outDts - wallUs);

  if (kind == MediaKind::Video) videoFrames_.add(outDts);
  seen_[k] = true;
  lastDts_[k] = outDts;
  lastWall_[k] = wallUs;
  lastDtsAny_ = std::max(lastDtsAny_, outDts);
  lastWallAny_ = wallUs;
  lastEnd_ = std::max(lastEnd_, outDts + std::max<int64_t>(durationUs, 0));
  if (kind == MediaKind::Video) lastVideoPtsMax_ = std::max(lastVideoPtsMax_, outPts);
  return true;
}

}  // namespace venuecast::ingest
