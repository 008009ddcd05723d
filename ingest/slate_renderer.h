#pragma once
// Renders a venue's standby slate: a dark card with the venue's name and "back shortly / 信号中断，马上回来" at the
// venue's size and frame rate (H.264 by libx264), with silence at its sample rate and channels (AAC), so that a
// platform sees the format it saw before. The card is drawn once (libavfilter's drawtext) and encoded as one
// two-second GOP, which loops from its keyframe; silence needs no more than the same few AAC frames. Blocking:
// a fraction of a second at 1080p, so callers render once per format and keep the clip.
#include <string>

#include "ingest/slate_clip.h"

namespace venuecast::ingest {

// Throws std::runtime_error (with libav's text) when an encoder or the font is unavailable.
SlateClipPtr renderSlate(const SlateFormat& format, const std::string& title);

}  // namespace venuecast::ingest
