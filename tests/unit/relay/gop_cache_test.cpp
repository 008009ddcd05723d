#include "relay/gop_cache.h"

#include <gtest/gtest.h>

#include "tests/unit/support/make_packet.h"

namespace venuecast::relay {
namespace {

using testing::audio;
using testing::video;

TEST(GopCache, EmptyUntilTheFirstKeyframe) {
  GopCache cache;
  cache.add(video(0));
  cache.add(audio(10));
  EXPECT_TRUE(cache.packets().empty());
  cache.add(video(33, true));
  ASSERT_EQ(cache.packets().size(), 1u);
  EXPECT_TRUE(cache.packets().front()->key);
}

TEST(GopCache, KeepsOnlyTheLatestGop) {
  GopCache cache;
  cache.add(video(0, true));
  cache.add(audio(10));
  cache.add(video(33));
  cache.add(video(1000, true));
  cache.add(audio(1010));
  ASSERT_EQ(cache.packets().size(), 2u);
  EXPECT_EQ(cache.packets().front()->dts(), 1'000'000);
  EXPECT_EQ(cache.bytes(), 1100u);
}

TEST(GopCache, OverlongGopIsDroppedInsteadOfGrowing) {
  GopCache cache(GopCache::Limits{.maxPackets = 10, .maxBytes = 1u << 30, .maxDurationUs = 1'000'000'000});
  cache.add(video(0, true));
  for (int i = 1; i <= 20; ++i) cache.add(video(i * 33));
  EXPECT_TRUE(cache.packets().empty());
  cache.add(video(5000, true));
  EXPECT_EQ(cache.packets().size(), 1u);
}

TEST(GopCache, DurationBound) {
  GopCache cache(GopCache::Limits{.maxPackets = 100000, .maxBytes = 1u << 30, .maxDurationUs = 2'000'000});
  cache.add(video(0, true));
  cache.add(video(1999));
  EXPECT_EQ(cache.packets().size(), 2u);
  cache.add(video(2001));
  EXPECT_TRUE(cache.packets().empty());
}

TEST(GopCache, SharesPacketsWithoutCopying) {
  GopCache cache;
  auto key = video(0, true);
  cache.add(key);
  EXPECT_EQ(cache.packets().front().get(), key.get());
  EXPECT_EQ(cache.packets().front()->av->data, key->av->data);
}

}  // namespace
}  // namespace venuecast::relay
