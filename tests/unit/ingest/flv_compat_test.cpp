#include "ingest/flv_compat.h"

#include <gtest/gtest.h>

namespace venuecast::ingest {
namespace {

AVCodecParameters params(AVMediaType type, AVCodecID id) {
  AVCodecParameters p{};
  p.codec_type = type;
  p.codec_id = id;
  return p;
}

TEST(FlvCompat, H264AndAacPass) {
  EXPECT_EQ(flvIncompatibility(params(AVMEDIA_TYPE_VIDEO, AV_CODEC_ID_H264)), "");
  EXPECT_EQ(flvIncompatibility(params(AVMEDIA_TYPE_AUDIO, AV_CODEC_ID_AAC)), "");
  EXPECT_EQ(flvIncompatibility(params(AVMEDIA_TYPE_AUDIO, AV_CODEC_ID_MP3)), "");
}

TEST(FlvCompat, HevcAv1AndOpusAreRefusedWithAReason) {
  EXPECT_NE(flvIncompatibility(params(AVMEDIA_TYPE_VIDEO, AV_CODEC_ID_HEVC)).find("video codec hevc"), std::string::npos);
  EXPECT_NE(flvIncompatibility(params(AVMEDIA_TYPE_VIDEO, AV_CODEC_ID_AV1)).find("av1"), std::string::npos);
  EXPECT_NE(flvIncompatibility(params(AVMEDIA_TYPE_AUDIO, AV_CODEC_ID_OPUS)).find("audio codec opus"), std::string::npos);
}

TEST(FlvCompat, UnknownCodecNamesItsTag) {
  auto p = params(AVMEDIA_TYPE_VIDEO, AV_CODEC_ID_NONE);
  p.codec_tag = 12;
  EXPECT_NE(flvIncompatibility(p).find("FLV codec tag 12"), std::string::npos);
}

}  // namespace
}  // namespace venuecast::ingest
