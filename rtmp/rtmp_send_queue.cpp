#include "rtmp/rtmp_send_queue.h"

#include <algorithm>
#include <cassert>
#include <iterator>

namespace venuecast::rtmp {

void RtmpSendQueue::push(Item item) { queue_.push_back(std::move(item)); }

RtmpSendQueue::Batch RtmpSendQueue::startBatch(std::size_t maxBytes) {
  assert(!inFlight_);
  Batch b;
  batch_.clear();
  buffers_.clear();
  arena_.clear();
  next_ = 0;
  // batch_ is filled completely before any buffer points into it, so its elements never move while referenced.
  std::size_t take = 0, bytes = 0;
  while (take < queue_.size() && (take == 0 || bytes < maxBytes)) bytes += queue_[take++].message.size();
  if (take == queue_.size()) {
    std::swap(batch_, queue_);  // queue_ is now the last batch's vector: empty, with its capacity
  } else {
    std::move(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(take), std::back_inserter(batch_));
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(take));
  }
  for (const auto& item : batch_) {
    const auto& m = item.message;
    ++b.messages;
    if (item.media) {
      ++b.media;
      b.mediaBytes += m.size();
    }
    if (item.chunkStreamId == 0) {
      buffers_.emplace_back(m.payload.data(), m.payload.size());
      b.wireBytes += m.payload.size();
      continue;
    }
    const boost::asio::const_buffer body[2] = {{m.prefix.data(), m.prefixSize}, {m.payload.data(), m.payload.size()}};
    b.wireBytes += writer_.append({item.chunkStreamId, m.timestamp, m.type, item.streamId, body}, arena_, buffers_);
    if (item.newChunkSize != 0) writer_.setChunkSize(item.newChunkSize);
  }
  inFlight_ = !buffers_.empty();
  return b;
}

std::span<const boost::asio::const_buffer> RtmpSendQueue::pending(std::size_t maxBuffers) const {
  const std::size_t count = std::min(maxBuffers, buffers_.size() - next_);
  return {buffers_.data() + next_, count};
}

bool RtmpSendQueue::consume(std::size_t n) {
  while (n > 0 && next_ < buffers_.size()) {
    auto& b = buffers_[next_];
    if (n < b.size()) {
      b += n;  // a partial write: the rest of this buffer is what goes next
      return false;
    }
    n -= b.size();
    ++next_;
  }
  while (next_ < buffers_.size() && buffers_[next_].size() == 0) ++next_;
  return next_ == buffers_.size();
}

void RtmpSendQueue::finishBatch() {
  batch_.clear();
  buffers_.clear();
  arena_.clear();
  next_ = 0;
  inFlight_ = false;
}

std::size_t RtmpSendQueue::dropQueued() {
  std::size_t dropped = 0;
  for (const auto& item : queue_) dropped += item.media ? item.message.size() : 0;
  queue_.clear();
  return dropped;
}

}  // namespace venuecast::rtmp
