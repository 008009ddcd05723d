#pragma once
// One FLV tag body as an RTMP message, built so that the frame payload is never copied: a few header bytes we
// own (the FLV audio/video tag header: codec flags, AVC packet type, composition time) followed by a view of
// the payload, which `owner` keeps alive (typically a reference on the demuxer's refcounted AVBuffer, shared
// by every output of a venue).
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace venuecast::rtmp {

struct RtmpMediaMessage {
  static constexpr std::size_t kMaxPrefix = 16;
  static constexpr uint8_t kAudio = 8;
  static constexpr uint8_t kVideo = 9;
  static constexpr uint8_t kData = 18;  // AMF0 data, e.g. @setDataFrame onMetaData

  uint8_t type = 0;        // RTMP message type = FLV tag type
  uint32_t timestamp = 0;  // ms; the FLV tag timestamp (DTS)
  std::array<uint8_t, kMaxPrefix> prefix{};
  uint8_t prefixSize = 0;
  std::span<const uint8_t> payload;   // borrowed; valid while `owner` lives
  std::shared_ptr<const void> owner;  // keeps `payload` alive until the message has been written

  std::size_t size() const { return prefixSize + payload.size(); }
  std::span<const uint8_t> prefixBytes() const { return {prefix.data(), prefixSize}; }

  // A message whose whole body is `body` (small, built once: metadata, sequence headers, commands).
  static RtmpMediaMessage owning(uint8_t type, uint32_t timestamp, std::vector<uint8_t> body) {
    auto holder = std::make_shared<const std::vector<uint8_t>>(std::move(body));
    RtmpMediaMessage m;
    m.type = type;
    m.timestamp = timestamp;
    m.payload = std::span<const uint8_t>(holder->data(), holder->size());
    m.owner = std::move(holder);
    return m;
  }
};

}  // namespace venuecast::rtmp
