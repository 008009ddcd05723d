// FlvStreamWriter: RTMP play messages -> the FLV byte stream libavformat's flv demuxer reads. Checked by
// demuxing the result with libavformat itself.
#include "ingest/flv_stream_writer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

extern "C" {
#include <libavformat/avformat.h>
}

#include "ingest/av_ptr.h"
#include "rtmp/rtmp_amf0.h"
#include "tests/unit/support/flv_demux.h"

namespace venuecast::ingest {
namespace {

using Message = rtmp::RtmpChunkReader::Message;
using Value = rtmp::RtmpAmf0::Value;

Message media(uint8_t type, uint32_t ts, std::vector<uint8_t> body) { return {type == 8 ? 4u : 6u, ts, type, 1, std::move(body)}; }

Message metadata(bool setDataFrame, std::vector<rtmp::RtmpAmf0::Property> props) {
  Message m{5, 0, 18, 1, {}};
  if (setDataFrame) rtmp::RtmpAmf0::encodeString("@setDataFrame", m.payload);
  rtmp::RtmpAmf0::encodeString("onMetaData", m.payload);
  rtmp::RtmpAmf0::encode(Value::makeEcmaArray(std::move(props)), m.payload);
  return m;
}

// AAC sequence header + raw frame; an AVC sequence header (64x64 High) + a keyframe NAL.
const std::vector<uint8_t> kAacHeader = {0xAF, 0, 0x11, 0x90}, kAacFrame = {0xAF, 1, 0x21, 0x10, 0x04};
const std::vector<uint8_t> kAvcHeader = {0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x0a, 0xff, 0xe1, 0, 4, 0x67, 0x64, 0, 0x0a,
                                         1, 0, 2, 0x68, 0xeb};
const std::vector<uint8_t> kAvcKey = {0x17, 1, 0, 0, 0x21, 0, 0, 0, 3, 0x65, 0x88, 0x84};

TEST(FlvStreamWriter, HeaderWaitsForMetadataAndTakesTheStreamFlagsFromIt) {
  FlvStreamWriter w;
  std::vector<uint8_t> flv;
  Message sampleAccess{5, 0, 18, 1, {}};
  rtmp::RtmpAmf0::encodeString("|RtmpSampleAccess", sampleAccess.payload);
  w.add(sampleAccess, flv);
  EXPECT_TRUE(flv.empty()) << "nothing decides the header yet";
  w.add(metadata(true, {{"width", Value::makeNumber(64)},
                        {"videocodecid", Value::makeNumber(7)},
                        {"encoder", Value::makeString("obs-output module")}}),
        flv);
  ASSERT_TRUE(w.headerWritten());
  EXPECT_EQ(flv[4], 0x01) << "video only, as onMetaData says";
  EXPECT_TRUE(w.add(media(9, 0, kAvcHeader), flv));
  EXPECT_TRUE(w.add(media(9, 40, kAvcKey), flv));
  EXPECT_TRUE(w.add(media(9, 0x01000050, kAvcKey), flv)) << "a timestamp past 24 bits uses the extension byte";
  const auto d = testing::demuxFlv(flv);
  EXPECT_TRUE(d.sawMetadata) << "@setDataFrame stripped, onMetaData read";
  ASSERT_EQ(d.packets.size(), 2u) << "the sequence header becomes extradata, not a packet";
  EXPECT_EQ(d.packets[0].second, 40);
  EXPECT_EQ(d.packets[1].second, 0x01000050);
}

TEST(FlvStreamWriter, WithoutMetadataTheFirstMediaMessageDecidesAndAggregatesAreUnpacked) {
  FlvStreamWriter w;
  std::vector<uint8_t> flv;
  EXPECT_TRUE(w.add(media(8, 100, kAacHeader), flv));
  EXPECT_EQ(flv[4], 0x04) << "audio first: audio flag";
  w.add(media(8, 121, kAacFrame), flv);
  // An aggregate of two audio tags at sub-timestamps 5000 and 5021, sent at message time 142.
  std::vector<uint8_t> agg;
  for (uint32_t ts : {5000u, 5021u}) {
    const uint8_t h[11] = {8, 0, 0, static_cast<uint8_t>(kAacFrame.size()), 0, static_cast<uint8_t>(ts >> 8),
                           static_cast<uint8_t>(ts), 0, 0, 0, 0};
    agg.insert(agg.end(), h, h + 11);
    agg.insert(agg.end(), kAacFrame.begin(), kAacFrame.end());
    const uint8_t prev[4] = {0, 0, 0, static_cast<uint8_t>(11 + kAacFrame.size())};
    agg.insert(agg.end(), prev, prev + 4);
  }
  EXPECT_TRUE(w.add({4, 142, FlvStreamWriter::kAggregate, 1, agg}, flv));
  EXPECT_FALSE(w.add({3, 0, 20, 0, {2, 0, 1, 'x'}}, flv)) << "commands are not FLV material";
  const auto d = testing::demuxFlv(flv);
  ASSERT_EQ(d.packets.size(), 3u) << "the sequence header becomes extradata, not a packet";
  EXPECT_EQ(d.packets[0].first, AVMEDIA_TYPE_AUDIO);
  EXPECT_EQ(d.packets[0].second, 121);
  EXPECT_EQ(d.packets[1].second, 142);
  EXPECT_EQ(d.packets[2].second, 163);
}

}  // namespace
}  // namespace venuecast::ingest
