#include "relay/venue_hub.h"

#include <gtest/gtest.h>

#include "tests/unit/support/make_packet.h"

namespace venuecast::relay {
namespace {

using std::chrono::milliseconds;
using testing::audio;
using testing::video;

TEST(VenueHub, NewSubscriberStartsFromTheCachedKeyframe) {
  VenueHub hub("chengdu");
  hub.onStreams(testing::makeStreams());
  hub.onPacket(video(0, true));
  hub.onPacket(video(33));
  hub.onPacket(video(1000, true));
  hub.onPacket(audio(1010));
  auto q = std::make_shared<PacketQueue>();
  EXPECT_EQ(hub.subscribe(q), 2u);
  hub.onPacket(video(1033));
  auto first = q->pop(milliseconds(0));
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->key);
  EXPECT_EQ(first->dts(), 1'000'000);
  EXPECT_EQ(q->pop(milliseconds(0))->dts(), 1'010'000);
  EXPECT_EQ(q->pop(milliseconds(0))->dts(), 1'033'000);
}

TEST(VenueHub, FansOutTheSamePacketToEveryQueue) {
  VenueHub hub("dalian");
  auto a = std::make_shared<PacketQueue>();
  auto b = std::make_shared<PacketQueue>();
  hub.subscribe(a);
  hub.subscribe(b);
  auto key = video(0, true);
  hub.onPacket(key);
  EXPECT_EQ(a->pop(milliseconds(0)).get(), key.get());
  EXPECT_EQ(b->pop(milliseconds(0)).get(), key.get());
}

TEST(VenueHub, UnsubscribedQueueGetsNothing) {
  VenueHub hub("wuxi");
  auto q = std::make_shared<PacketQueue>();
  hub.subscribe(q);
  hub.unsubscribe(q);
  hub.onPacket(video(0, true));
  EXPECT_FALSE(q->pop(milliseconds(0)));
}

TEST(VenueHub, SourceLossForgetsTheStaleGop) {
  VenueHub hub("zhuhai");
  hub.onPacket(video(0, true));
  hub.onSourceLost();
  EXPECT_FALSE(hub.live());
  auto q = std::make_shared<PacketQueue>();
  EXPECT_EQ(hub.subscribe(q), 0u);
}

TEST(VenueHub, AStalledQueueDoesNotAffectItsSibling) {
  VenueHub hub("fuzhou");
  auto slow = std::make_shared<PacketQueue>(PacketQueue::Limits{.maxDurationUs = 1'000'000, .maxBytes = 1u << 30});
  auto fast = std::make_shared<PacketQueue>();
  hub.subscribe(slow);
  hub.subscribe(fast);
  size_t delivered = 0;
  for (int i = 0; i < 300; ++i) {
    hub.onPacket(video(i * 33, i % 30 == 0));
    if (fast->pop(milliseconds(0))) ++delivered;  // the fast one drains, the slow one never does
  }
  EXPECT_EQ(delivered, 300u);
  EXPECT_GT(slow->stats().droppedPackets, 0u);
  EXPECT_LE(slow->stats().queuedPackets, 31u);
}

}  // namespace
}  // namespace venuecast::relay
