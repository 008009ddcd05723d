#pragma once
// The messages a connection has yet to write, and the one gathered write in flight. Starting a batch takes
// everything queued (up to a byte budget) and serialises it once into a buffer sequence: chunk headers from an
// arena, payloads by reference. The socket code then writes pending() with as few sendmsg calls as the kernel
// allows (Asio passes up to 64 iovecs per call; its async_write would pass only 16 and cap each call at 64 KiB)
// and reports what went out with consume(). No socket here, so all of it is unit-testable.
#include <boost/asio/buffer.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "rtmp/rtmp_chunk_writer.h"
#include "rtmp/rtmp_media_message.h"

namespace venuecast::rtmp {

class RtmpSendQueue {
 public:
  struct Item {
    RtmpMediaMessage message;
    uint32_t chunkStreamId = 0;  // 0: raw bytes (the handshake's C2), not chunked
    uint32_t streamId = 0;
    uint32_t newChunkSize = 0;   // a Set Chunk Size of ours: applies to everything serialised after it
    bool media = false;          // counted in Batch::media / mediaBytes
  };
  struct Batch {
    std::size_t messages = 0;    // all items
    std::size_t media = 0;       // media items
    std::size_t mediaBytes = 0;  // their body sizes
    std::size_t wireBytes = 0;   // bytes of the serialised batch (headers included)
  };

  void push(Item item);
  bool hasQueued() const { return !queue_.empty(); }
  bool inFlight() const { return inFlight_; }
  std::size_t queuedMessages() const { return queue_.size(); }

  // Takes queued items (at least one, then while under maxBytes) and serialises them. Requires !inFlight().
  Batch startBatch(std::size_t maxBytes);
  // The part of the batch not yet written: at most maxBuffers buffers from the first unwritten byte on.
  std::span<const boost::asio::const_buffer> pending(std::size_t maxBuffers) const;
  // n more bytes of the batch were written; true once all of it is.
  bool consume(std::size_t n);
  // Ends the batch (written or failed), releasing its payload references and header bytes.
  void finishBatch();
  // Forgets everything queued (not the batch in flight, whose buffers a write may still use); returns the
  // media bytes dropped.
  std::size_t dropQueued();

  uint32_t chunkSize() const { return writer_.chunkSize(); }

 private:
  // Vectors, swapped whole when a batch takes everything queued (the usual case): no per-message moves, and
  // both keep their capacity, so a steady stream allocates nothing here.
  std::vector<Item> queue_;
  std::vector<Item> batch_;
  std::vector<boost::asio::const_buffer> buffers_;
  std::size_t next_ = 0;  // first buffer not completely written
  bool inFlight_ = false;
  RtmpChunkWriter writer_;
  RtmpChunkWriter::Arena arena_;
};

}  // namespace venuecast::rtmp
