#pragma once
// Builds relay packets without a network, for unit tests.
#include <memory>

#include "ingest/packet.h"

namespace venuecast::testing {

inline ingest::StreamSetPtr makeStreams(bool video = true, bool audio = true,
                                        AVCodecID videoCodec = AV_CODEC_ID_H264) {
  auto s = std::make_shared<ingest::StreamSet>();
  if (video) {
    s->video.reset(avcodec_parameters_alloc());
    s->video->codec_type = AVMEDIA_TYPE_VIDEO;
    s->video->codec_id = videoCodec;
  }
  if (audio) {
    s->audio.reset(avcodec_parameters_alloc());
    s->audio->codec_type = AVMEDIA_TYPE_AUDIO;
    s->audio->codec_id = AV_CODEC_ID_AAC;
  }
  return s;
}

inline ingest::PacketPtr makePacket(ingest::MediaKind kind, int64_t dtsUs, bool key, int size = 1000,
                                    ingest::StreamSetPtr streams = nullptr) {
  auto p = std::make_shared<ingest::Packet>();
  p->av = ingest::makePacket();
  av_new_packet(p->av.get(), size);
  p->av->dts = dtsUs;
  p->av->pts = dtsUs;
  p->kind = kind;
  p->key = key;
  p->streams = streams ? streams : makeStreams();
  return p;
}

inline ingest::PacketPtr video(int64_t dtsMs, bool key = false, int size = 1000) {
  return makePacket(ingest::MediaKind::Video, dtsMs * 1000, key, size);
}
inline ingest::PacketPtr audio(int64_t dtsMs, int size = 100) {
  return makePacket(ingest::MediaKind::Audio, dtsMs * 1000, false, size);
}

}  // namespace venuecast::testing
