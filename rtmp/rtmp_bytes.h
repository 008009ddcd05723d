#pragma once
// Big-endian integer reads and writes: RTMP, FLV, AMF0 and H.264 length prefixes are all big-endian (except the
// chunk header's message stream id, which RtmpChunkWriter/Reader handle themselves).
#include <cstdint>
#include <vector>

namespace venuecast::rtmp {

struct RtmpBytes {
  static uint32_t be16(const uint8_t* p) { return (uint32_t{p[0]} << 8) | p[1]; }
  static uint32_t be24(const uint8_t* p) { return (uint32_t{p[0]} << 16) | (uint32_t{p[1]} << 8) | p[2]; }
  static uint32_t be32(const uint8_t* p) { return (uint32_t{p[0]} << 24) | be24(p + 1); }

  static void putBe24(uint8_t* p, uint32_t v) {
    p[0] = static_cast<uint8_t>(v >> 16);
    p[1] = static_cast<uint8_t>(v >> 8);
    p[2] = static_cast<uint8_t>(v);
  }
  static void putBe32(uint8_t* p, uint32_t v) {
    p[0] = static_cast<uint8_t>(v >> 24);
    putBe24(p + 1, v);
  }

  static void appendBe16(std::vector<uint8_t>& out, uint32_t v) {
    out.push_back(static_cast<uint8_t>(v >> 8));
    out.push_back(static_cast<uint8_t>(v));
  }
  static void appendBe32(std::vector<uint8_t>& out, uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
  }
};

}  // namespace venuecast::rtmp
