#pragma once
// An output's own timeline, in the FLV time base (ms). The output owns it, not the source: it starts at
// 0 on the output's first packet (a keyframe) and keeps each stream's DTS strictly increasing with
// PTS >= DTS after the ms rounding. Later, switching an output between sources rebases here.
#include <array>
#include <cstdint>

#include "ingest/stream_set.h"

namespace venuecast::relay {

class OutputTimeline {
 public:
  // Maps a venue-timeline packet (µs) to output ms. Returns false for a packet from before the
  // output's start (e.g. audio interleaved just ahead of the first keyframe): drop it.
  bool map(ingest::MediaKind kind, int64_t dtsUs, int64_t ptsUs, int64_t& dtsMs, int64_t& ptsMs);

 private:
  bool started_ = false;
  int64_t baseUs_ = 0;
  std::array<int64_t, ingest::kMediaKinds> lastDts_{-1, -1};
};

}  // namespace venuecast::relay
