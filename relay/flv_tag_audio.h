#pragma once
// Audio details of FLV tags: the sound-format byte that starts every audio tag (as FFmpeg 5.1's flvenc.c
// get_audio_flags computes it from the codec parameters), and ADTS handling for AAC. FLV carries raw AAC
// frames plus an AudioSpecificConfig sequence header; sources such as MPEG-TS deliver ADTS frames, whose 7 or
// 9-byte header is skipped (the payload itself is not copied) and can yield the AudioSpecificConfig.
extern "C" {
#include <libavcodec/avcodec.h>
}
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace venuecast::relay {

class FlvTagAudio {
 public:
  struct Adts {
    std::size_t headerSize = 0;   // 7, or 9 with CRC
    std::size_t frameSize = 0;    // header included
    uint8_t objectType = 0;       // profile + 1 (2 = AAC LC)
    uint8_t sampleRateIndex = 0;
    uint8_t channelConfig = 0;    // 0: channels given by a PCE in the stream
  };

  // The first byte of every audio tag body (sound format, rate, size, channels), or nullopt with `error` for
  // codecs or rates FLV cannot carry (the same cases flvenc refuses).
  static std::optional<uint8_t> soundFormat(const AVCodecParameters& par, std::string& error);

  // The ADTS header at the start of `data`, if there is a valid one (syncword, layer 0, sane lengths).
  static std::optional<Adts> parseAdts(std::span<const uint8_t> data);
  // Whether data starts with an ADTS syncword at all (what flvenc checks before complaining).
  static bool looksLikeAdts(std::span<const uint8_t> data);
  // The 2-byte AudioSpecificConfig equivalent to an ADTS header (what aac_adtstoasc derives); nullopt when the
  // channel layout is in a PCE (channelConfig 0), which this does not parse.
  static std::optional<std::vector<uint8_t>> audioSpecificConfig(const Adts& adts);
};

}  // namespace venuecast::relay
