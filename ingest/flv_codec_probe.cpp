#include "ingest/flv_codec_probe.h"

#include "ingest/h264_parameter_sets.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <span>

namespace venuecast::ingest {

namespace {

constexpr uint8_t kAudio = 8, kVideo = 9;
constexpr uint8_t kCodecAvc = 7, kSoundAac = 10;

struct ParserDeleter {
  void operator()(AVCodecParserContext* p) const { av_parser_close(p); }
};

bool setExtradata(AVCodecContext* ctx, const uint8_t* data, std::size_t size) {
  ctx->extradata = static_cast<uint8_t*>(av_mallocz(size + AV_INPUT_BUFFER_PADDING_SIZE));
  if (!ctx->extradata) return false;
  std::memcpy(ctx->extradata, data, size);
  ctx->extradata_size = static_cast<int>(size);
  return true;
}

// What libavcodec's h264 parser reads of an AVCC keyframe: the NAL units up to the first slice and that slice's
// header (it stops after the first slice, and reads at most 1000 bytes of one). A 1080p keyframe is ~200 KB; copying
// and scanning all of it cost 2-3 ms of every venue's start (its time to first keyframe). The first slice is cut,
// its length field rewritten; anything else (Annex B, which some encoders put in FLV, or a broken chain of NAL
// lengths) is passed whole.
std::vector<uint8_t> headOfKeyframe(std::span<const uint8_t> frame, const std::vector<uint8_t>& avcc) {
  constexpr std::size_t kSliceHeaderBytes = 1000;
  const auto whole = [&] { return std::vector<uint8_t>(frame.begin(), frame.end()); };  // only when not cut
  if (avcc.size() < 5 || avcc[0] != 1 || h264PayloadIsAnnexB(frame)) return whole();
  const std::size_t lengthSize = (avcc[4] & 0x03) + 1;
  if (lengthSize != 4 && lengthSize != 2 && lengthSize != 1) return whole();
  std::size_t at = 0;
  while (at + lengthSize < frame.size()) {
    std::size_t nalSize = 0;
    for (std::size_t i = 0; i < lengthSize; ++i) nalSize = nalSize << 8 | frame[at + i];
    const std::size_t start = at + lengthSize;
    if (nalSize == 0 || nalSize > frame.size() - start) return whole();
    const int type = frame[start] & 0x1F;
    if (type == 1 || type == 5) {
      const std::size_t keep = std::min(nalSize, kSliceHeaderBytes);
      std::vector<uint8_t> head(frame.begin(), frame.begin() + static_cast<std::ptrdiff_t>(start + keep));
      for (std::size_t i = 0; i < lengthSize; ++i) head[at + i] = static_cast<uint8_t>(keep >> (8 * (lengthSize - 1 - i)));
      return head;
    }
    at = start + nalSize;
  }
  return whole();
}

}  // namespace

FlvCodecProbe::FlvCodecProbe(bool expectVideo, bool expectAudio, double videoKbps, double audioKbps)
    : expectVideo_(expectVideo), expectAudio_(expectAudio), videoKbps_(videoKbps), audioKbps_(audioKbps) {
  if (!expectVideo_ && !expectAudio_) state_ = State::NotNative;
}

FlvCodecProbe::State FlvCodecProbe::add(const rtmp::RtmpChunkReader::Message& m) {
  if (state_ != State::NeedMore || m.payload.empty()) return state_;
  if (m.type == kVideo && expectVideo_ && !videoPar_) video(m.payload);
  if (m.type == kAudio && expectAudio_ && !audioPar_) audio(m.payload);
  update();
  return state_;
}

void FlvCodecProbe::update() {
  if (state_ == State::NeedMore && (!expectVideo_ || videoPar_) && (!expectAudio_ || audioPar_)) state_ = State::Ready;
}

void FlvCodecProbe::video(const std::vector<uint8_t>& p) {
  if ((p[0] & 0x0F) != kCodecAvc) {
    state_ = State::NotNative;
    return;
  }
  if (p.size() < 5) return;
  if (p[1] == 0) {  // sequence header
    avcc_.assign(p.begin() + 5, p.end());
    return;
  }
  if (p[1] != 1 || (p[0] >> 4) != 1 || avcc_.empty()) return;  // wait for a keyframe after the header

  AvCodecContextPtr ctx(avcodec_alloc_context3(nullptr));
  std::unique_ptr<AVCodecParserContext, ParserDeleter> parser(av_parser_init(AV_CODEC_ID_H264));
  if (!ctx || !parser || !setExtradata(ctx.get(), avcc_.data(), avcc_.size())) return;
  ctx->codec_type = AVMEDIA_TYPE_VIDEO;
  ctx->codec_id = AV_CODEC_ID_H264;
  parser->flags |= PARSER_FLAG_COMPLETE_FRAMES;
  // The parser reads past the end by design: give it a padded copy, of what it reads only.
  std::vector<uint8_t> frame = headOfKeyframe({p.data() + 5, p.size() - 5}, avcc_);
  const auto size = frame.size();
  frame.resize(size + AV_INPUT_BUFFER_PADDING_SIZE, 0);
  uint8_t* out = nullptr;
  int outSize = 0;
  av_parser_parse2(parser.get(), ctx.get(), &out, &outSize, frame.data(), static_cast<int>(size), AV_NOPTS_VALUE,
                   AV_NOPTS_VALUE, 0);
  if (parser->width <= 0 || parser->height <= 0) return;  // not parseable: try the next keyframe

  AvCodecParametersPtr par(avcodec_parameters_alloc());
  if (!par) return;
  par->codec_type = AVMEDIA_TYPE_VIDEO;
  par->codec_id = AV_CODEC_ID_H264;
  par->width = parser->width;
  par->height = parser->height;
  par->format = parser->format;
  par->profile = ctx->profile;
  par->level = ctx->level;
  par->field_order = parser->field_order;
  par->bit_rate = static_cast<int64_t>(videoKbps_ * 1024);
  par->extradata = static_cast<uint8_t*>(av_mallocz(avcc_.size() + AV_INPUT_BUFFER_PADDING_SIZE));
  if (!par->extradata) return;
  std::memcpy(par->extradata, avcc_.data(), avcc_.size());
  par->extradata_size = static_cast<int>(avcc_.size());
  videoPar_ = std::move(par);
}

// AAC LC only (object type 2): its AudioSpecificConfig states rate and channels outright. HE-AAC and the rest
// may signal SBR implicitly (the real rate shows only when decoding), so libavformat probes those.
void FlvCodecProbe::audio(const std::vector<uint8_t>& p) {
  if ((p[0] >> 4) != kSoundAac) {
    state_ = State::NotNative;
    return;
  }
  if (p.size() < 4 || p[1] != 0) return;  // wait for the AudioSpecificConfig
  static constexpr int kRates[] = {96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350};
  static constexpr int kChannels[] = {0, 1, 2, 3, 4, 5, 6, 8};
  const int objectType = p[2] >> 3;
  const int rateIndex = ((p[2] & 0x07) << 1) | (p[3] >> 7);
  const int channelConfig = (p[3] >> 3) & 0x0F;
  if (objectType != 2 || rateIndex >= 13 || channelConfig == 0 || channelConfig >= 8) {
    state_ = State::NotNative;
    return;
  }
  AvCodecParametersPtr par(avcodec_parameters_alloc());
  if (!par) return;
  par->codec_type = AVMEDIA_TYPE_AUDIO;
  par->codec_id = AV_CODEC_ID_AAC;
  par->format = AV_SAMPLE_FMT_FLTP;  // what the AAC decoder gives, as find_stream_info reports
  par->sample_rate = kRates[rateIndex];
  av_channel_layout_default(&par->ch_layout, kChannels[channelConfig]);
  par->profile = FF_PROFILE_AAC_LOW;
  par->frame_size = 1024;
  par->bit_rate = static_cast<int64_t>(audioKbps_ * 1024);
  par->extradata = static_cast<uint8_t*>(av_mallocz(p.size() - 2 + AV_INPUT_BUFFER_PADDING_SIZE));
  if (!par->extradata) return;
  std::memcpy(par->extradata, p.data() + 2, p.size() - 2);
  par->extradata_size = static_cast<int>(p.size() - 2);
  audioPar_ = std::move(par);
}

StreamSetPtr FlvCodecProbe::streams() const {
  if (state_ != State::Ready) return nullptr;
  auto s = std::make_shared<StreamSet>();
  if (videoPar_) s->video = copyParameters(videoPar_.get());
  if (audioPar_) s->audio = copyParameters(audioPar_.get());
  return s;
}

}  // namespace venuecast::ingest
