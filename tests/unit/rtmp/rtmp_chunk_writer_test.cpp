#include "rtmp/rtmp_chunk_writer.h"

#include <gtest/gtest.h>

#include <random>

#include "rtmp/rtmp_chunk_reader.h"

namespace venuecast::rtmp {
namespace {

using Bytes = std::vector<uint8_t>;
namespace asio = boost::asio;

Bytes flatten(const std::vector<asio::const_buffer>& buffers) {
  Bytes out;
  for (const auto& b : buffers) {
    auto p = static_cast<const uint8_t*>(b.data());
    out.insert(out.end(), p, p + b.size());
  }
  return out;
}

Bytes pattern(std::size_t n, uint8_t seed = 0) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + i * 7);
  return b;
}

struct Written {
  Bytes bytes;
  std::size_t buffers = 0;
  std::size_t reported = 0;
};

Written write(const RtmpChunkWriter& w, uint32_t csid, uint32_t ts, uint8_t type, uint32_t msid,
              const std::vector<Bytes>& parts) {
  std::vector<asio::const_buffer> payload;
  for (const auto& p : parts) payload.emplace_back(p.data(), p.size());
  RtmpChunkWriter::Arena arena;
  std::vector<asio::const_buffer> out;
  Written r;
  r.reported = w.append({csid, ts, type, msid, payload}, arena, out);
  r.buffers = out.size();
  r.bytes = flatten(out);
  return r;
}

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

Bytes slice(const Bytes& b, std::size_t from, std::size_t n) {
  return Bytes(b.begin() + static_cast<std::ptrdiff_t>(from), b.begin() + static_cast<std::ptrdiff_t>(from + n));
}

TEST(RtmpChunkWriter, SmallMessageIsOneTypeZeroChunk) {
  RtmpChunkWriter w;
  const Bytes body = pattern(10);
  const auto r = write(w, 4, 0x123456, 8, 1, {body});
  // fmt 0 | csid 4; timestamp; length 10; type 8; message stream id 1 little-endian
  const Bytes header = {0x04, 0x12, 0x34, 0x56, 0x00, 0x00, 0x0A, 0x08, 0x01, 0x00, 0x00, 0x00};
  EXPECT_EQ(r.bytes, concat({header, body}));
  EXPECT_EQ(r.reported, r.bytes.size());
  EXPECT_EQ(r.buffers, 2u);  // header + the payload itself, not a copy
}

TEST(RtmpChunkWriter, LargeMessageContinuesWithTypeThreeChunks) {
  RtmpChunkWriter w;  // default chunk size 128
  const Bytes body = pattern(300);
  const auto r = write(w, 6, 40, 9, 1, {body});
  const Bytes header = {0x06, 0x00, 0x00, 0x28, 0x00, 0x01, 0x2C, 0x09, 0x01, 0x00, 0x00, 0x00};
  EXPECT_EQ(r.bytes, concat({header, slice(body, 0, 128), {0xC6}, slice(body, 128, 128), {0xC6}, slice(body, 256, 44)}));
}

TEST(RtmpChunkWriter, ExactMultipleOfChunkSizeHasNoEmptyTrailingChunk) {
  RtmpChunkWriter w;
  w.setChunkSize(100);
  const auto r = write(w, 6, 0, 9, 1, {pattern(200)});
  EXPECT_EQ(r.bytes.size(), 12u + 200 + 1);
  EXPECT_EQ(r.buffers, 4u);  // header, 100, continuation header, 100
}

TEST(RtmpChunkWriter, ExtendedTimestampIsRepeatedOnContinuationChunks) {
  RtmpChunkWriter w;
  const Bytes body = pattern(130);
  const auto r = write(w, 4, 0x01020304, 8, 1, {body});
  const Bytes header = {0x04, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x82, 0x08, 0x01, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04};
  EXPECT_EQ(r.bytes, concat({header, slice(body, 0, 128), {0xC4, 0x01, 0x02, 0x03, 0x04}, slice(body, 128, 2)}));
}

TEST(RtmpChunkWriter, TimestampJustBelowTheMarkerStaysInline) {
  RtmpChunkWriter w;
  const auto r = write(w, 4, 0xFFFFFE, 8, 1, {pattern(1)});
  EXPECT_EQ(r.bytes.size(), 12u + 1);
  EXPECT_EQ(slice(r.bytes, 1, 3), (Bytes{0xFF, 0xFF, 0xFE}));
  EXPECT_EQ(write(w, 4, 0xFFFFFF, 8, 1, {pattern(1)}).bytes.size(), 16u + 1);  // the marker value itself: extended
}

