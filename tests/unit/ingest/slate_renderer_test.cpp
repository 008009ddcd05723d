// The rendered standby slate: one GOP at the venue's size and frame rate starting on a keyframe, silence at its
// sample rate and channels, a loop whose length is exactly the video's, and a picture that really shows text.
#include "ingest/slate_renderer.h"

#include <gtest/gtest.h>

#include <chrono>

namespace venuecast::ingest {
namespace {

SlateFormat format(int w, int h, int fpsNum, int fpsDen, int rate, int channels) {
  SlateFormat f;
  f.width = w;
  f.height = h;
  f.frameRateNum = fpsNum;
  f.frameRateDen = fpsDen;
  f.sampleRate = rate;
  f.channels = channels;
  return f;
}

// Decodes the clip's first video packet (its keyframe) into a picture.
AvFramePtr decodeFirstPicture(const SlateClip& clip) {
  const AVCodec* codec = avcodec_find_decoder(AV_CODEC_ID_H264);
  AvCodecContextPtr dec(avcodec_alloc_context3(codec));
  avcodec_parameters_to_context(dec.get(), clip.streams->video.get());
  EXPECT_EQ(avcodec_open2(dec.get(), codec, nullptr), 0);
  AvFramePtr frame(av_frame_alloc());
  for (const auto& item : clip.items) {
    if (item.kind != MediaKind::Video) continue;
    avcodec_send_packet(dec.get(), item.packet.get());
    if (avcodec_receive_frame(dec.get(), frame.get()) == 0) return frame;
  }
  avcodec_send_packet(dec.get(), nullptr);
  EXPECT_EQ(avcodec_receive_frame(dec.get(), frame.get()), 0);
  return frame;
}

TEST(SlateRenderer, OneGopAtTheVenuesFormatWithSilenceAndALoopOfExactlyTheVideosLength) {
  const auto clip = renderSlate(format(320, 240, 30, 1, 44100, 2), "Shanghai 上海");
  ASSERT_TRUE(clip->streams->video && clip->streams->audio);
  EXPECT_EQ(clip->streams->video->codec_id, AV_CODEC_ID_H264);
  EXPECT_EQ(clip->streams->video->width, 320);
  EXPECT_EQ(clip->streams->video->height, 240);
  EXPECT_GT(clip->streams->video->extradata_size, 0) << "the FLV sequence header";
  EXPECT_EQ(clip->streams->audio->codec_id, AV_CODEC_ID_AAC);
  EXPECT_EQ(clip->streams->audio->sample_rate, 44100);
  EXPECT_EQ(clip->streams->audio->ch_layout.nb_channels, 2);
  EXPECT_GT(clip->streams->audio->extradata_size, 0);
  EXPECT_EQ(clip->loopUs, 2'000'000);

  int video = 0, audio = 0, keys = 0;
  int64_t lastDts[2] = {-1, -1}, audioEnd = 0;
  ASSERT_FALSE(clip->items.empty());
  EXPECT_EQ(clip->items.front().kind, MediaKind::Video);
  EXPECT_TRUE(clip->items.front().packet->flags & AV_PKT_FLAG_KEY) << "the loop starts on its keyframe";
  int64_t previous = -1;
  for (const auto& item : clip->items) {
    const AVPacket* p = item.packet.get();
    const auto k = static_cast<size_t>(item.kind);
    EXPECT_GE(p->dts, previous) << "interleaved in dts order";
    EXPECT_GT(p->dts, lastDts[k]);
    EXPECT_EQ(p->pts, p->dts);
    previous = lastDts[k] = p->dts;
    if (item.kind == MediaKind::Video) {
      EXPECT_EQ(p->dts, av_rescale(video, 1'000'000, 30)) << "frame " << video << " on the 30 fps grid";
      keys += (p->flags & AV_PKT_FLAG_KEY) ? 1 : 0;
      ++video;
    } else {
      audioEnd = p->dts + p->duration;
      ++audio;
    }
  }
  EXPECT_EQ(video, 60);
  EXPECT_EQ(keys, 1) << "one GOP per loop";
  EXPECT_EQ(audio, 86) << "whole AAC frames that fit in 2 s at 44.1 kHz";
  EXPECT_LE(audioEnd, clip->loopUs) << "the next loop's audio must not overlap this one's";
  EXPECT_GT(audioEnd, clip->loopUs - 23'220);
}

TEST(SlateRenderer, ThePictureShowsLightTextOnADarkCard) {
  const auto clip = renderSlate(format(320, 180, 25, 1, 0, 0), "Chengdu");
  ASSERT_TRUE(clip->streams->video);
  EXPECT_FALSE(clip->streams->audio) << "a venue without audio gets a slate without audio";
  EXPECT_EQ(clip->loopUs, 2'000'000);
  const auto picture = decodeFirstPicture(*clip);
  ASSERT_EQ(picture->width, 320);
  ASSERT_EQ(picture->height, 180);
  int dark = 0, light = 0;
  for (int y = 0; y < picture->height; ++y) {
    for (int x = 0; x < picture->width; ++x) {
      const int luma = picture->data[0][y * picture->linesize[0] + x];
      dark += luma < 60 ? 1 : 0;
      light += luma > 180 ? 1 : 0;
    }
  }
  const int total = picture->width * picture->height;
  EXPECT_GT(dark, total * 7 / 10) << "a dark background";
  EXPECT_GT(light, total / 200) << "the text is drawn (fonts-wqy-microhei / fontconfig)";
}

TEST(SlateRenderer, NtscFrameRatesKeepAnExactGridAndAudioOnlyLoopsOnWholeFrames) {
  const auto ntsc = renderSlate(format(160, 90, 30000, 1001, 48000, 1), "x");
  EXPECT_EQ(ntsc->loopUs, 2'002'000) << "60 frames at 29.97 fps";
  EXPECT_EQ(ntsc->streams->audio->ch_layout.nb_channels, 1);
  const auto audioOnly = renderSlate(format(0, 0, 0, 1, 48000, 2), "x");
  EXPECT_FALSE(audioOnly->streams->video);
  EXPECT_EQ(audioOnly->loopUs, av_rescale(93 * 1024, 1'000'000, 48000));
  EXPECT_EQ(audioOnly->items.size(), 93u);
}

TEST(SlateFormat, FrameRatesMeasuredFromMillisecondTimestampsSnapToWhatEncodersUse) {
  auto streams = std::make_shared<StreamSet>();
  streams->video.reset(avcodec_parameters_alloc());
  streams->video->width = 1920;
  streams->video->height = 1080;
  auto fps = [&](double frameUs) {
    const auto f = SlateFormat::of(*streams, frameUs);
    return std::to_string(f.frameRateNum) + "/" + std::to_string(f.frameRateDen);
  };
  EXPECT_EQ(fps(1'000'000.0 / 30), "30/1");
  EXPECT_EQ(fps(33'320), "30/1") << "31 FLV steps of 33/34 ms";
  EXPECT_EQ(fps(33'366.7), "30000/1001");
  EXPECT_EQ(fps(40'000), "25/1");
  EXPECT_EQ(fps(16'683.3), "60000/1001");
  EXPECT_EQ(fps(0), "30/1") << "unknown: 30 fps";
  EXPECT_EQ(SlateFormat::of(*streams, 33'333).describe(), "1920x1080 30 fps");
}

TEST(SlateRenderer, Renders1080pInWellUnderASecondOfCpu) {
  // Not a timing assertion (machines are noisy): the figure is printed, and a render that takes minutes fails.
  const auto started = std::chrono::steady_clock::now();
  const auto clip = renderSlate(format(1920, 1080, 30, 1, 48000, 2), "COSCon'21 主论坛 Main Forum");
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("1080p30 slate rendered in %.2f s, %zu packets\n", s, clip->items.size());
  EXPECT_LT(s, 30.0);
}

}  // namespace
}  // namespace venuecast::ingest
