#include "relay/backoff.h"

#include <gtest/gtest.h>

#include <set>

namespace venuecast::relay {
namespace {

using std::chrono::milliseconds;

TEST(Backoff, GrowsFromHalfASecondToTheCap) {
  Backoff b(Backoff::Options{.jitter = 0.0}, 1);
  EXPECT_EQ(b.next(milliseconds(0)).count(), 500);
  EXPECT_EQ(b.next(milliseconds(0)).count(), 1000);
  EXPECT_EQ(b.next(milliseconds(0)).count(), 2000);
  EXPECT_EQ(b.next(milliseconds(0)).count(), 4000);
  EXPECT_EQ(b.next(milliseconds(0)).count(), 8000);
  EXPECT_EQ(b.next(milliseconds(0)).count(), 10000);
  EXPECT_EQ(b.next(milliseconds(0)).count(), 10000);
}

TEST(Backoff, ShortLivedSessionsKeepBackingOff) {
  Backoff b(Backoff::Options{.jitter = 0.0}, 1);
  for (int i = 0; i < 4; ++i) b.next(milliseconds(0));
  EXPECT_EQ(b.next(milliseconds(30'000)).count(), 8000);  // up for 30 s: not yet stable
}

TEST(Backoff, ResetsAfterAStableMinute) {
  Backoff b(Backoff::Options{.jitter = 0.0}, 1);
  for (int i = 0; i < 6; ++i) b.next(milliseconds(0));
  EXPECT_EQ(b.next(milliseconds(60'000)).count(), 500);
}

TEST(Backoff, JitterStaysWithinBoundsAndVaries) {
  Backoff b(Backoff::Options{}, 42);
  std::set<int64_t> seen;
  for (int i = 0; i < 50; ++i) {
    b.reset();
    const auto d = b.next(milliseconds(0)).count();
    EXPECT_GE(d, 400);
    EXPECT_LE(d, 600);
    seen.insert(d);
  }
  EXPECT_GT(seen.size(), 10u);
  for (int i = 0; i < 20; ++i) EXPECT_LE(b.next(milliseconds(0)).count(), 10'000);
}

}  // namespace
}  // namespace venuecast::relay
