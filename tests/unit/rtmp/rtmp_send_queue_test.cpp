#include "rtmp/rtmp_send_queue.h"

#include <gtest/gtest.h>

#include "rtmp/rtmp_chunk_reader.h"

namespace venuecast::rtmp {
namespace {

using Bytes = std::vector<uint8_t>;

RtmpSendQueue::Item media(uint8_t type, uint32_t ts, std::size_t size, std::shared_ptr<const void>* ownerOut = nullptr) {
  RtmpMediaMessage m = RtmpMediaMessage::owning(type, ts, Bytes(size, static_cast<uint8_t>(ts)));
  m.prefix = {0x17, 1, 0, 0, 0};
  m.prefixSize = 5;
  if (ownerOut) *ownerOut = m.owner;
  return {std::move(m), type == 8 ? 4u : 6u, 1, 0, true};
}

Bytes drain(RtmpSendQueue& q, std::size_t writeSize) {
  Bytes out;
  while (q.inFlight()) {
    std::size_t budget = writeSize;  // a short write, as a full socket buffer gives
    for (const auto& b : q.pending(64)) {
      const std::size_t n = std::min(budget, b.size());
      auto p = static_cast<const uint8_t*>(b.data());
      out.insert(out.end(), p, p + n);
      budget -= n;
      if (budget == 0) break;
    }
    if (q.consume(writeSize - budget)) q.finishBatch();
  }
  return out;
}

TEST(RtmpSendQueue, OneBatchTakesEverythingQueued) {
  RtmpSendQueue q;
  for (uint32_t i = 0; i < 10; ++i) q.push(media(i % 2 ? 8 : 9, i * 10, 1000));
  const auto b = q.startBatch(1 << 20);
  EXPECT_EQ(b.messages, 10u);
  EXPECT_EQ(b.media, 10u);
  EXPECT_EQ(b.mediaBytes, 10u * 1005);
  EXPECT_EQ(b.wireBytes, 10u * (12 + 1005 + 7));  // chunk size 128: 7 continuation headers each
  EXPECT_FALSE(q.hasQueued());
  EXPECT_TRUE(q.inFlight());
  EXPECT_EQ(q.pending(64).size(), 64u);  // capped: one sendmsg takes 64 iovecs
}

TEST(RtmpSendQueue, ByteBudgetSplitsBatchesButNeverStarvesABigMessage) {
  RtmpSendQueue q;
  q.push(media(9, 0, 5000));
  q.push(media(8, 1, 100));
  q.push(media(8, 2, 100));
  EXPECT_EQ(q.startBatch(1000).messages, 1u);  // one message even though it alone exceeds the budget
  q.finishBatch();
  EXPECT_EQ(q.startBatch(1000).messages, 2u);
}

TEST(RtmpSendQueue, PartialWritesResumeMidBufferAndProduceTheSameStream) {
  RtmpSendQueue q;
  RtmpSendQueue::Item chunkSize{RtmpMediaMessage::owning(1, 0, {0, 0, 0x10, 0}), 2, 0, 4096, false};
  q.push(std::move(chunkSize));
  for (uint32_t i = 0; i < 5; ++i) q.push(media(9, i, 3000 + i));
  q.startBatch(1 << 20);
  const Bytes stream = drain(q, 333);
  RtmpChunkReader reader;
  std::vector<RtmpChunkReader::Message> messages;
  ASSERT_TRUE(reader.feed(stream, messages)) << reader.error();
  ASSERT_EQ(messages.size(), 6u);
  for (uint32_t i = 0; i < 5; ++i) {
    EXPECT_EQ(messages[i + 1].payload.size(), 5u + 3000 + i);
    EXPECT_EQ(messages[i + 1].payload[5], static_cast<uint8_t>(i));
  }
}

TEST(RtmpSendQueue, PayloadReferencesAreHeldUntilTheBatchEnds) {
  RtmpSendQueue q;
  std::shared_ptr<const void> owner;
  q.push(media(9, 0, 10, &owner));
  q.startBatch(1 << 20);
  EXPECT_GT(owner.use_count(), 1);
  q.finishBatch();
  EXPECT_EQ(owner.use_count(), 1);
}

TEST(RtmpSendQueue, DropQueuedLeavesTheBatchInFlight) {
  RtmpSendQueue q;
  q.push(media(9, 0, 10));
  q.startBatch(1 << 20);
  q.push(media(9, 1, 20));
  q.push(RtmpSendQueue::Item{RtmpMediaMessage::owning(20, 0, {1, 2}), 3, 0, 0, false});
  EXPECT_EQ(q.dropQueued(), 25u);  // media bytes only
  EXPECT_FALSE(q.hasQueued());
  EXPECT_TRUE(q.inFlight());
  EXPECT_FALSE(q.pending(64).empty());
}

}  // namespace
}  // namespace venuecast::rtmp
