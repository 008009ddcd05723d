#include "ingest/source_delivery.h"

#include "ingest/h264_parameter_sets.h"

extern "C" {
#include <libavutil/mathematics.h>
}

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>

namespace venuecast::ingest {
namespace {

int64_t steadyUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t toUs(int64_t ts, AVRational tb) { return ts == AV_NOPTS_VALUE ? ts : av_rescale_q(ts, tb, AV_TIME_BASE_Q); }

StreamSetPtr copyStreams(const StreamSet& base, uint64_t generation) {
  auto next = std::make_shared<StreamSet>();
  if (base.video) next->video = copyParameters(base.video.get());
  if (base.audio) next->audio = copyParameters(base.audio.get());
  next->generation = generation;
  return next;
}

}  // namespace

StreamSetPtr withExtradata(const StreamSet& base, MediaKind kind, const uint8_t* data, size_t size,
                           uint64_t generation) {
  auto next = copyStreams(base, generation);
  AVCodecParameters* par = kind == MediaKind::Video ? next->video.get() : next->audio.get();
  if (par) {
    av_freep(&par->extradata);
    par->extradata = static_cast<uint8_t*>(av_mallocz(size + AV_INPUT_BUFFER_PADDING_SIZE));
    if (par->extradata) {
      std::memcpy(par->extradata, data, size);
      par->extradata_size = static_cast<int>(size);
    } else {
      par->extradata_size = 0;
    }
  }
  return next;
}

namespace {

// Makes an output that already carries this venue send the new session's sequence header
// (flvenc writes one when NEW_EXTRADATA differs from what it sent last, and ignores it otherwise).
void attachExtradata(AVPacket* pkt, const AVCodecParameters* par) {
  if (!par || par->extradata_size <= 0) return;
  if (av_packet_get_side_data(pkt, AV_PKT_DATA_NEW_EXTRADATA, nullptr)) return;
  uint8_t* dst = av_packet_new_side_data(pkt, AV_PKT_DATA_NEW_EXTRADATA, par->extradata_size);
  if (dst) std::memcpy(dst, par->extradata, par->extradata_size);
}

}  // namespace

void SourceDelivery::inBandParameterSets(AvPacketPtr& pkt) {
  const AVCodecParameters* par = current_->video.get();
  if (!par || par->codec_id != AV_CODEC_ID_H264 || par->extradata_size <= 0) return;
  const std::span<const uint8_t> extradata(par->extradata, static_cast<size_t>(par->extradata_size));
  const bool changed = !sentVideoExtradata_.empty() &&
                       !std::equal(extradata.begin(), extradata.end(), sentVideoExtradata_.begin(), sentVideoExtradata_.end());
  sentVideoExtradata_.assign(extradata.begin(), extradata.end());
  if (!changed) return;
  const auto sets = h264ParameterSets(extradata, h264PayloadIsAnnexB({pkt->data, static_cast<size_t>(pkt->size)}));
  if (sets.empty()) return;
  // One copy of one keyframe per switch, before the packet is shared.
  AvPacketPtr out = makePacket();
  if (av_new_packet(out.get(), static_cast<int>(sets.size()) + pkt->size) < 0) return;
  std::memcpy(out->data, sets.data(), sets.size());
  std::memcpy(out->data + sets.size(), pkt->data, static_cast<size_t>(pkt->size));
  if (av_packet_copy_props(out.get(), pkt.get()) < 0) return;
  pkt = std::move(out);
}

StreamSetPtr SourceDelivery::beginSession(const StreamSet& streams) {
  current_ = copyStreams(streams, ++generation_);
  needHeader_[0] = needHeader_[1] = true;
  started_ = false;
  normalizer_.newSession();
  sink_.onStreams(current_);
  return current_;
}

void SourceDelivery::deliver(MediaKind kind, AvPacketPtr& pkt, AVRational tb) {
  size_t sideSize = 0;
  if (const uint8_t* side = av_packet_get_side_data(pkt.get(), AV_PKT_DATA_NEW_EXTRADATA, &sideSize)) {
    current_ = withExtradata(*current_, kind, side, sideSize, ++generation_);
    sink_.onStreams(current_);
  }

  // A session starts on a keyframe: a relay that joined mid-GOP must not hand outputs undecodable frames.
  const bool key = kind == MediaKind::Video ? (pkt->flags & AV_PKT_FLAG_KEY) != 0 : !current_->video;
  if (!started_ && !key) {
    av_packet_unref(pkt.get());
    return;
  }
  started_ = true;
  if (needHeader_[static_cast<int>(kind)]) {
    if (kind == MediaKind::Video) inBandParameterSets(pkt);
    attachExtradata(pkt.get(), current_->get(kind));
    needHeader_[static_cast<int>(kind)] = false;
  }

  int64_t dts = toUs(pkt->dts, tb);
  int64_t pts = toUs(pkt->pts, tb);
  const int64_t duration = pkt->duration > 0 ? av_rescale_q(pkt->duration, tb, AV_TIME_BASE_Q) : 0;
  const int64_t now = steadyUs();
  if (!normalizer_.normalize(kind, dts, pts, duration, now)) {
    av_packet_unref(pkt.get());
    return;
  }
  pkt->dts = dts;
  pkt->pts = pts;
  pkt->duration = duration;
  pkt->pos = -1;
  pkt->time_base = AV_TIME_BASE_Q;

  auto packet = std::make_shared<Packet>();
  packet->kind = kind;
  packet->key = key;
  packet->streams = current_;
  packet->receivedUs = now;
  packet->av = std::move(pkt);
  sink_.onPacket(std::move(packet));
}

std::string SourceOutput::deliver(FlvPacketReader& reader, rtmp::RtmpChunkReader::Message& m) {
  auto r = reader.read(std::move(m));
  if (r.kind == FlvPacketReader::Result::Kind::Error) return r.error;
  if (r.kind != FlvPacketReader::Result::Kind::Packet) return {};
  if (r.media == MediaKind::Audio) {
    // libavformat gives AAC packets their frame duration; the timeline uses it to continue across an outage.
    const int rate = reader.audioSampleRate();
    r.packet->duration = rate > 0 ? int64_t{1024} * 1000 / rate : 0;
  }
  deliver(r.media, r.packet, AVRational{1, 1000});
  return {};
}

}  // namespace venuecast::ingest
