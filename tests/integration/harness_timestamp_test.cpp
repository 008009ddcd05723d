// TsPublisher -> nginx-rtmp -> StreamProbe: what a libavformat 5.1 reader (like the relay's ingest) actually sees
// when a venue's timestamps jump or wrap. The observations are written next to each test; they are facts about
// FFmpeg 5.1.9 (Debian 12) + nginx-rtmp 1.2.2 measured here, not about venuecast.
//
// Summary for the relay team:
//  * nginx-rtmp (live, atc off) forwards the publisher's RTMP timestamps unchanged to players; a player that joins
//    late sees the publisher's clock, not 0.
//  * A forward jump (+1 h) arrives as exactly that: one dts step of +3600000 ms on video and on audio.
//  * If the jump is applied to pts and dts separately (B-frames straddling it get pts - dts of ~1 h), flvdec
//    (flv_read_packet: |pts - dts| > 15 min -> "invalid timestamps") returns those packets with dts = pts =
//    AV_NOPTS_VALUE. The relay must tolerate packets without timestamps.
//  * 31-bit wrap: flvenc writes dts mod 2^31 in the FLV tag and rtmpproto puts that on the wire, so at 2^31 ms
//    (24.86 days) the wire timestamp drops to 0. With correct_ts_overflow=0 the reader sees 2147483647 -> 0.
//    With the default (correct_ts_overflow=1, pts_wrap_bits=32 for FLV) libavformat adds 2^32 to every timestamp
//    more than 60 s below the first one it saw, so the same wrap is seen as a *forward* jump to 2^32 (+2^31 ms).
//  * The same correction hits a publisher restart: a puller that stays connected (publish_notify off,
//    idle_streams on) and joined at dts > 60 s sees the new session's dts 0 as 4294967296 (a jump of ~+49.7 days),
//    with AV_PKT_DATA_NEW_EXTRADATA on the first video and audio packets. Detect discontinuities in both directions.
//  * A libavformat muxer cannot *produce* a backward jump within one session (mux.c: "non monotonically increasing
//    dts" -> EINVAL): backward jumps on the wire come from a new publisher session.
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "support/failure_dump.h"
#include "support/nginx_rtmp.h"
#include "support/packet_analysis.h"
#include "support/stream_probe.h"
#include "support/test_clip.h"
#include "support/ts_publisher.h"