TEST(RtmpChunkWriter, LongChunkStreamIdsUseTwoAndThreeByteBasicHeaders) {
  RtmpChunkWriter w;
  EXPECT_EQ(slice(write(w, 64, 0, 20, 0, {pattern(1)}).bytes, 0, 2), (Bytes{0x00, 0x00}));
  EXPECT_EQ(slice(write(w, 319, 0, 20, 0, {pattern(1)}).bytes, 0, 2), (Bytes{0x00, 0xFF}));
  EXPECT_EQ(slice(write(w, 320, 0, 20, 0, {pattern(1)}).bytes, 0, 3), (Bytes{0x01, 0x00, 0x01}));
  EXPECT_EQ(slice(write(w, 65599, 0, 20, 0, {pattern(1)}).bytes, 0, 3), (Bytes{0x01, 0xFF, 0xFF}));
  w.setChunkSize(1);
  EXPECT_EQ(slice(write(w, 320, 0, 20, 0, {pattern(2)}).bytes, 15, 3), (Bytes{0xC1, 0x00, 0x01}));
}

TEST(RtmpChunkWriter, PayloadPartsAreSplitAtChunkBoundariesWithoutCopying) {
  RtmpChunkWriter w;
  w.setChunkSize(8);
  const Bytes a = pattern(5, 1), b = pattern(9, 2);  // the FLV tag header + frame payload case
  const auto r = write(w, 6, 0, 9, 1, {a, b});
  const Bytes all = concat({a, b});
  EXPECT_EQ(slice(r.bytes, 12, 8), slice(all, 0, 8));
  EXPECT_EQ(r.bytes[20], 0xC6);
  EXPECT_EQ(slice(r.bytes, 21, 6), slice(all, 8, 6));
  EXPECT_EQ(r.buffers, 1u + 2 + 1 + 1);  // header, a, b[0..3), continuation, b[3..9)
}

TEST(RtmpChunkWriter, ArenaKeepsHeaderBytesInPlace) {
  RtmpChunkWriter::Arena arena;
  std::vector<uint8_t*> blocks;
  for (int i = 0; i < 1000; ++i) {
    uint8_t* p = arena.allocate(RtmpChunkWriter::kMaxHeaderSize);
    *p = static_cast<uint8_t>(i);
    blocks.push_back(p);
  }
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(*blocks[static_cast<std::size_t>(i)], static_cast<uint8_t>(i));
  arena.clear();
  EXPECT_EQ(arena.allocate(4), blocks[0]);  // reused, not reallocated
}

// Everything the writer produces, cut anywhere, parses back to the same messages.
TEST(RtmpChunkWriter, RoundTripsThroughTheReaderUnderAnySplit) {
  std::mt19937 rng(7);
  for (int round = 0; round < 50; ++round) {
    RtmpChunkWriter w;
    RtmpChunkReader reader(1 << 20);
    const uint32_t chunkSize = 1 + rng() % 300;
    Bytes stream;
    std::vector<RtmpChunkReader::Message> expected;
    // Announce the chunk size the way a peer would: a Set Chunk Size message at the old size.
    const Bytes size = {static_cast<uint8_t>(chunkSize >> 24), static_cast<uint8_t>(chunkSize >> 16),
                        static_cast<uint8_t>(chunkSize >> 8), static_cast<uint8_t>(chunkSize)};
    stream = write(w, 2, 0, 1, 0, {size}).bytes;
    expected.push_back({2, 0, 1, 0, size});
    w.setChunkSize(chunkSize);
    for (int i = 0; i < 20; ++i) {
      const uint32_t csid = 2 + rng() % 400;
      const uint32_t ts = (rng() % 4 == 0) ? 0xFFFFFF + rng() % 1000 : rng() % 100000;
      const Bytes body = pattern(rng() % 2000, static_cast<uint8_t>(i));
      const Bytes head(body.begin(), body.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(body.size(), 5)));
      const Bytes tail(body.begin() + static_cast<std::ptrdiff_t>(head.size()), body.end());
      const auto r = write(w, csid, ts, 9, 1, {head, tail});
      stream.insert(stream.end(), r.bytes.begin(), r.bytes.end());
      expected.push_back({csid, ts, 9, 1, body});
    }
    std::vector<RtmpChunkReader::Message> got;
    for (std::size_t pos = 0; pos < stream.size();) {
      const std::size_t n = std::min<std::size_t>(stream.size() - pos, 1 + rng() % 700);
      ASSERT_TRUE(reader.feed({stream.data() + pos, n}, got)) << reader.error();
      pos += n;
    }
    ASSERT_EQ(got.size(), expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].chunkStreamId, expected[i].chunkStreamId);
      EXPECT_EQ(got[i].timestamp, expected[i].timestamp);
      EXPECT_EQ(got[i].type, expected[i].type);
      EXPECT_EQ(got[i].streamId, expected[i].streamId);
      EXPECT_EQ(got[i].payload, expected[i].payload);
    }
    EXPECT_EQ(reader.chunkSize(), chunkSize);
  }
}

}  // namespace
}  // namespace venuecast::rtmp
