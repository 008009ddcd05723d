#pragma once
// Which codecs an FLV/RTMP output can carry with FFmpeg 5.1's flvenc (no HEVC, AV1 or Opus: those need
// enhanced RTMP, which 5.1 lacks). Checked on the source so a venue is refused with a clear reason
// instead of producing a silent black or mute output.
#include <string>

extern "C" {
#include <libavcodec/codec_par.h>
}

namespace venuecast::ingest {

// Empty if `par` can go into FLV, else the reason, e.g. "video codec hevc cannot be carried over RTMP/FLV ...".
std::string flvIncompatibility(const AVCodecParameters& par);

}  // namespace venuecast::ingest
