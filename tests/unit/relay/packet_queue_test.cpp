#include "relay/packet_queue.h"

#include <gtest/gtest.h>

#include <thread>

#include "tests/unit/support/make_packet.h"

namespace venuecast::relay {
namespace {

using std::chrono::milliseconds;
using testing::audio;
using testing::video;

std::vector<int64_t> drainDtsMs(PacketQueue& q) {
  std::vector<int64_t> out;
  while (auto p = q.pop(milliseconds(0))) out.push_back(p->dts() / 1000);
  return out;
}

TEST(PacketQueue, StartsOnAKeyframe) {
  PacketQueue q;
  q.push(video(0));
  q.push(audio(5));
  q.push(video(33, true));
  q.push(audio(40));
  EXPECT_EQ(drainDtsMs(q), (std::vector<int64_t>{33, 40}));
  EXPECT_EQ(q.stats().droppedPackets, 0u);  // skipping to the first keyframe is not a loss
}

TEST(PacketQueue, OverflowDropsTheOldestWholeGop) {
  PacketQueue q(PacketQueue::Limits{.maxDurationUs = 2'500'000, .maxBytes = 1u << 30});
  for (int gop = 0; gop < 3; ++gop) {
    q.push(video(gop * 1000, true));
    q.push(video(gop * 1000 + 500));
  }
  // 0..2500 fits; 3000 overflows and must cost exactly the first GOP.
  q.push(video(3000, true));
  EXPECT_EQ(drainDtsMs(q), (std::vector<int64_t>{1000, 1500, 2000, 2500, 3000}));
  EXPECT_EQ(q.stats().droppedPackets, 2u);
  EXPECT_EQ(q.stats().overflows, 1u);
}

TEST(PacketQueue, OverflowWithoutALaterKeyframeRestartsAtTheNextOne) {
  PacketQueue q(PacketQueue::Limits{.maxDurationUs = 1'000'000, .maxBytes = 1u << 30});
  q.push(video(0, true));
  for (int i = 1; i <= 40; ++i) q.push(video(i * 33));  // one long GOP overflows
  EXPECT_EQ(q.stats().queuedPackets, 0u);
  q.push(video(1400));  // still mid-GOP: refused
  EXPECT_EQ(q.stats().queuedPackets, 0u);
  q.push(video(1433, true));
  q.push(video(1466));
  EXPECT_EQ(drainDtsMs(q), (std::vector<int64_t>{1433, 1466}));
  EXPECT_EQ(q.stats().droppedPackets, 42u);
}

TEST(PacketQueue, ByteBound) {
  PacketQueue q(PacketQueue::Limits{.maxDurationUs = 1'000'000'000, .maxBytes = 5000});
  q.push(video(0, true, 2000));
  q.push(video(33, false, 2000));
  q.push(video(66, true, 2000));  // 6000 bytes > 5000: first GOP goes
  EXPECT_EQ(drainDtsMs(q), (std::vector<int64_t>{66}));
  EXPECT_EQ(q.stats().queuedBytes, 0u);
}

TEST(PacketQueue, PopWaitsForAProducer) {
  PacketQueue q;
  std::thread producer([&] {
    std::this_thread::sleep_for(milliseconds(50));
    q.push(video(0, true));
  });
  auto p = q.pop(milliseconds(2000));
  producer.join();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->dts(), 0);
  EXPECT_FALSE(q.pop(milliseconds(10)));
}

TEST(PacketQueue, ResetEmptiesAndWaitsForAKeyframeAgain) {
  PacketQueue q;
  q.push(video(0, true));
  q.reset();
  q.push(video(33));
  EXPECT_EQ(q.stats().queuedPackets, 0u);
}

TEST(PacketQueue, ReadyCallbackFiresOncePerEmptyingAndPopAvailableTakesWhatIsThere) {
  PacketQueue q;
  int fired = 0;
  q.push(video(0, true));
  q.setReadyCallback([&] { ++fired; });
  EXPECT_EQ(fired, 1) << "packets already queued: fire at once";
  q.push(audio(10));
  EXPECT_EQ(fired, 1) << "not re-armed until the consumer found the queue empty";
  std::vector<ingest::PacketPtr> got;
  EXPECT_EQ(q.popAvailable(got, 1), 1u);
  EXPECT_EQ(q.popAvailable(got, 8), 1u);
  EXPECT_EQ(got.size(), 2u);
  EXPECT_EQ(q.stats().queuedBytes, 0u);
  EXPECT_EQ(q.popAvailable(got, 8), 0u);
  q.push(video(33));
  q.push(audio(40));
  EXPECT_EQ(fired, 2) << "one callback for a burst";
  q.setReadyCallback({});
  EXPECT_EQ(q.popAvailable(got, 8), 2u);
  q.push(video(66));
  EXPECT_EQ(fired, 2) << "no callback once cleared";
  EXPECT_EQ(q.pop(milliseconds(0))->dts(), 66'000);
}

TEST(PacketQueue, OffersGoStraightToAWaitingConsumerAndWhatItDeclinesIsQueuedInOrder) {
  PacketQueue q;
  std::vector<int64_t> taken;
  int ready = 0;
  bool accept = true;
  q.push(video(0, true));
  q.setReadyCallback([&] { ++ready; },
                     [&](const ingest::PacketPtr& p) {
                       if (accept) taken.push_back(p->dts() / 1000);
                       return accept;
                     });
  EXPECT_EQ(ready, 1) << "a packet is queued: the consumer is told, nothing is offered";
  q.push(audio(10));
  EXPECT_TRUE(taken.empty()) << "no offer while packets wait in the queue: it would overtake them";
  std::vector<ingest::PacketPtr> got;
  EXPECT_EQ(q.popAvailable(got, 8), 2u);

  q.push(video(33));
  q.push(audio(40));
  EXPECT_EQ(taken, (std::vector<int64_t>{33, 40})) << "the consumer waits on an empty queue: straight to it";
  EXPECT_EQ(q.stats().queuedPackets, 0u);
  EXPECT_EQ(ready, 1);

  accept = false;  // e.g. its socket is full
  q.push(video(66));
  EXPECT_EQ(ready, 2) << "declined: queued, and the consumer is told as usual";
  accept = true;
  q.push(audio(70));
  EXPECT_EQ(taken.size(), 2u) << "behind a queued packet nothing is offered";
  got.clear();
  EXPECT_EQ(q.popAvailable(got, 8), 2u);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0]->dts(), 66'000);
  EXPECT_EQ(got[1]->dts(), 70'000);
}

TEST(PacketQueue, NoOffersWhileAKeyframeIsAwaited) {
  PacketQueue q;
  int offers = 0;
  q.setReadyCallback([] {}, [&](const ingest::PacketPtr&) { return ++offers, true; });
  q.push(audio(0));   // a fresh queue waits for a keyframe: dropped, not offered
  q.push(video(10));
  EXPECT_EQ(offers, 0);
  q.push(video(33, true));
  EXPECT_EQ(offers, 0) << "the keyframe goes through the queue, which gates on it";
  std::vector<ingest::PacketPtr> got;
  EXPECT_EQ(q.popAvailable(got, 8), 1u);
  q.push(audio(40));
  EXPECT_EQ(offers, 1);
  q.setReadyCallback({});
  q.push(audio(50));
  EXPECT_EQ(offers, 1) << "cleared: no more offers";
  EXPECT_EQ(q.stats().queuedPackets, 1u);
}

}  // namespace
}  // namespace venuecast::relay
