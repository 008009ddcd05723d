#include "rtmp/rtmp_chunk_reader.h"

#include <gtest/gtest.h>

namespace venuecast::rtmp {
namespace {

using Bytes = std::vector<uint8_t>;
using Message = RtmpChunkReader::Message;

std::vector<Message> feedAll(RtmpChunkReader& r, const Bytes& in, bool byteByByte = false) {
  std::vector<Message> out;
  if (byteByByte) {
    for (uint8_t b : in) EXPECT_TRUE(r.feed({&b, 1}, out)) << r.error();
  } else {
    EXPECT_TRUE(r.feed(in, out)) << r.error();
  }
  return out;
}

// What nginx-rtmp sends right after connect: Window Ack Size, Set Peer Bandwidth, Set Chunk Size (on csid 2),
// then the _result on csid 3, in one read.
TEST(RtmpChunkReader, ParsesControlMessagesAndAppliesSetChunkSize) {
  const Bytes in = {
      0x02, 0, 0, 0, 0, 0, 4, 0x05, 0, 0, 0, 0, 0x00, 0x4C, 0x4B, 0x40,          // window ack 5000000
      0x02, 0, 0, 0, 0, 0, 5, 0x06, 0, 0, 0, 0, 0x00, 0x4C, 0x4B, 0x40, 0x02,    // peer bandwidth, dynamic
      0x02, 0, 0, 0, 0, 0, 4, 0x01, 0, 0, 0, 0, 0x00, 0x00, 0x00, 0x04,          // chunk size 4
      0x03, 0, 0, 0, 0, 0, 6, 0x14, 0, 0, 0, 0, 'a', 'b', 'c', 'd', 0xC3, 'e', 'f',  // 6 bytes in 4 + 2
  };
  for (bool byteByByte : {false, true}) {
    RtmpChunkReader r;
    const auto m = feedAll(r, in, byteByByte);
    ASSERT_EQ(m.size(), 4u);
    EXPECT_EQ(m[0].type, 5);
    EXPECT_EQ(m[1].payload.size(), 5u);
    EXPECT_EQ(r.chunkSize(), 4u);
    EXPECT_EQ(m[3].type, 0x14);
    EXPECT_EQ(m[3].payload, (Bytes{'a', 'b', 'c', 'd', 'e', 'f'}));
  }
}

TEST(RtmpChunkReader, AppliesDeltasOfTypeOneTwoAndThreeHeaders) {
  const Bytes in = {
      0x04, 0, 0, 100, 0, 0, 1, 0x08, 1, 0, 0, 0, 'a',  // type 0: ts 100, len 1, type 8, msid 1
      0x44, 0, 0, 20, 0, 0, 2, 0x09, 'b', 'c',          // type 1: +20, len 2, type 9
      0x84, 0, 0, 5, 'd', 'e',                          // type 2: +5, same length and type
      0xC4, 'f', 'g',                                   // type 3: new message, same delta +5
  };
  RtmpChunkReader r;
  const auto m = feedAll(r, in);
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(m[0].timestamp, 100u);
  EXPECT_EQ(m[1].timestamp, 120u);
  EXPECT_EQ(m[1].type, 9);
  EXPECT_EQ(m[1].streamId, 1u);
  EXPECT_EQ(m[2].timestamp, 125u);
  EXPECT_EQ(m[3].timestamp, 130u);
  EXPECT_EQ(m[3].payload, (Bytes{'f', 'g'}));
}

TEST(RtmpChunkReader, ReadsExtendedTimestampsIncludingOnTypeThreeChunks) {
  RtmpChunkReader r;
  Bytes in = {0x02, 0, 0, 0, 0, 0, 4, 0x01, 0, 0, 0, 0, 0, 0, 0, 2};  // chunk size 2
  const Bytes rest = {0x04, 0xFF, 0xFF, 0xFF, 0, 0, 3, 0x08, 1, 0, 0, 0, 0x01, 0x00, 0x00, 0x00, 'a', 'b',
                      0xC4, 0x01, 0x00, 0x00, 0x00, 'c'};
  in.insert(in.end(), rest.begin(), rest.end());
  const auto m = feedAll(r, in, true);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[1].timestamp, 0x01000000u);
  EXPECT_EQ(m[1].payload, (Bytes{'a', 'b', 'c'}));
}

TEST(RtmpChunkReader, ReassemblesInterleavedChunkStreams) {
  RtmpChunkReader r;
  Bytes in = {0x02, 0, 0, 0, 0, 0, 4, 0x01, 0, 0, 0, 0, 0, 0, 0, 2};  // chunk size 2
  const Bytes rest = {0x04, 0, 0, 1, 0, 0, 4, 0x08, 1, 0, 0, 0, 'a', 'b',   // audio, first half
                      0x06, 0, 0, 2, 0, 0, 3, 0x09, 1, 0, 0, 0, 'x', 'y',   // video, first part
                      0xC4, 'c', 'd',                                       // audio done
                      0xC6, 'z'};                                           // video done
  in.insert(in.end(), rest.begin(), rest.end());
  const auto m = feedAll(r, in);
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[1].payload, (Bytes{'a', 'b', 'c', 'd'}));
  EXPECT_EQ(m[2].payload, (Bytes{'x', 'y', 'z'}));
  EXPECT_EQ(m[2].chunkStreamId, 6u);
}