namespace venuecast::testing {
namespace {

using namespace std::chrono_literals;
constexpr int64_t k2p31 = int64_t{1} << 31;
constexpr int64_t k2p32 = int64_t{1} << 32;

bool anyVideo(const std::vector<ProbePacket>& ps, const std::function<bool(const ProbePacket&)>& pred) {
  return std::any_of(ps.begin(), ps.end(), [&](const auto& p) { return p.kind == MediaKind::Video && pred(p); });
}

std::size_t countNoTimestamp(const std::vector<ProbePacket>& ps) {
  return std::count_if(ps.begin(), ps.end(), [](const auto& p) { return p.dtsMs == kNoTimestamp; });
}

StreamProbe::Options rawProbe(const std::string& url) {
  StreamProbe::Options o{url};
  o.correctTsOverflow = false;
  return o;
}

// Observed: video 2967 -> 3603000 (the keyframe at source 3000 ms), audio 2990 -> 3603011; nothing else moves,
// no packet loses its timestamps, and arrival stays smooth (pacing is by the untransformed clock).
TEST(TsPublisherTest, ForwardJumpOfAnHourArrivesAsOneStep) {
  auto clip = TestClip::standard();
  NginxRtmp nginx({NginxApp{"live"}});
  nginx.start();
  StreamProbe probe(nginx.rtmpUrl("live", "ts"));
  probe.start();
  TsPublisher pub({clip.path, nginx.rtmpUrl("live", "ts"), TsPublisher::jumpAt(3000, 3'600'000)});
  pub.start();
  FailureDump dump;
  dump.add(nginx);
  ASSERT_TRUE(probe.waitUntil([](const auto& ps) { return anyVideo(ps, [](auto& p) { return p.dtsMs >= 3'604'000; }); },
                              15s)) << probe.packetCount() << " packets";
  auto ps = probe.packets();
  auto video = PacketAnalysis::dtsDiscontinuities(ps, MediaKind::Video);
  auto audio = PacketAnalysis::dtsDiscontinuities(ps, MediaKind::Audio);
  ASSERT_EQ(video.size(), 1u);
  EXPECT_GE(video[0].fromMs, 2900);
  EXPECT_LT(video[0].fromMs, 3000);
  EXPECT_EQ(video[0].toMs, 3'603'000);
  ASSERT_EQ(audio.size(), 1u);
  EXPECT_GE(audio[0].toMs - audio[0].fromMs, 3'600'000);
  EXPECT_LT(audio[0].toMs - audio[0].fromMs, 3'600'100);
  EXPECT_EQ(countNoTimestamp(ps), 0u);
  EXPECT_LT(PacketAnalysis::maxArrivalGapMs(ps), 300);
  EXPECT_EQ(probe.connectCount(), 1);
  EXPECT_TRUE(pub.errors().empty());
}

// Observed: with pts transformed on its own, the two B-frames decoded before the keyframe at 3000 ms (dts 2934 and
// 2967, pts 3067/3000 -> +1 h) reach the reader with dts = pts = AV_NOPTS_VALUE (flvdec: |pts - dts| > 15 min).
TEST(TsPublisherTest, ForwardJumpSplittingBFramesYieldsPacketsWithoutTimestamps) {
  auto clip = TestClip::standard();
  NginxRtmp nginx({NginxApp{"live"}});
  nginx.start();
  StreamProbe probe(nginx.rtmpUrl("live", "ts"));
  probe.start();
  TsPublisher::Options o{clip.path, nginx.rtmpUrl("live", "ts"), TsPublisher::jumpAt(3000, 3'600'000)};
  o.ptsMode = TsPublisher::PtsMode::Transform;
  TsPublisher pub(o);
  pub.start();
  FailureDump dump;
  dump.add(nginx);
  ASSERT_TRUE(probe.waitUntil([](const auto& ps) { return anyVideo(ps, [](auto& p) { return p.dtsMs >= 3'604'000; }); },
                              15s));
  auto ps = probe.packets();
  std::vector<ProbePacket> lost;
  for (const auto& p : ps) if (p.dtsMs == kNoTimestamp) lost.push_back(p);
  ASSERT_EQ(lost.size(), 2u);
  for (const auto& p : lost) {
    EXPECT_EQ(p.kind, MediaKind::Video);
    EXPECT_FALSE(p.key);
  }
  auto written = pub.written();
  auto straddling = std::count_if(written.begin(), written.end(),
                                  [](const auto& w) { return w.ptsMs - w.dtsMs > 15 * 60 * 1000; });
  EXPECT_EQ(straddling, 2);
}

// Observed: the publisher hands 2147483648 (2^31) to av_write_frame without complaint; the raw reader sees
// video 2147483615 -> 0 (audio 2147483638 -> 11), the default reader sees 2147483615 -> 4294967296.
TEST(TsPublisherTest, ThirtyOneBitWrapOnTheWireAndWhatLibavformatMakesOfIt) {
  auto clip = TestClip::standard();
  NginxRtmp nginx({NginxApp{"live"}});
  nginx.start();
  StreamProbe corrected(nginx.rtmpUrl("live", "ts"));
  StreamProbe raw(rawProbe(nginx.rtmpUrl("live", "ts")));
  corrected.start();
  raw.start();
  TsPublisher pub({clip.path, nginx.rtmpUrl("live", "ts"), TsPublisher::offset(k2p31 - 3000)});
  pub.start();
  FailureDump dump;
  dump.add(nginx);
  auto pastWrap = [](const auto& ps) { return anyVideo(ps, [](auto& p) { return p.dtsMs >= k2p32 + 500; }); };
  ASSERT_TRUE(corrected.waitUntil(pastWrap, 15s));
  ASSERT_TRUE(raw.waitUntil([](const auto& ps) { return anyVideo(ps, [](auto& p) { return p.dtsMs > 500 && p.dtsMs < 5000; }); },
                            5s));
  auto written = pub.written();
  ASSERT_FALSE(written.empty());
  EXPECT_GT(written.back().dtsMs, k2p31) << "the muxer sees 64-bit dts; only the wire wraps";
  EXPECT_TRUE(pub.errors().empty());

  auto rawSteps = PacketAnalysis::dtsDiscontinuities(raw.packets(), MediaKind::Video);
  ASSERT_EQ(rawSteps.size(), 1u);
  EXPECT_GE(rawSteps[0].fromMs, k2p31 - 100);
  EXPECT_LT(rawSteps[0].fromMs, k2p31);
  EXPECT_EQ(rawSteps[0].toMs, 0) << "keyframe at source 3000 ms = 2^31 -> wire 0";
  auto rawAudio = PacketAnalysis::dtsDiscontinuities(raw.packets(), MediaKind::Audio);
  ASSERT_EQ(rawAudio.size(), 1u);
  EXPECT_LT(rawAudio[0].toMs, 100);

  auto steps = PacketAnalysis::dtsDiscontinuities(corrected.packets(), MediaKind::Video);
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0].toMs, k2p32) << "correct_ts_overflow turns the wrap into +2^31";
  EXPECT_EQ(countNoTimestamp(corrected.packets()), 0u);
  EXPECT_TRUE(PacketAnalysis::dtsMonotonic(corrected.packets(), MediaKind::Audio));
}

