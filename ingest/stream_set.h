#pragma once
// The codec parameters of one source session: at most one video and one audio stream (what FLV carries).
#include <cstdint>
#include <memory>
#include <string>

#include "ingest/av_ptr.h"

namespace venuecast::ingest {

enum class MediaKind : uint8_t { Video = 0, Audio = 1 };
inline constexpr int kMediaKinds = 2;

struct StreamSet {
  AvCodecParametersPtr video;  // null when the source has no video
  AvCodecParametersPtr audio;  // null when the source has no audio
  uint64_t generation = 0;     // bumps on every change, so consumers can tell sets apart cheaply

  const AVCodecParameters* get(MediaKind kind) const {
    return kind == MediaKind::Video ? video.get() : audio.get();
  }
  // Same tracks and codecs: an output can carry on (new extradata goes in-band), else it must reopen.
  bool sameLayout(const StreamSet& other) const;
  // "h264 High 1280x720, aac 48000 Hz 2ch": for logs.
  std::string describe() const;
};

using StreamSetPtr = std::shared_ptr<const StreamSet>;

}  // namespace venuecast::ingest
