#include "relay/output_timeline.h"

#include <gtest/gtest.h>

namespace venuecast::relay {
namespace {

using ingest::MediaKind;

TEST(OutputTimeline, StartsAtZeroOnTheFirstPacket) {
  OutputTimeline t;
  int64_t dts = -1, pts = -1;
  ASSERT_TRUE(t.map(MediaKind::Video, 90'000'000, 90'066'000, dts, pts));
  EXPECT_EQ(dts, 0);
  EXPECT_EQ(pts, 66);
  ASSERT_TRUE(t.map(MediaKind::Audio, 90'021'333, 90'021'333, dts, pts));
  EXPECT_EQ(dts, 21);
}

TEST(OutputTimeline, DropsWhatPrecedesTheStart) {
  OutputTimeline t;
  int64_t dts, pts;
  ASSERT_TRUE(t.map(MediaKind::Video, 1'000'000, 1'000'000, dts, pts));
  EXPECT_FALSE(t.map(MediaKind::Audio, 990'000, 990'000, dts, pts));
}

TEST(OutputTimeline, StrictlyIncreasingAfterMsRounding) {
  OutputTimeline t;
  int64_t dts, pts, prev = -1;
  for (int64_t us : {0, 300, 700, 1'100, 1'400}) {  // sub-ms steps collapse to equal ms values
    ASSERT_TRUE(t.map(MediaKind::Audio, us, us, dts, pts));
    EXPECT_GT(dts, prev);
    EXPECT_GE(pts, dts);
    prev = dts;
  }
}

TEST(OutputTimeline, StreamsAreIndependent) {
  OutputTimeline t;
  int64_t dts, pts;
  t.map(MediaKind::Video, 0, 0, dts, pts);
  t.map(MediaKind::Video, 40'000, 40'000, dts, pts);
  ASSERT_TRUE(t.map(MediaKind::Audio, 20'000, 20'000, dts, pts));
  EXPECT_EQ(dts, 20);  // audio is not pushed past video's 40
}

}  // namespace
}  // namespace venuecast::relay
