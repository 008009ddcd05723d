#include "ingest/flv_packet_reader.h"

#include <cstring>
#include <new>

namespace venuecast::ingest {

namespace {

constexpr uint8_t kAudio = 8, kVideo = 9;
constexpr uint8_t kCodecAvc = 7, kSoundAac = 10;
constexpr uint8_t kKeyFrame = 1;

std::vector<uint8_t> bytes(const AVCodecParameters* par) {
  if (!par || !par->extradata || par->extradata_size <= 0) return {};
  return {par->extradata, par->extradata + par->extradata_size};
}

}  // namespace

bool FlvPacketReader::supports(const StreamSet& s) {
  if (!s.video && !s.audio) return false;
  return (!s.video || s.video->codec_id == AV_CODEC_ID_H264) && (!s.audio || s.audio->codec_id == AV_CODEC_ID_AAC);
}

FlvPacketReader::FlvPacketReader(const StreamSet& streams)
    : hasVideo_(streams.video != nullptr),
      hasAudio_(streams.audio != nullptr),
      audioSampleRate_(streams.audio ? streams.audio->sample_rate : 0) {
  extradata_[static_cast<int>(MediaKind::Video)] = bytes(streams.video.get());
  extradata_[static_cast<int>(MediaKind::Audio)] = bytes(streams.audio.get());
}

FlvPacketReader::Result FlvPacketReader::read(rtmp::RtmpChunkReader::Message&& m) {
  if (m.payload.empty()) return {};
  if (m.type == kVideo && hasVideo_) return video(m.payload, m.timestamp);
  if (m.type == kAudio && hasAudio_) return audio(m.payload, m.timestamp);
  return {};  // a stream the session was not opened with: flvdec would add a stream we do not carry
}

FlvPacketReader::Result FlvPacketReader::packet(MediaKind kind, std::vector<uint8_t>& payload, std::size_t offset,
                                                int64_t dts, int64_t pts, bool key, std::vector<uint8_t>& pendingExtradata) {
  Result r;
  r.media = kind;
  r.packet = makePacket();
  const std::size_t size = payload.size() - offset;
  // The payload becomes the packet's buffer, padded as libav expects (the chunk reader left room for it).
  auto* holder = new (std::nothrow) std::vector<uint8_t>(std::move(payload));
  if (!holder || !r.packet) {
    delete holder;
    return {Result::Kind::Error, kind, {}, "out of memory"};
  }
  holder->resize(holder->size() + AV_INPUT_BUFFER_PADDING_SIZE, 0);
  AVBufferRef* buf = av_buffer_create(
      holder->data(), holder->size(), [](void* opaque, uint8_t*) { delete static_cast<std::vector<uint8_t>*>(opaque); },
      holder, AV_BUFFER_FLAG_READONLY);
  if (!buf) {
    delete holder;
    return {Result::Kind::Error, kind, {}, "out of memory"};
  }
  r.packet->buf = buf;
  r.packet->data = buf->data + offset;
  r.packet->size = static_cast<int>(size);
  r.packet->dts = dts;
  r.packet->pts = pts;
  r.packet->time_base = AVRational{1, 1000};
  if (key) r.packet->flags |= AV_PKT_FLAG_KEY;
  if (!pendingExtradata.empty()) {
    uint8_t* side = av_packet_new_side_data(r.packet.get(), AV_PKT_DATA_NEW_EXTRADATA, pendingExtradata.size());
    if (side) std::memcpy(side, pendingExtradata.data(), pendingExtradata.size());
    pendingExtradata.clear();
  }
  r.kind = Result::Kind::Packet;
  return r;
}

FlvPacketReader::Result FlvPacketReader::video(std::vector<uint8_t>& p, uint32_t timestamp) {
  if ((p[0] & 0x0F) != kCodecAvc) return {Result::Kind::Error, MediaKind::Video, {}, "video codec changed (FLV codec id " + std::to_string(p[0] & 0x0F) + ")"};
  if (p.size() < 5) return {};  // truncated: skipped, as flvdec resyncs past bad tags
  const bool key = (p[0] >> 4) == kKeyFrame;
  const uint8_t avcPacketType = p[1];
  // Composition time: signed 24 bit.
  const int32_t cts = static_cast<int32_t>((uint32_t{p[2]} << 16 | uint32_t{p[3]} << 8 | p[4]) << 8) >> 8;
  const int64_t dts = timestamp;
  const int v = static_cast<int>(MediaKind::Video);
  if (avcPacketType == 0) {
    std::vector<uint8_t> header(p.begin() + 5, p.end());
    if (header != extradata_[v]) {
      extradata_[v] = header;
      pending_[v] = std::move(header);
    }
    return {};
  }
  if (p.size() == 5) return {};  // end of sequence, or empty: flvdec skips empty packets
  return packet(MediaKind::Video, p, 5, dts, dts + cts, key, pending_[v]);
}

FlvPacketReader::Result FlvPacketReader::audio(std::vector<uint8_t>& p, uint32_t timestamp) {
  if ((p[0] >> 4) != kSoundAac) return {Result::Kind::Error, MediaKind::Audio, {}, "audio codec changed (FLV sound format " + std::to_string(p[0] >> 4) + ")"};
  if (p.size() < 2) return {};
  const int a = static_cast<int>(MediaKind::Audio);
  if (p[1] == 0) {
    std::vector<uint8_t> header(p.begin() + 2, p.end());
    if (header != extradata_[a]) {
      extradata_[a] = header;
      pending_[a] = std::move(header);
    }
    return {};
  }
  if (p.size() == 2) return {};
  return packet(MediaKind::Audio, p, 2, timestamp, timestamp, true, pending_[a]);
}

}  // namespace venuecast::ingest