// Observed (puller joined at ~100 s): new session's first keyframe dts 0 arrives as 4294967296 on the default reader
// and as 0 on the raw one; both on the same connection, with NEW_EXTRADATA on the first video and audio packet.
TEST(TsPublisherTest, PublisherRestartLooksLikeAWrapToADefaultReader) {
  auto clip = TestClip::standard();
  NginxApp app{"live"};
  app.publishNotify = false;  // players stay connected across publishers (idle_streams on)
  NginxRtmp nginx({app});
  nginx.start();
  StreamProbe corrected(nginx.rtmpUrl("live", "ts"));
  StreamProbe raw(rawProbe(nginx.rtmpUrl("live", "ts")));
  corrected.start();
  raw.start();
  FailureDump dump;
  dump.add(nginx);
  {
    TsPublisher first({clip.path, nginx.rtmpUrl("live", "ts"), TsPublisher::offset(100'000)});
    first.start();
    ASSERT_TRUE(corrected.waitForPackets(45, 15s, MediaKind::Video));
  }
  TsPublisher second({clip.path, nginx.rtmpUrl("live", "ts")});
  second.start();
  ASSERT_TRUE(corrected.waitUntil([](const auto& ps) { return anyVideo(ps, [](auto& p) { return p.dtsMs >= k2p32 + 1000; }); },
                                  15s));
  ASSERT_TRUE(raw.waitUntil([](const auto& ps) { return anyVideo(ps, [](auto& p) { return p.dtsMs >= 1000 && p.dtsMs < 50'000; }); },
                            5s));
  for (auto* probe : {&corrected, &raw}) {
    EXPECT_EQ(probe->connectCount(), 1);
    auto steps = PacketAnalysis::dtsDiscontinuities(probe->packets(), MediaKind::Video);
    ASSERT_EQ(steps.size(), 1u);
    EXPECT_GT(steps[0].fromMs, 100'000);
    EXPECT_EQ(steps[0].toMs, probe == &raw ? 0 : k2p32);
    auto ps = probe->packets();
    auto firstNew = std::find_if(ps.begin(), ps.end(), [](const auto& p) { return p.newExtradata; });
    ASSERT_NE(firstNew, ps.end());
    EXPECT_EQ(firstNew->kind, MediaKind::Video);
    EXPECT_TRUE(firstNew->key);
    EXPECT_EQ(std::count_if(ps.begin(), ps.end(), [](const auto& p) { return p.newExtradata; }), 2);
  }
}

TEST(TsPublisherTest, MuxerRefusesABackwardJumpWithinOneSession) {
  auto clip = TestClip::standard();
  NginxRtmp nginx({NginxApp{"live"}});
  nginx.start();
  TsPublisher pub({clip.path, nginx.rtmpUrl("live", "ts"), TsPublisher::jumpAt(1000, -500)});
  pub.start();
  ASSERT_TRUE(pub.waitFinished(10s));
  ASSERT_EQ(pub.errors().size(), 1u);
  EXPECT_EQ(pub.errors()[0], "write: Invalid argument");
  EXPECT_LT(pub.written().back().sourceDtsMs, 1000);
}

}  // namespace
}  // namespace venuecast::testing
