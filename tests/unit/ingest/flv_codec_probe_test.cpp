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

// FLV video messages for one encoded keyframe: sequence header (avcC) + the frame.
std::vector<Message> h264Messages() {
  testing::QuietLibav quiet(AV_LOG_ERROR);  // libx264's statistics at close are noise here
  const AVCodec* codec = avcodec_find_encoder_by_name("libx264");
  if (!codec) return {};
  CodecPtr ctx(avcodec_alloc_context3(codec));
  ctx->width = 160;
  ctx->height = 90;
  ctx->pix_fmt = AV_PIX_FMT_YUV420P;
  ctx->time_base = {1, 30};
  ctx->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;  // avcC extradata, AVCC packets
  ctx->profile = FF_PROFILE_H264_HIGH;
  AVDictionary* opts = nullptr;
  av_dict_set(&opts, "preset", "veryfast", 0);
  av_dict_set(&opts, "profile", "high", 0);
  const int opened = avcodec_open2(ctx.get(), codec, &opts);
  av_dict_free(&opts);
  if (opened < 0) return {};
  AVFrame* frame = av_frame_alloc();
  frame->format = ctx->pix_fmt;
  frame->width = ctx->width;
  frame->height = ctx->height;
  av_frame_get_buffer(frame, 0);
  for (int y = 0; y < frame->height; ++y)
    for (int x = 0; x < frame->width; ++x) frame->data[0][y * frame->linesize[0] + x] = static_cast<uint8_t>(x + y);
  for (int p = 1; p < 3; ++p)
    for (int y = 0; y < frame->height / 2; ++y) std::fill_n(frame->data[p] + y * frame->linesize[p], frame->width / 2, 128);
  frame->pts = 0;
  avcodec_send_frame(ctx.get(), frame);
  avcodec_send_frame(ctx.get(), nullptr);
  AVPacket* pkt = av_packet_alloc();
  std::vector<Message> out;
  Bytes header = {0x17, 0, 0, 0, 0};
  header.insert(header.end(), ctx->extradata, ctx->extradata + ctx->extradata_size);
  out.push_back({6, 0, 9, 1, header});
  if (avcodec_receive_packet(ctx.get(), pkt) == 0) {
    Bytes body = {0x17, 1, 0, 0, 0};
    body.insert(body.end(), pkt->data, pkt->data + pkt->size);
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
    if (i + 1 < session.size()) EXPECT_EQ(state, FlvCodecProbe::State::NeedMore) << "ready only with the keyframe";
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
