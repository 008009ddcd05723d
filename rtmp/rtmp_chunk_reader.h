#pragma once
// Incremental parser of the chunk stream an RTMP server sends us: bytes in (any split), complete messages out.
// Handles all four header types, extended timestamps (also repeated on type-3 chunks, as nginx-rtmp and FFmpeg
// send them), interleaved chunk streams, and applies Set Chunk Size / Abort itself because they change how the
// very next chunk must be parsed. Input comes from the network: sizes are capped and malformed input is an
// error, never an out-of-bounds read or an unbounded allocation.
#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace venuecast::rtmp {

class RtmpChunkReader {
 public:
  struct Message {
    uint32_t chunkStreamId = 0;
    uint32_t timestamp = 0;  // absolute, ms (wraps at 2^32)
    uint8_t type = 0;
    uint32_t streamId = 0;
    std::vector<uint8_t> payload;
  };

  static constexpr std::size_t kDefaultMaxMessageSize = 1 << 20;
  // A message's payload is allocated once, with this much spare capacity past its end, so that a consumer can
  // append padding (libav wants 64 zero bytes after packet data) without moving it. Up to kReserveCap bytes are
  // reserved when a message starts (larger ones grow as their chunks arrive: a peer announcing huge messages
  // does not get memory it has not sent).
  static constexpr std::size_t kPayloadSlack = 64;
  static constexpr std::size_t kReserveCap = 1 << 20;
  static constexpr std::size_t kMaxChunkStreams = 64;  // distinct chunk stream ids; servers use a handful

  explicit RtmpChunkReader(std::size_t maxMessageSize = kDefaultMaxMessageSize);

  // Parses `bytes` (continuing where the previous call stopped) and appends every completed message to `out`,
  // Set Chunk Size and Abort included (already applied). False on a protocol error: error() says what; the
  // reader then refuses further input.
  bool feed(std::span<const uint8_t> bytes, std::vector<Message>& out);

  const std::string& error() const { return error_; }
  uint32_t chunkSize() const { return chunkSize_; }
  // Applies to messages that start from now on (a server trusts a publisher more once it has authenticated).
  void setMaxMessageSize(std::size_t bytes) { maxMessageSize_ = bytes; }

 private:
  struct Stream {
    uint32_t timestamp = 0;
    uint32_t delta = 0;
    uint32_t length = 0;
    uint8_t type = 0;
    uint32_t streamId = 0;
    bool extended = false;   // the last header carried an extended timestamp (type-3 chunks repeat it)
    bool inMessage = false;  // a message is being assembled
    std::vector<uint8_t> partial;
  };

  bool fail(std::string what);
  // Consumes header bytes from `bytes` into header_; true once a whole header is there and applied.
  bool takeHeader(std::span<const uint8_t>& bytes, bool& complete, std::vector<Message>& out);
  bool applyHeader(uint8_t fmt, uint32_t csid, const uint8_t* fields, bool extended, uint32_t extendedValue,
                   std::vector<Message>& out);
  bool finishMessage(Stream& stream, uint32_t csid, std::vector<Message>& out);

  std::size_t maxMessageSize_;
  uint32_t chunkSize_ = 128;
  std::map<uint32_t, Stream> streams_;
  uint8_t header_[18] = {};
  std::size_t headerHave_ = 0;
  bool inPayload_ = false;  // between a chunk header and the end of its payload
  uint32_t payloadCsid_ = 0;
  std::size_t payloadLeft_ = 0;
  std::string error_;
};

}  // namespace venuecast::rtmp
