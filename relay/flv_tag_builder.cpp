#include "relay/flv_tag_builder.h"

#include <cstring>
#include <span>

#include "relay/flv_tag_audio.h"
#include "relay/flv_tag_h264.h"
#include "rtmp/rtmp_amf0.h"

namespace venuecast::relay {
namespace {

constexpr uint8_t kKeyFrame = 1 << 4, kInterFrame = 2 << 4;
constexpr uint8_t kCodecFlv1 = 2, kCodecH264 = 7;
constexpr uint8_t kAvcSequenceHeader = 0, kAvcNalu = 1;
constexpr uint8_t kAacSequenceHeader = 0, kAacRaw = 1;

std::span<const uint8_t> bytesOf(const AVCodecParameters* par) {
  return par && par->extradata ? std::span<const uint8_t>(par->extradata, static_cast<std::size_t>(par->extradata_size))
                               : std::span<const uint8_t>();
}

// The packet's payload stays where the demuxer put it: a reference on its AVBuffer travels with the message.
std::shared_ptr<const void> payloadOwner(const AVPacket& pkt) {
  if (!pkt.buf) return nullptr;
  AVBufferRef* ref = av_buffer_ref(pkt.buf);
  if (!ref) return nullptr;
  return std::shared_ptr<const void>(ref, [](AVBufferRef* r) { av_buffer_unref(&r); });
}

// A message whose body is prefix + a new buffer (converted or copied payload).
void ownPayload(rtmp::RtmpMediaMessage& m, std::vector<uint8_t> bytes) {
  auto holder = std::make_shared<const std::vector<uint8_t>>(std::move(bytes));
  m.payload = std::span<const uint8_t>(holder->data(), holder->size());
  m.owner = std::move(holder);
}

rtmp::RtmpAmf0::Property number(const char* key, double v) { return {key, rtmp::RtmpAmf0::Value::makeNumber(v)}; }

}  // namespace

FlvTagBuilder::FlvTagBuilder(const AVCodecParameters* video, const AVCodecParameters* audio, double frameRate,
                             std::string encoder)
    : video_(video), audio_(audio), frameRate_(frameRate), encoder_(std::move(encoder)) {
  if (video_ && video_->codec_id != AV_CODEC_ID_H264 && video_->codec_id != AV_CODEC_ID_FLV1) {
    unsupported_ = std::string("video codec ") + avcodec_get_name(video_->codec_id) + " cannot be carried in FLV";
  }
  if (audio_ && unsupported_.empty()) {
    if (auto flags = FlvTagAudio::soundFormat(*audio_, unsupported_)) soundFormat_ = *flags;
  }
  const auto v = bytesOf(video_), a = bytesOf(audio_);
  videoExtradata_.assign(v.begin(), v.end());
  audioExtradata_.assign(a.begin(), a.end());
  audioConfigPending_ = audio_ && audio_->codec_id == AV_CODEC_ID_AAC && audioExtradata_.empty();
}

std::optional<rtmp::RtmpMediaMessage> FlvTagBuilder::endOfSequence(uint32_t timestamp) const {
  if (!video_ || video_->codec_id != AV_CODEC_ID_H264) return std::nullopt;
  constexpr uint8_t kAvcEndOfSequence = 2;
  return rtmp::RtmpMediaMessage::owning(rtmp::RtmpMediaMessage::kVideo, timestamp,
                                  {kKeyFrame | kCodecH264, kAvcEndOfSequence, 0, 0, 0});
}

rtmp::RtmpMediaMessage FlvTagBuilder::metadata(uint32_t timestamp) const {
  std::vector<rtmp::RtmpAmf0::Property> props;
  if (video_) {
    props.push_back(number("width", video_->width));
    props.push_back(number("height", video_->height));
    props.push_back(number("videodatarate", static_cast<double>(video_->bit_rate) / 1024.0));
    if (frameRate_ > 0) props.push_back(number("framerate", frameRate_));
    props.push_back(number("videocodecid", video_->codec_id == AV_CODEC_ID_H264 ? kCodecH264 : kCodecFlv1));
  }
  if (audio_) {
    props.push_back(number("audiodatarate", static_cast<double>(audio_->bit_rate) / 1024.0));
    props.push_back(number("audiosamplerate", audio_->sample_rate));
    props.push_back(number("audiosamplesize", audio_->codec_id == AV_CODEC_ID_PCM_U8 ? 8 : 16));
    props.push_back({"stereo", rtmp::RtmpAmf0::Value::makeBoolean(audio_->ch_layout.nb_channels == 2)});
    props.push_back(number("audiocodecid", soundFormat_ >> 4));
  }
  if (!encoder_.empty()) props.push_back({"encoder", rtmp::RtmpAmf0::Value::makeString(encoder_)});
  // Over RTMP a script tag goes out as @setDataFrame(name, data): servers store it and hand it to players.
  std::vector<uint8_t> body;
  rtmp::RtmpAmf0::encodeString("@setDataFrame", body);
  rtmp::RtmpAmf0::encodeString("onMetaData", body);
  rtmp::RtmpAmf0::encode(rtmp::RtmpAmf0::Value::makeEcmaArray(std::move(props)), body);
  return rtmp::RtmpMediaMessage::owning(rtmp::RtmpMediaMessage::kData, timestamp, std::move(body));
}

bool FlvTagBuilder::sequenceHeader(AVMediaType kind, uint32_t ts, std::vector<rtmp::RtmpMediaMessage>& out,
                                   std::string& error) const {
  rtmp::RtmpMediaMessage m;
  m.timestamp = ts;
  if (kind == AVMEDIA_TYPE_VIDEO) {
    if (!video_ || video_->codec_id != AV_CODEC_ID_H264) return true;  // FLV1 has none
    std::vector<uint8_t> record;
    if (!FlvTagH264::avcc(videoExtradata_, record, error)) return false;
    m.type = rtmp::RtmpMediaMessage::kVideo;
    m.prefix = {kKeyFrame | kCodecH264, kAvcSequenceHeader, 0, 0, 0};
    m.prefixSize = 5;
    ownPayload(m, std::move(record));
  } else {
    if (!audio_ || audio_->codec_id != AV_CODEC_ID_AAC || audioExtradata_.empty()) return true;
    m.type = rtmp::RtmpMediaMessage::kAudio;
    m.prefix = {soundFormat_, kAacSequenceHeader};
    m.prefixSize = 2;
    ownPayload(m, audioExtradata_);
  }
  out.push_back(std::move(m));
  return true;
}

bool FlvTagBuilder::header(std::vector<rtmp::RtmpMediaMessage>& out, std::string& error, uint32_t timestamp) {
  if (!unsupported_.empty()) {
    error = unsupported_;
    return false;
  }
  out.push_back(metadata(timestamp));
  return sequenceHeader(AVMEDIA_TYPE_VIDEO, timestamp, out, error) &&
         sequenceHeader(AVMEDIA_TYPE_AUDIO, timestamp, out, error);
}

bool FlvTagBuilder::packet(const Frame& f, std::vector<rtmp::RtmpMediaMessage>& out, std::string& error) {
  const bool video = f.kind == AVMEDIA_TYPE_VIDEO;
  const AVCodecParameters* par = video ? video_ : audio_;
  if (!par || !f.packet || (!video && f.kind != AVMEDIA_TYPE_AUDIO)) {
    error = "packet for a stream the session does not have";
    return false;
  }
  if (!unsupported_.empty() || f.dtsMs < 0) {
    error = unsupported_.empty() ? "negative timestamp " + std::to_string(f.dtsMs) + " ms" : unsupported_;
    return false;
  }
  const auto ts = static_cast<uint32_t>(f.dtsMs);
  // New codec configuration in-band (a venue reconnect, a changed encoder): flvenc sends a new sequence header
  // right before the packet, so players and recorders switch at exactly this point.
  std::size_t sideSize = 0;
  const uint8_t* side = av_packet_get_side_data(f.packet, AV_PKT_DATA_NEW_EXTRADATA, &sideSize);
  if (side && sideSize > 0 && (par->codec_id == AV_CODEC_ID_H264 || par->codec_id == AV_CODEC_ID_AAC)) {
    auto& current = video ? videoExtradata_ : audioExtradata_;
    if (current.size() != sideSize || std::memcmp(current.data(), side, sideSize) != 0) {
      current.assign(side, side + sideSize);
      if (!video) audioConfigPending_ = false;
      if (!sequenceHeader(f.kind, ts, out, error)) return false;
    }
  }
  rtmp::RtmpMediaMessage m;
  m.timestamp = ts;
  m.payload = std::span<const uint8_t>(f.packet->data, static_cast<std::size_t>(f.packet->size));
  m.owner = f.owner ? f.owner : payloadOwner(*f.packet);
  if (!m.owner) ownPayload(m, {m.payload.begin(), m.payload.end()});  // not refcounted: the one way to keep it
  if (!(video ? videoTag(f, m, error) : audioTag(f, ts, m, out, error))) return false;
  if (m.size() >= (1u << 24)) {  // the FLV/RTMP length fields have 24 bits; flvenc refuses these too
    error = "packet of " + std::to_string(m.size()) + " bytes is too large for FLV";
    return false;
  }
  out.push_back(std::move(m));
  return true;
}

bool FlvTagBuilder::videoTag(const Frame& f, rtmp::RtmpMediaMessage& m, std::string&) const {
  const uint8_t frameType = (f.packet->flags & AV_PKT_FLAG_KEY) ? kKeyFrame : kInterFrame;
  m.type = rtmp::RtmpMediaMessage::kVideo;
  if (video_->codec_id != AV_CODEC_ID_H264) {
    m.prefix[0] = frameType | kCodecFlv1;
    m.prefixSize = 1;
    return true;
  }
  // Composition time: signed 24 bits, truncated like flvenc's avio_wb24(pts - dts).
  const auto ct = static_cast<uint32_t>(f.ptsMs - f.dtsMs);
  m.prefix = {static_cast<uint8_t>(frameType | kCodecH264), kAvcNalu, static_cast<uint8_t>(ct >> 16),
              static_cast<uint8_t>(ct >> 8), static_cast<uint8_t>(ct)};
  m.prefixSize = 5;
  if (FlvTagH264::payloadIsAnnexB(m.payload, videoExtradata_)) ownPayload(m, FlvTagH264::annexBToAvcc(m.payload));
  return true;
}

bool FlvTagBuilder::audioTag(const Frame& f, uint32_t ts, rtmp::RtmpMediaMessage& m, std::vector<rtmp::RtmpMediaMessage>& out,
                             std::string& error) {
  if (m.payload.empty()) {
    error = "empty audio packet";  // flvenc refuses these too
    return false;
  }
  m.type = rtmp::RtmpMediaMessage::kAudio;
  m.prefix[0] = soundFormat_;
  m.prefixSize = 1;
  if (audio_->codec_id != AV_CODEC_ID_AAC) return true;
  m.prefix[1] = kAacRaw;
  m.prefixSize = 2;
  if (const auto adts = FlvTagAudio::parseAdts(m.payload)) {
    if (adts->frameSize != m.payload.size()) {
      error = "AAC packet with more or less than one ADTS frame";
      return false;
    }
    if (audioConfigPending_) {
      const auto asc = FlvTagAudio::audioSpecificConfig(*adts);
      if (!asc) {
        error = "AAC with its channel layout in a PCE and no extradata";
        return false;
      }
      audioExtradata_ = *asc;
      audioConfigPending_ = false;
      if (!sequenceHeader(f.kind, ts, out, error)) return false;
    }
    m.payload = m.payload.subspan(adts->headerSize);  // still the packet's buffer: no copy
  } else if (audioConfigPending_ || FlvTagAudio::looksLikeAdts(m.payload)) {
    error = audioConfigPending_ ? "AAC without AudioSpecificConfig" : "malformed ADTS header";
    return false;
  }
  return true;
}

}  // namespace venuecast::relay
