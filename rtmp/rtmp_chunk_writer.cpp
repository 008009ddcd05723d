#include "rtmp/rtmp_chunk_writer.h"

#include <algorithm>
#include <cassert>

#include "rtmp/rtmp_bytes.h"

namespace venuecast::rtmp {
namespace {

// Basic header: fmt in the top 2 bits; chunk stream ids 2..63 fit in the first byte, 64..319 take one more
// byte and 320..65599 two more (little-endian, offset by 64).
std::size_t putBasicHeader(uint8_t* p, uint8_t fmt, uint32_t csid) {
  if (csid < 64) {
    p[0] = static_cast<uint8_t>((fmt << 6) | csid);
    return 1;
  }
  const uint32_t rest = csid - 64;
  if (rest < 256) {
    p[0] = static_cast<uint8_t>(fmt << 6);
    p[1] = static_cast<uint8_t>(rest);
    return 2;
  }
  p[0] = static_cast<uint8_t>((fmt << 6) | 1);
  p[1] = static_cast<uint8_t>(rest & 0xFF);
  p[2] = static_cast<uint8_t>(rest >> 8);
  return 3;
}

}  // namespace

uint8_t* RtmpChunkWriter::Arena::allocate(std::size_t n) {
  assert(n <= kBlockSize);
  if (blocks_.empty() || used_ + n > kBlockSize) {
    if (!blocks_.empty()) ++block_;
    if (block_ == blocks_.size()) blocks_.push_back(std::make_unique<uint8_t[]>(kBlockSize));
    used_ = 0;
  }
  uint8_t* p = blocks_[block_].get() + used_;
  used_ += n;
  return p;
}

void RtmpChunkWriter::Arena::clear() {
  block_ = 0;
  used_ = 0;
}

std::size_t RtmpChunkWriter::Arena::bytesUsed() const {
  return blocks_.empty() ? 0 : block_ * kBlockSize + used_;
}

void RtmpChunkWriter::setChunkSize(uint32_t size) { chunkSize_ = std::clamp<uint32_t>(size, 1, kMaxChunkSize); }

std::size_t RtmpChunkWriter::payloadSize(std::span<const boost::asio::const_buffer> payload) {
  std::size_t n = 0;
  for (const auto& b : payload) n += b.size();
  return n;
}

std::size_t RtmpChunkWriter::append(const Message& m, Arena& arena,
                                    std::vector<boost::asio::const_buffer>& out) const {
  const std::size_t length = payloadSize(m.payload);
  assert(length <= 0xFFFFFF);
  assert(m.chunkStreamId >= 2 && m.chunkStreamId <= kMaxChunkStreamId);
  const bool extended = m.timestamp >= kExtendedTimestamp;

  // Type 0: timestamp (or the extended marker), length, type id, message stream id (little-endian: the one
  // little-endian field of RTMP), then the extended timestamp.
  uint8_t* h = arena.allocate(kMaxHeaderSize);
  std::size_t n = putBasicHeader(h, 0, m.chunkStreamId);
  RtmpBytes::putBe24(h + n, extended ? kExtendedTimestamp : m.timestamp);
  RtmpBytes::putBe24(h + n + 3, static_cast<uint32_t>(length));
  h[n + 6] = m.type;
  for (int i = 0; i < 4; ++i) h[n + 7 + i] = static_cast<uint8_t>(m.streamId >> (8 * i));
  n += 11;
  if (extended) {
    RtmpBytes::putBe32(h + n, m.timestamp);
    n += 4;
  }
  out.emplace_back(h, n);
  std::size_t total = n + length;

  // Type 3 continuation header: the same for every later chunk of this message, so it is built once.
  uint8_t* cont = nullptr;
  std::size_t contSize = 0;

  std::size_t inChunk = 0;  // payload bytes already placed in the current chunk
  for (const auto& buffer : m.payload) {
    auto data = static_cast<const uint8_t*>(buffer.data());
    std::size_t left = buffer.size();
    while (left > 0) {
      if (inChunk == chunkSize_) {
        if (!cont) {
          cont = arena.allocate(3 + 4);
          contSize = putBasicHeader(cont, 3, m.chunkStreamId);
          if (extended) {
            RtmpBytes::putBe32(cont + contSize, m.timestamp);
            contSize += 4;
          }
        }
        out.emplace_back(cont, contSize);
        total += contSize;
        inChunk = 0;
      }
      const std::size_t take = std::min<std::size_t>(left, chunkSize_ - inChunk);
      out.emplace_back(data, take);
      data += take;
      left -= take;
      inChunk += take;
    }
  }
  return total;
}

}  // namespace venuecast::rtmp
