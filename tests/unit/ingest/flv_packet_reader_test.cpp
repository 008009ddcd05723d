// FlvPacketReader against its reference: the same RTMP messages as an FLV stream through libavformat's flv
// demuxer must give the same packets (payload, dts, pts, key flag, new extradata).
#include "ingest/flv_packet_reader.h"

#include <gtest/gtest.h>

#include "ingest/flv_stream_writer.h"
#include "tests/unit/support/flv_demux.h"

namespace venuecast::ingest {
namespace {

using Message = rtmp::RtmpChunkReader::Message;
using Bytes = std::vector<uint8_t>;

const Bytes kAvcHeaderA = {0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x0a, 0xff, 0xe1, 0, 4, 0x67, 0x64, 0, 0x0a, 1, 0, 2, 0x68, 0xeb};
const Bytes kAvcHeaderB = {0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 4, 0x67, 0x64, 0, 0x1f, 1, 0, 2, 0x68, 0xeb};
const Bytes kAacHeader = {0xAF, 0, 0x11, 0x90};

Bytes avc(bool key, int32_t cts, uint8_t fill, std::size_t size) {
  Bytes b = {static_cast<uint8_t>(key ? 0x17 : 0x27), 1, static_cast<uint8_t>(cts >> 16), static_cast<uint8_t>(cts >> 8),
             static_cast<uint8_t>(cts)};
  b.resize(5 + size, fill);
  return b;
}
Bytes aac(uint8_t fill) { return {0xAF, 1, fill, fill, fill}; }

std::vector<Message> session() {
  return {
      {6, 0, 9, 1, kAvcHeaderA}, {4, 0, 8, 1, kAacHeader},
      {6, 0, 9, 1, avc(true, 66, 0x11, 300)}, {4, 10, 8, 1, aac(0x21)},
      {6, 33, 9, 1, avc(false, 100, 0x12, 40)}, {6, 66, 9, 1, avc(false, -33, 0x13, 40)},  // negative composition
      {4, 31, 8, 1, {0xAF}},                                                           // truncated: skipped
      {6, 70, 9, 1, {0x17, 2, 0, 0, 0}},                                              // end of sequence: no packet
      {6, 80, 9, 1, kAvcHeaderA},                                                     // same header again: nothing new
      {6, 90, 9, 1, kAvcHeaderB},                                                     // a new one: side data next
      {6, 100, 9, 1, avc(true, 0, 0x14, 200)}, {4, 105, 8, 1, aac(0x22)},
  };
}

TEST(FlvPacketReader, SamePacketsAsFlvdec) {
  FlvStreamWriter writer;
  Bytes flv;
  for (const auto& m : session()) writer.add(m, flv);
  const auto ref = testing::demuxFlv(flv);

  StreamSet streams;
  streams.video.reset(avcodec_parameters_alloc());
  streams.video->codec_id = AV_CODEC_ID_H264;
  streams.video->extradata = static_cast<uint8_t*>(av_mallocz(kAvcHeaderA.size() - 5 + AV_INPUT_BUFFER_PADDING_SIZE));
  std::copy(kAvcHeaderA.begin() + 5, kAvcHeaderA.end(), streams.video->extradata);
  streams.video->extradata_size = static_cast<int>(kAvcHeaderA.size() - 5);
  streams.audio.reset(avcodec_parameters_alloc());
  streams.audio->codec_id = AV_CODEC_ID_AAC;
  streams.audio->extradata = static_cast<uint8_t*>(av_mallocz(2 + AV_INPUT_BUFFER_PADDING_SIZE));
  std::copy(kAacHeader.begin() + 2, kAacHeader.end(), streams.audio->extradata);
  streams.audio->extradata_size = 2;
  ASSERT_TRUE(FlvPacketReader::supports(streams));
  FlvPacketReader reader(streams);
  std::vector<FlvPacketReader::Result> ours;
  std::vector<bool> keyOf;  // what the message's FLV header says
  for (const auto& m : session()) {
    auto r = reader.read(m);
    if (r.kind == FlvPacketReader::Result::Kind::Packet) keyOf.push_back(m.type == 8 || (m.payload[0] >> 4) == 1);
    ASSERT_NE(r.kind, FlvPacketReader::Result::Kind::Error) << r.error;
    if (r.kind == FlvPacketReader::Result::Kind::Packet) ours.push_back(std::move(r));
  }
  ASSERT_EQ(ours.size(), ref.avPackets.size());
  for (std::size_t i = 0; i < ours.size(); ++i) {
    SCOPED_TRACE("packet " + std::to_string(i));
    const AVPacket& a = *ours[i].packet;
    const AVPacket& b = *ref.avPackets[i];
    EXPECT_EQ(ours[i].media == MediaKind::Video ? AVMEDIA_TYPE_VIDEO : AVMEDIA_TYPE_AUDIO, ref.packets[i].first);
    EXPECT_EQ(Bytes(a.data, a.data + a.size), Bytes(b.data, b.data + b.size));
    EXPECT_EQ(a.dts, b.dts);
    EXPECT_EQ(a.pts, b.pts);
    // flvdec's key flag for H.264 comes from its parser (NAL types), which these synthetic payloads do not
    // satisfy; ours is the FLV frame type, as every RTMP server's GOP logic reads it. Audio: always key.
    if (ours[i].media == MediaKind::Audio) EXPECT_EQ(a.flags & AV_PKT_FLAG_KEY, b.flags & AV_PKT_FLAG_KEY);
    const auto& m = keyOf[i];
    EXPECT_EQ((a.flags & AV_PKT_FLAG_KEY) != 0, m);
    std::size_t na = 0, nb = 0;
    const uint8_t* sa = av_packet_get_side_data(&a, AV_PKT_DATA_NEW_EXTRADATA, &na);
    const uint8_t* sb = av_packet_get_side_data(&b, AV_PKT_DATA_NEW_EXTRADATA, &nb);
    ASSERT_EQ(sa != nullptr, sb != nullptr);
    if (sa) EXPECT_EQ(Bytes(sa, sa + na), Bytes(sb, sb + nb));
  }
}

TEST(FlvPacketReader, OnlyH264AndAacAndACodecChangeIsAnError) {
  StreamSet hevc;
  hevc.video.reset(avcodec_parameters_alloc());
  hevc.video->codec_id = AV_CODEC_ID_HEVC;
  EXPECT_FALSE(FlvPacketReader::supports(hevc));
  StreamSet audioOnly;
  audioOnly.audio.reset(avcodec_parameters_alloc());
  audioOnly.audio->codec_id = AV_CODEC_ID_AAC;
  ASSERT_TRUE(FlvPacketReader::supports(audioOnly));
  FlvPacketReader reader(audioOnly);
  EXPECT_EQ(reader.read({6, 0, 9, 1, avc(true, 0, 1, 10)}).kind, FlvPacketReader::Result::Kind::None)
      << "video the session was not opened with is ignored";
  const auto mp3 = reader.read({4, 0, 8, 1, {0x2F, 1, 2, 3}});
  EXPECT_EQ(mp3.kind, FlvPacketReader::Result::Kind::Error);
  EXPECT_NE(mp3.error.find("audio codec changed"), std::string::npos);
}

}  // namespace
}  // namespace venuecast::ingest