TEST(RtmpChunkReader, AbortDiscardsAPartialMessage) {
  RtmpChunkReader r;
  Bytes in = {0x02, 0, 0, 0, 0, 0, 4, 0x01, 0, 0, 0, 0, 0, 0, 0, 2};
  const Bytes rest = {0x04, 0, 0, 1, 0, 0, 4, 0x08, 1, 0, 0, 0, 'a', 'b',
                      0x02, 0, 0, 0, 0, 0, 4, 0x02, 0, 0, 0, 0, 0, 0, 0xC2, 0, 4,  // Abort csid 4 (2 chunks)
                      0x04, 0, 0, 1, 0, 0, 1, 0x08, 1, 0, 0, 0, 'n'};         // a new message may start
  in.insert(in.end(), rest.begin(), rest.end());
  const auto m = feedAll(r, in);
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[2].payload, (Bytes{'n'}));
}

TEST(RtmpChunkReader, EmptyMessagesComplete) {
  RtmpChunkReader r;
  const auto m = feedAll(r, {0x03, 0, 0, 0, 0, 0, 0, 0x14, 0, 0, 0, 0});
  ASSERT_EQ(m.size(), 1u);
  EXPECT_TRUE(m[0].payload.empty());
}

TEST(RtmpChunkReader, RejectsProtocolErrors) {
  auto error = [](const Bytes& in, std::size_t cap = 1 << 20) {
    RtmpChunkReader r(cap);
    std::vector<Message> out;
    EXPECT_FALSE(r.feed(in, out));
    std::vector<Message> more;
    const uint8_t b = 0x03;
    EXPECT_FALSE(r.feed({&b, 1}, more));  // stays failed
    return r.error();
  };
  EXPECT_NE(error({0xC3}).find("type-3 chunk on unknown chunk stream 3"), std::string::npos);
  EXPECT_NE(error({0x83, 0, 0, 0}).find("type-2 header on unknown"), std::string::npos);
  EXPECT_NE(error({0x03, 0, 0, 0, 0x10, 0, 1, 0x09, 0, 0, 0, 0}, 1 << 20).find("exceeds the limit"),
            std::string::npos);
  EXPECT_NE(error({0x02, 0, 0, 0, 0, 0, 4, 0x01, 0, 0, 0, 0, 0, 0, 0, 0}).find("Set Chunk Size 0"),
            std::string::npos);
  // a new type-0 header while a message on that chunk stream is half done (chunk size 1)
  EXPECT_NE(error({0x02, 0, 0, 0, 0, 0, 4, 0x01, 0, 0, 0, 0, 0, 0, 0, 1, 0x03, 0, 0, 0, 0, 0, 2, 0x14, 0, 0, 0, 0, 'a',
                   0x03, 0, 0, 0, 0, 0, 1, 0x14, 0, 0, 0, 0})
                .find("before its message ended"),
            std::string::npos);
  Bytes many;
  for (uint32_t csid = 2; csid < 2 + RtmpChunkReader::kMaxChunkStreams + 1; ++csid) {
    const Bytes h = {static_cast<uint8_t>(csid < 64 ? csid : 0), static_cast<uint8_t>(csid < 64 ? 0 : csid - 64)};
    if (csid < 64) many.push_back(h[0]); else many.insert(many.end(), h.begin(), h.end());
    many.insert(many.end(), {0, 0, 0, 0, 0, 0, 0x14, 0, 0, 0, 0});
  }
  EXPECT_NE(error(many).find("chunk streams"), std::string::npos);
}

}  // namespace
}  // namespace venuecast::rtmp
