#include "relay/flv_tag_audio.h"

namespace venuecast::relay {
namespace {

// FLV audio tag header bits (libavformat/flv.h).
constexpr uint8_t kStereo = 1;
constexpr uint8_t kSize16 = 1 << 1;
constexpr uint8_t kRate11k = 1 << 2, kRate22k = 2 << 2, kRate44k = 3 << 2;
constexpr uint8_t kPcm = 0 << 4, kAdpcm = 1 << 4, kMp3 = 2 << 4, kPcmLe = 3 << 4, kNelly16kMono = 4 << 4,
                  kNelly8kMono = 5 << 4, kNelly = 6 << 4, kAlaw = 7 << 4, kMulaw = 8 << 4, kAac = 10 << 4,
                  kSpeex = 11 << 4;

}  // namespace

// Mirrors flvenc.c get_audio_flags: AAC and Speex have fixed flags; the others take rate, size and
// channel bits from the codec parameters, with 48 kHz allowed only for MP3 (signalled as 44.1 kHz).
std::optional<uint8_t> FlvTagAudio::soundFormat(const AVCodecParameters& par, std::string& error) {
  const int channels = par.ch_layout.nb_channels;
  if (par.codec_id == AV_CODEC_ID_AAC) return kAac | kRate44k | kSize16 | kStereo;
  if (par.codec_id == AV_CODEC_ID_SPEEX) {
    if (par.sample_rate != 16000 || channels != 1) {
      error = "FLV carries Speex only as 16 kHz mono";
      return std::nullopt;
    }
    return kSpeex | kRate11k | kSize16;
  }
  uint8_t flags = par.bits_per_coded_sample == 16 ? kSize16 : 0;
  const bool mp3 = par.codec_id == AV_CODEC_ID_MP3;
  bool rateOk = true;
  switch (par.sample_rate) {
    case 48000: rateOk = mp3; flags |= kRate44k; break;
    case 44100: flags |= kRate44k; break;
    case 22050: flags |= kRate22k; break;
    case 11025: flags |= kRate11k; break;
    case 16000:
    case 8000:
    case 5512: rateOk = !mp3; break;  // "special" rate 0: Nellymoser / G.711 define their own
    default: rateOk = false;
  }
  if (!rateOk) {
    error = "FLV does not support a sample rate of " + std::to_string(par.sample_rate) + " Hz for " +
            avcodec_get_name(par.codec_id);
    return std::nullopt;
  }
  if (channels > 1) flags |= kStereo;
  switch (par.codec_id) {
    case AV_CODEC_ID_MP3: return flags | kMp3 | kSize16;
    case AV_CODEC_ID_PCM_U8: return flags | kPcm;  // 8-bit: the size bit stays as computed, like flvenc
    case AV_CODEC_ID_PCM_S16BE: return flags | kPcm | kSize16;
    case AV_CODEC_ID_PCM_S16LE: return flags | kPcmLe | kSize16;
    case AV_CODEC_ID_ADPCM_SWF: return flags | kAdpcm | kSize16;
    case AV_CODEC_ID_NELLYMOSER:
      return flags | kSize16 | (par.sample_rate == 8000 ? kNelly8kMono : par.sample_rate == 16000 ? kNelly16kMono : kNelly);
    case AV_CODEC_ID_PCM_MULAW: return kMulaw | kSize16;  // rate "special", mono: fixed by the format
    case AV_CODEC_ID_PCM_ALAW: return kAlaw | kSize16;
    default:
      error = std::string("audio codec ") + avcodec_get_name(par.codec_id) + " cannot be carried in FLV";
      return std::nullopt;
  }
}

bool FlvTagAudio::looksLikeAdts(std::span<const uint8_t> d) {
  return d.size() > 2 && ((uint32_t{d[0]} << 8 | d[1]) & 0xFFF0) == 0xFFF0;
}

std::optional<FlvTagAudio::Adts> FlvTagAudio::parseAdts(std::span<const uint8_t> d) {
  if (d.size() < 7 || d[0] != 0xFF || (d[1] & 0xF6) != 0xF0) return std::nullopt;  // syncword, layer 0
  Adts a;
  a.headerSize = (d[1] & 1) ? 7 : 9;  // protection_absent
  a.objectType = static_cast<uint8_t>((d[2] >> 6) + 1);
  a.sampleRateIndex = (d[2] >> 2) & 0x0F;
  a.channelConfig = static_cast<uint8_t>(((d[2] & 1) << 2) | (d[3] >> 6));
  a.frameSize = (std::size_t{d[3] & 3u} << 11) | (std::size_t{d[4]} << 3) | (d[5] >> 5);
  if (a.sampleRateIndex > 12 || a.frameSize < a.headerSize || d.size() < a.headerSize) return std::nullopt;
  return a;
}

std::optional<std::vector<uint8_t>> FlvTagAudio::audioSpecificConfig(const Adts& a) {
  if (a.channelConfig == 0) return std::nullopt;
  // object type (5 bits), sampling index (4), channel config (4), then three zero flags: 1024-sample frames,
  // no core coder dependency, no extension.
  const uint32_t bits = (uint32_t{a.objectType} << 11) | (uint32_t{a.sampleRateIndex} << 7) | (uint32_t{a.channelConfig} << 3);
  return std::vector<uint8_t>{static_cast<uint8_t>(bits >> 8), static_cast<uint8_t>(bits)};
}

}  // namespace venuecast::relay
