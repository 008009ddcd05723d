// FlvCodecProbe against its reference, avformat_find_stream_info on the same messages as an FLV stream: a real
// H.264 keyframe (libx264, 160x90 High) and an AAC configuration (LC, 48 kHz stereo) must give
// the same codec, size, profile, level, pixel format, sample rate, channels and extradata.
#include "ingest/flv_codec_probe.h"

#include <gtest/gtest.h>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/imgutils.h>
}

#include "ingest/flv_stream_writer.h"
#include "tests/unit/support/flv_demux.h"

namespace venuecast::ingest {
namespace {

using Message = rtmp::RtmpChunkReader::Message;
using Bytes = std::vector<uint8_t>;

struct CodecDeleter {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
using CodecPtr = std::unique_ptr<AVCodecContext, CodecDeleter>;

// libx264 through libavcodec emits Annex B even with global headers; FLV from OBS or FFmpeg's muxer carries AVCC
// (each NAL unit behind its 4-byte length).
Bytes annexBToAvcc(const uint8_t* data, std::size_t size) {
  std::vector<std::pair<std::size_t, std::size_t>> nals;  // start, end
  std::size_t i = 0, start = std::string::npos;
  while (i + 3 <= size) {
    if (data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1) {
      if (start != std::string::npos) {
        std::size_t end = i;
        while (end > start && data[end - 1] == 0) --end;
        nals.emplace_back(start, end);
      }
      start = i + 3;
      i += 3;
    } else {
      ++i;
    }
  }
  if (start != std::string::npos) nals.emplace_back(start, size);
  Bytes out;
  for (const auto& [b, e] : nals) {
    const auto n = static_cast<uint32_t>(e - b);
    out.insert(out.end(), {static_cast<uint8_t>(n >> 24), static_cast<uint8_t>(n >> 16), static_cast<uint8_t>(n >> 8),
                           static_cast<uint8_t>(n)});
    out.insert(out.end(), data + b, data + e);
  }
  return out;
}

// The avcC record for Annex B SPS + PPS (as FFmpeg's FLV muxer writes it).
Bytes avcDecoderConfiguration(const uint8_t* data, std::size_t size) {
  const Bytes nals = annexBToAvcc(data, size);
  Bytes sps, pps;
  for (std::size_t at = 0; at + 4 <= nals.size();) {
    const std::size_t n = std::size_t{nals[at]} << 24 | std::size_t{nals[at + 1]} << 16 | std::size_t{nals[at + 2]} << 8 | nals[at + 3];
    const Bytes nal(nals.begin() + static_cast<long>(at + 4), nals.begin() + static_cast<long>(at + 4 + n));
    if (!nal.empty() && (nal[0] & 0x1F) == 7) sps = nal;
    if (!nal.empty() && (nal[0] & 0x1F) == 8) pps = nal;
    at += 4 + n;
  }
  if (sps.size() < 4 || pps.empty()) return {};
  Bytes out = {1, sps[1], sps[2], sps[3], 0xFF, 0xE1, static_cast<uint8_t>(sps.size() >> 8), static_cast<uint8_t>(sps.size())};
  out.insert(out.end(), sps.begin(), sps.end());
  out.insert(out.end(), {1, static_cast<uint8_t>(pps.size() >> 8), static_cast<uint8_t>(pps.size())});
  out.insert(out.end(), pps.begin(), pps.end());
  return out;
}

// FLV video messages for one encoded keyframe: sequence header (avcC, or as libx264 gives it: Annex B) + the frame. `big`: 640x360 of noise with
// x264's HRD signalling (buffering period and picture timing SEI before the slice), as the benchmark's clip has: a
// keyframe whose slice is far longer than the part the probe hands the parser.
std::vector<Message> h264Messages(bool big = false, bool avcc = false) {
  testing::QuietLibav quiet(AV_LOG_ERROR);  // libx264's statistics at close are noise here
  const AVCodec* codec = avcodec_find_encoder_by_name("libx264");
  if (!codec) return {};
  CodecPtr ctx(avcodec_alloc_context3(codec));
  ctx->width = big ? 640 : 160;
  ctx->height = big ? 360 : 90;
  ctx->pix_fmt = AV_PIX_FMT_YUV420P;
  ctx->time_base = {1, 30};
  ctx->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;  // avcC extradata, AVCC packets
  ctx->profile = FF_PROFILE_H264_HIGH;
  AVDictionary* opts = nullptr;
  av_dict_set(&opts, "preset", "veryfast", 0);
  av_dict_set(&opts, "profile", "high", 0);
  if (big) {
    ctx->bit_rate = ctx->rc_max_rate = ctx->rc_buffer_size = 2'000'000;
    av_dict_set(&opts, "x264-params", "nal-hrd=cbr", 0);
  }
  const int opened = avcodec_open2(ctx.get(), codec, &opts);
  av_dict_free(&opts);
  if (opened < 0) return {};
  AVFrame* frame = av_frame_alloc();
  frame->format = ctx->pix_fmt;
  frame->width = ctx->width;
  frame->height = ctx->height;
  av_frame_get_buffer(frame, 0);
  for (int y = 0; y < frame->height; ++y)
    for (int x = 0; x < frame->width; ++x)
      frame->data[0][y * frame->linesize[0] + x] = static_cast<uint8_t>(big ? (x * 7919 + y * 104729) % 251 : x + y);
  for (int p = 1; p < 3; ++p)
    for (int y = 0; y < frame->height / 2; ++y) std::fill_n(frame->data[p] + y * frame->linesize[p], frame->width / 2, 128);
  frame->pts = 0;
  avcodec_send_frame(ctx.get(), frame);
  avcodec_send_frame(ctx.get(), nullptr);
  AVPacket* pkt = av_packet_alloc();
  std::vector<Message> out;
  Bytes header = {0x17, 0, 0, 0, 0};
  const Bytes extradata = avcc ? avcDecoderConfiguration(ctx->extradata, static_cast<std::size_t>(ctx->extradata_size))
                               : Bytes(ctx->extradata, ctx->extradata + ctx->extradata_size);
  header.insert(header.end(), extradata.begin(), extradata.end());
  out.push_back({6, 0, 9, 1, header});
  if (avcodec_receive_packet(ctx.get(), pkt) == 0) {
    Bytes body = {0x17, 1, 0, 0, 0};
    const Bytes frameBytes = avcc ? annexBToAvcc(pkt->data, static_cast<std::size_t>(pkt->size))
                                  : Bytes(pkt->data, pkt->data + pkt->size);
    body.insert(body.end(), frameBytes.begin(), frameBytes.end());
    out.push_back({6, 0, 9, 1, body});
  }
  av_packet_free(&pkt);
  av_frame_free(&frame);
  return out;
}

// AAC LC, 48 kHz, stereo: AudioSpecificConfig 00010 0011 0010 000 (the FLV flags byte says 44 kHz, as it always
// does for AAC), and a stereo frame of silence as FFmpeg's encoder makes it.
std::vector<Message> aacMessages() {
  return {{4, 0, 8, 1, {0xAF, 0, 0x11, 0x90}}, {4, 10, 8, 1, {0xAF, 1, 0x21, 0x10, 0x04, 0x60, 0x8c, 0x1c}}};
}

TEST(FlvCodecProbe, SameParametersAsFindStreamInfo) {
  auto video = h264Messages();
  auto audio = aacMessages();
  if (video.size() < 2 || audio.empty()) GTEST_SKIP() << "libx264 or the AAC encoder is not available";
  std::vector<Message> session = {audio[0], video[0], audio[1], video[1]};

  FlvCodecProbe probe(true, true, 500, 64);
  FlvCodecProbe::State state = FlvCodecProbe::State::NeedMore;
  for (std::size_t i = 0; i < session.size(); ++i) {
    state = probe.add(session[i]);
    if (i + 1 < session.size()) {
      EXPECT_EQ(state, FlvCodecProbe::State::NeedMore) << "ready only with the keyframe";
    }
  }
  ASSERT_EQ(state, FlvCodecProbe::State::Ready);
  const auto ours = probe.streams();
  ASSERT_TRUE(ours && ours->video && ours->audio);

  FlvStreamWriter writer;
  Bytes flv;
  for (const auto& m : session) writer.add(m, flv);
  for (int i = 0; i < 3; ++i) {  // more frames so find_stream_info can settle
    writer.add({6, static_cast<uint32_t>(33 * (i + 1)), 9, 1, video[1].payload}, flv);
    writer.add({4, static_cast<uint32_t>(23 * (i + 2)), 8, 1, audio[1].payload}, flv);
  }
  const auto ref = testing::probeFlv(flv);
  ASSERT_TRUE(ref.video && ref.audio);
  EXPECT_EQ(ours->describe(), "h264 High 160x90, aac LC 48000 Hz 2ch");
  EXPECT_EQ(ours->describe(), ref.describe());
  EXPECT_EQ(ours->video->level, ref.video->level);
  EXPECT_EQ(ours->video->format, ref.video->format);
  EXPECT_EQ(Bytes(ours->video->extradata, ours->video->extradata + ours->video->extradata_size),
            Bytes(ref.video->extradata, ref.video->extradata + ref.video->extradata_size));
  EXPECT_EQ(Bytes(ours->audio->extradata, ours->audio->extradata + ours->audio->extradata_size),
            Bytes(ref.audio->extradata, ref.audio->extradata + ref.audio->extradata_size));
  EXPECT_EQ(ours->audio->frame_size, 1024);
  EXPECT_EQ(ours->video->bit_rate, 500 * 1024);
}

// The probe hands libavcodec's parser only the NAL units before the first slice and that slice's header: the same
// parameters as find_stream_info on the whole stream, for a keyframe of ~100 KB with SEI in front of its slice.
class FlvCodecProbeLarge : public ::testing::TestWithParam<bool> {};

TEST_P(FlvCodecProbeLarge, AKeyframeWithSeiGivesTheSameParametersAsFindStreamInfo) {
  auto video = h264Messages(true, GetParam());
  if (video.size() < 2) GTEST_SKIP() << "libx264 is not available";
  ASSERT_GT(video[1].payload.size(), 20'000u) << "the noise should make a large keyframe";
  FlvCodecProbe probe(true, false);
  probe.add(video[0]);
  ASSERT_EQ(probe.add(video[1]), FlvCodecProbe::State::Ready);
  const auto ours = probe.streams();

  FlvStreamWriter writer;
  Bytes flv;
  writer.add(video[0], flv);
  for (int i = 0; i < 4; ++i) writer.add({6, static_cast<uint32_t>(33 * i), 9, 1, video[1].payload}, flv);
  const auto ref = testing::probeFlv(flv);
  ASSERT_TRUE(ours && ours->video && ref.video);
  EXPECT_EQ(ours->describe(), "h264 High 640x360");
  EXPECT_EQ(ours->describe(), ref.describe());
  EXPECT_EQ(ours->video->level, ref.video->level);
  EXPECT_EQ(ours->video->format, ref.video->format);
  EXPECT_EQ(ours->video->field_order, ref.video->field_order);
}

INSTANTIATE_TEST_SUITE_P(Payload, FlvCodecProbeLarge, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "Avcc" : "AnnexB"; });

TEST(FlvCodecProbe, OtherCodecsAreLeftToLibavformat) {
  FlvCodecProbe hevc(true, false);
  EXPECT_EQ(hevc.add({6, 0, 9, 1, {0x1C, 0, 0, 0, 0}}), FlvCodecProbe::State::NotNative);
  FlvCodecProbe heAac(false, true);
  EXPECT_EQ(heAac.add({4, 0, 8, 1, {0xAF, 0, 0x2B, 0x92, 0x08, 0x00}}), FlvCodecProbe::State::NotNative)
      << "HE-AAC (object type 5): its real rate shows only when decoding";
  FlvCodecProbe mp3(false, true);
  EXPECT_EQ(mp3.add({4, 0, 8, 1, {0x2F, 0xff, 0xfb}}), FlvCodecProbe::State::NotNative);
  FlvCodecProbe audioOnly(false, true);
  EXPECT_EQ(audioOnly.add({6, 0, 9, 1, {0x17, 0, 0, 0, 0}}), FlvCodecProbe::State::NeedMore) << "video not expected";
}

}  // namespace
}  // namespace venuecast::ingest
