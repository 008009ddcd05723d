#pragma once
// The SPS/PPS of an H.264 session laid out the way its packets carry NAL units, so they can go in-band at the head
// of the first keyframe after a source switch. A changed FLV sequence header reaches decoders as new extradata,
// but parsers that only read the stream (libavformat's h264 parser in every ffmpeg-based player and recorder, and
// platform ingests built on it) keep the parameter sets of the first session and misread the new one's slices.
#include <cstdint>
#include <span>
#include <vector>

namespace venuecast::ingest {

// `extradata` is an avcC record or Annex B SPS/PPS; the result has each parameter set behind a start code
// (annexB) or behind a big-endian length of the avcC's NAL length size (4 for Annex B extradata). Empty when the
// extradata holds no parameter set.
std::vector<uint8_t> h264ParameterSets(std::span<const uint8_t> extradata, bool annexB);

// A payload that starts with a start code and is not a chain of 4-byte NAL lengths ending at its end.
bool h264PayloadIsAnnexB(std::span<const uint8_t> payload);

}  // namespace venuecast::ingest
