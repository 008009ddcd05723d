#pragma once
// Maps a source's timestamps onto one continuous venue timeline (microseconds) that survives source
// reconnects, in-band jumps and 32-bit wraps. One offset applies to all streams of a session, so A/V
// sync is kept exactly; at every discontinuity the new offset continues the timeline where it stopped,
// advanced by the wall-clock time that really passed, so the timeline tracks real time (never the
// "previous + 1" clamp that leaves a relay seconds behind live). Every rebase ends a little ahead of real time (the
// frame grid, the B-frame delay, audio ahead of video); so that a day of switches does not add that up to seconds
// ahead of live, a rebase that finds the timeline ahead of where it ran live takes the lead out of its gap.
#include <array>
#include <cstdint>

#include "ingest/frame_rate_meter.h"
#include "ingest/stream_set.h"

namespace venuecast::ingest {

class TimestampNormalizer {
 public:
  struct Options {
    int64_t maxBackwardUs = 500'000;      // a step back larger than this is a discontinuity
    int64_t maxForwardSlackUs = 2'000'000;  // a step ahead of the wall clock by more than this is one too
    int64_t minGapUs = 1'000;             // timeline advance across a discontinuity, at least
  };

  TimestampNormalizer() = default;
  explicit TimestampNormalizer(Options options) : options_(options) {}

  // The next packet starts a new source session: rebase on it.
  void newSession() { rebase_ = true; }

  // dts/pts/duration in µs as the source gave them (pts or dts may be AV_NOPTS_VALUE); wallUs is a
  // steady clock. Rewrites dts/pts in place; returns false if the packet has no usable timestamp.
  bool normalize(MediaKind kind, int64_t& dts, int64_t& pts, int64_t durationUs, int64_t wallUs);

  int64_t discontinuities() const { return discontinuities_; }

 private:
  void rebaseOnto(int64_t referenceDts, int64_t referenceWall, int64_t sourceDts, int64_t sourcePts, int64_t wallUs);

  Options options_{};
  bool started_ = false;
  bool rebase_ = true;
  int64_t offset_ = 0;
  std::array<int64_t, kMediaKinds> lastDts_{};
  std::array<int64_t, kMediaKinds> lastWall_{};
  std::array<bool, kMediaKinds> seen_{};
  int64_t lastEnd_ = 0;     // max(out dts + duration) over all streams
  int64_t lastDtsAny_ = 0;  // latest out dts over all streams
  int64_t lastVideoPtsMax_ = 0;  // latest video pts sent
  FrameRateMeter videoFrames_;  // the frame grid of the current session
  int64_t lastWallAny_ = 0;
  int64_t discontinuities_ = 0;
  // How far the timeline runs ahead of the wall clock when the venue is live: the largest (dts - wall) of the first
  // session, whose packets that arrived promptly show it. Rebases never go back below it.
  int64_t liveLead_ = INT64_MIN;
};

}  // namespace venuecast::ingest
