#pragma once
// Serialises RTMP messages into chunks without copying their payload: each chunk becomes a header (a few bytes
// in an Arena) followed by slices of the caller's payload buffers, appended to a buffer sequence for one
// writev-style socket write. Every message starts with a type-0 header (absolute timestamp, no state shared
// between messages, so a lost or reordered assumption can never corrupt the stream: 4 bytes per message is
// cheap next to a video frame); continuation chunks are type 3 and repeat the extended timestamp when there is
// one, as FFmpeg's and nginx-rtmp's readers expect.
#include <boost/asio/buffer.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace venuecast::rtmp {

class RtmpChunkWriter {
 public:
  static constexpr uint32_t kDefaultChunkSize = 128;       // until we send Set Chunk Size (RTMP spec)
  static constexpr uint32_t kMaxChunkSize = 0x7FFFFFFF;    // the Set Chunk Size field has 31 bits
  static constexpr uint32_t kExtendedTimestamp = 0xFFFFFF;  // this and above go in the extended field
  static constexpr uint32_t kMaxChunkStreamId = 65599;
  static constexpr std::size_t kMaxHeaderSize = 3 + 11 + 4;  // basic + type-0 message header + extended ts

  // Storage for header bytes. Blocks are never moved or freed until the Arena dies, so buffers pointing into
  // them stay valid until clear(), which the owner calls once the write that used them has completed.
  class Arena {
   public:
    uint8_t* allocate(std::size_t n);  // n <= kBlockSize
    void clear();
    std::size_t bytesUsed() const;

    static constexpr std::size_t kBlockSize = 4096;

   private:
    std::vector<std::unique_ptr<uint8_t[]>> blocks_;
    std::size_t block_ = 0;  // index of the block being filled
    std::size_t used_ = 0;   // bytes used in that block
  };

  struct Message {
    uint32_t chunkStreamId = 3;  // 2 .. 65599
    uint32_t timestamp = 0;      // ms
    uint8_t type = 0;            // message type id (8 audio, 9 video, 18 data, 20 command, 1..6 control)
    uint32_t streamId = 0;       // message stream id
    std::span<const boost::asio::const_buffer> payload;
  };

  // Takes effect for the next append(); call it right after appending our own Set Chunk Size message.
  void setChunkSize(uint32_t size);
  uint32_t chunkSize() const { return chunkSize_; }

  // Appends `message` as header/payload buffers to `out`; returns the bytes it adds to the stream.
  // Payload sizes above 0xFFFFFF cannot be expressed in a chunk header: the caller must not pass them.
  std::size_t append(const Message& message, Arena& arena, std::vector<boost::asio::const_buffer>& out) const;

  static std::size_t payloadSize(std::span<const boost::asio::const_buffer> payload);

 private:
  uint32_t chunkSize_ = kDefaultChunkSize;
};

}  // namespace venuecast::rtmp
