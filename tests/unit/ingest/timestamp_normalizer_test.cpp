#include "ingest/timestamp_normalizer.h"

#include <gtest/gtest.h>

#include <vector>

namespace venuecast::ingest {
namespace {

constexpr int64_t kMs = 1000;

struct Feed {
  TimestampNormalizer n;
  int64_t wall = 1'000'000'000;
  // Returns normalised dts (µs).
  int64_t push(MediaKind kind, int64_t dtsMs, int64_t ptsMs = -1, int64_t durMs = 33) {
    int64_t dts = dtsMs * kMs;
    int64_t pts = (ptsMs < 0 ? dtsMs : ptsMs) * kMs;
    EXPECT_TRUE(n.normalize(kind, dts, pts, durMs * kMs, wall));
    lastPts = pts;
    return dts;
  }
  int64_t lastPts = 0;
};

TEST(TimestampNormalizer, FirstSessionStartsAtZeroAndKeepsSpacing) {
  Feed f;
  EXPECT_EQ(f.push(MediaKind::Video, 5000), 0);
  f.wall += 33 * kMs;
  EXPECT_EQ(f.push(MediaKind::Video, 5033), 33 * kMs);
  EXPECT_EQ(f.push(MediaKind::Audio, 5021), 21 * kMs);
}

TEST(TimestampNormalizer, BFramesKeepTheirPtsOffset) {
  Feed f;
  f.push(MediaKind::Video, 1000, 1066);
  EXPECT_EQ(f.lastPts, 66 * kMs);
  f.wall += 33 * kMs;
  const int64_t dts = f.push(MediaKind::Video, 1033, 1133);
  EXPECT_EQ(f.lastPts - dts, 100 * kMs);
}

TEST(TimestampNormalizer, NewSessionContinuesAfterTheWallClockGap) {
  Feed f;
  int64_t last = 0;
  for (int i = 0; i < 100; ++i) {
    last = f.push(MediaKind::Video, 40'000 + i * 33);
    f.wall += 33 * kMs;
  }
  f.wall += 3'000 * kMs;  // the venue was away for 3 s
  f.n.newSession();
  const int64_t first = f.push(MediaKind::Video, 0);  // the encoder restarts at 0
  EXPECT_GE(first, last + 3'000 * kMs);
  EXPECT_LE(first, last + 3'100 * kMs);
  f.wall += 21 * kMs;
  // The other stream of the new session shares the offset: A/V sync is preserved exactly.
  EXPECT_EQ(f.push(MediaKind::Audio, 21), first + 21 * kMs);
  EXPECT_EQ(f.n.discontinuities(), 1);
}

TEST(TimestampNormalizer, ReconnectWithoutGapStillMovesForward) {
  Feed f;
  const int64_t last = f.push(MediaKind::Video, 100'000);
  f.n.newSession();
  EXPECT_GT(f.push(MediaKind::Video, 100'000), last);
}

// A switch between two live sources cuts the old one mid-GOP: its last P-frame is presented after the frames
// sent so far (pts ahead of dts by the B-frame delay). The new session's keyframe must be presented after it, or
// a decoder outputs frames out of order.
TEST(TimestampNormalizer, ANewSessionIsPresentedAfterEverythingAlreadySent) {
  Feed f;
  f.push(MediaKind::Video, 1000, 1066);           // I
  f.wall += 33 * kMs;
  f.push(MediaKind::Video, 1033, 1166);           // P, shown 4 frames later
  const int64_t shownLast = f.lastPts;
  f.wall += 33 * kMs;
  f.push(MediaKind::Video, 1066, 1100);           // B
  f.n.newSession();                               // the other source, at its keyframe, no time lost
  f.push(MediaKind::Video, 70'000, 70'066);
  EXPECT_GE(f.lastPts, shownLast + 33 * kMs) << "one frame after the last one shown";
  EXPECT_LE(f.lastPts, shownLast + 100 * kMs);
}

// Each switch between live sources lands a frame or so ahead of real time: the old source is cut after a P-frame
// presented later than the frames before it, and the new keyframe must be shown after that one. Twenty switches
// must not leave the timeline twenty frames ahead of live: the next outage's gap absorbs the lead.
TEST(TimestampNormalizer, SwitchesDoNotAccumulateALeadOverTheWallClock) {
  Feed f;
  int64_t src = 0;
  int64_t lastDts = 0;
  auto session = [&](int n) {  // n frames, the last one a P-frame shown three frames after its decode time
    for (int i = 0; i < n; ++i) {
      lastDts = f.push(MediaKind::Video, src, src + (i + 1 == n ? 133 : 66));
      src += 33;
      f.wall += 33 * kMs;
    }
  };
  auto lead = [&] { return lastDts - (f.wall - 33 * kMs); };
  session(30);
  const int64_t liveLead = lead();
  for (int s = 0; s < 20; ++s) {
    f.n.newSession();
    src += 100'000;  // another source, its own clock, no time lost
    session(30);
  }
  EXPECT_GT(lead() - liveLead, 15 * 33 * kMs) << "precondition: switches without a gap land ahead";
  f.wall += 2'000 * kMs;  // an outage
  f.n.newSession();
  src += 100'000;
  session(1);
  EXPECT_LE(lead() - liveLead, 2 * 34 * kMs) << "back at the live edge (within the frame grid and B-frame delay)";
  EXPECT_GE(lead() - liveLead, 0) << "never behind where it ran live";
}

TEST(TimestampNormalizer, InBandBackwardJumpIsRebased) {
  Feed f;
  int64_t last = 0;
  for (int i = 0; i < 30; ++i) {
    last = f.push(MediaKind::Video, 10'000 + i * 33);
    f.wall += 33 * kMs;
  }
  const int64_t after = f.push(MediaKind::Video, 0);  // publisher restarted; puller stayed connected
  EXPECT_GT(after, last);
  EXPECT_LE(after - last, 40 * kMs);
  EXPECT_EQ(f.n.discontinuities(), 1);
}

TEST(TimestampNormalizer, ForwardJumpByHoursIsRebased) {
  Feed f;
  int64_t last = 0;
  for (int i = 0; i < 30; ++i) {
    last = f.push(MediaKind::Video, i * 33);
    f.wall += 33 * kMs;
  }
  const int64_t after = f.push(MediaKind::Video, 3'600'000 + 990);
  EXPECT_GT(after, last);
  EXPECT_LE(after - last, 40 * kMs);
  f.wall += 33 * kMs;
  EXPECT_EQ(f.push(MediaKind::Video, 3'600'000 + 1023) - after, 33 * kMs);
}

TEST(TimestampNormalizer, ThirtyTwoBitWrapIsContinuous) {
  Feed f;
  const int64_t wrap = int64_t{1} << 32;
  int64_t last = 0;
  for (int i = 0; i < 30; ++i) {
    last = f.push(MediaKind::Video, wrap - 990 + i * 33);
    f.wall += 33 * kMs;
  }
  const int64_t after = f.push(MediaKind::Video, 0);
  EXPECT_GT(after, last);
  EXPECT_LE(after - last, 40 * kMs);
}

TEST(TimestampNormalizer, InterleavingJitterIsNotADiscontinuity) {
  Feed f;
  f.push(MediaKind::Video, 1000);
  f.push(MediaKind::Audio, 700);  // audio 300 ms behind video is normal interleaving
  f.wall += 20 * kMs;
  f.push(MediaKind::Audio, 721);
  f.push(MediaKind::Video, 1033);
  EXPECT_EQ(f.n.discontinuities(), 0);
}

TEST(TimestampNormalizer, BurstAfterANetworkHiccupIsNotADiscontinuity) {
  Feed f;
  f.push(MediaKind::Video, 0);
  f.wall += 2'000 * kMs;  // nothing for 2 s, then the backlog arrives at once
  for (int i = 1; i <= 60; ++i) f.push(MediaKind::Video, i * 33);
  EXPECT_EQ(f.n.discontinuities(), 0);
}

TEST(TimestampNormalizer, DtsNeverStepsBackWithinAStream) {
  Feed f;
  const int64_t a = f.push(MediaKind::Video, 1000);
  const int64_t b = f.push(MediaKind::Video, 990);  // small reorder within tolerance
  EXPECT_GT(b, a);
}

TEST(TimestampNormalizer, MissingTimestampsFallBackOrDrop) {
  TimestampNormalizer n;
  int64_t dts = AV_NOPTS_VALUE, pts = AV_NOPTS_VALUE;
  EXPECT_FALSE(n.normalize(MediaKind::Audio, dts, pts, 0, 0));
  dts = AV_NOPTS_VALUE;
  pts = 5000;
  EXPECT_TRUE(n.normalize(MediaKind::Audio, dts, pts, 0, 0));
  EXPECT_EQ(dts, pts);
}

}  // namespace
}  // namespace venuecast::ingest
