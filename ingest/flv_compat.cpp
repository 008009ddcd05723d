#include "ingest/flv_compat.h"

extern "C" {
#include <libavcodec/avcodec.h>
}
#include <algorithm>
#include <array>

namespace venuecast::ingest {
namespace {

// flvenc.c flv_video_codec_ids / flv_audio_codec_ids in FFmpeg 5.1.
constexpr std::array kVideo = {AV_CODEC_ID_FLV1,     AV_CODEC_ID_H263,  AV_CODEC_ID_MPEG4,
                               AV_CODEC_ID_FLASHSV,  AV_CODEC_ID_FLASHSV2, AV_CODEC_ID_VP6F,
                               AV_CODEC_ID_VP6,      AV_CODEC_ID_VP6A,  AV_CODEC_ID_H264};
constexpr std::array kAudio = {AV_CODEC_ID_MP3,       AV_CODEC_ID_PCM_U8,    AV_CODEC_ID_PCM_S16BE,
                               AV_CODEC_ID_PCM_S16LE, AV_CODEC_ID_ADPCM_SWF, AV_CODEC_ID_AAC,
                               AV_CODEC_ID_NELLYMOSER, AV_CODEC_ID_PCM_MULAW, AV_CODEC_ID_PCM_ALAW,
                               AV_CODEC_ID_SPEEX};

template <size_t N>
bool contains(const std::array<AVCodecID, N>& ids, AVCodecID id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

}  // namespace

std::string flvIncompatibility(const AVCodecParameters& par) {
  const bool video = par.codec_type == AVMEDIA_TYPE_VIDEO;
  const char* kind = video ? "video" : "audio";
  const bool ok = video ? contains(kVideo, par.codec_id) : contains(kAudio, par.codec_id);
  if (ok) return {};
  std::string name = par.codec_id == AV_CODEC_ID_NONE ? "unknown (FLV codec tag " + std::to_string(par.codec_tag) + ")"
                                                      : std::string(avcodec_get_name(par.codec_id));
  return std::string(kind) + " codec " + name + " cannot be carried over RTMP/FLV by FFmpeg 5.1 (use " +
         (video ? "H.264" : "AAC") + " at the venue encoder)";
}

}  // namespace venuecast::ingest
