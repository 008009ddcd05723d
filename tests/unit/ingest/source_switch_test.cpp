// SourceSwitch: which source is on air, when it switches (after failover_after / failback_after, on a keyframe of
// the source switched to), and that the venue's packets keep one increasing timeline across switches. Real time
// (short limits), synthetic packets.
#include "ingest/source_switch.h"

#include "ingest/standby_slate.h"

#include <gtest/gtest.h>

#include <mutex>
#include <thread>
#include <vector>

#include "tests/unit/support/make_packet.h"

namespace venuecast::ingest {
namespace {

using namespace std::chrono_literals;

struct RecordingSink : PacketSink {
  std::vector<StreamSetPtr> streams;
  std::vector<PacketPtr> packets;
  int lost = 0;
  void onStreams(StreamSetPtr s) override { streams.push_back(std::move(s)); }
  void onPacket(PacketPtr p) override { packets.push_back(std::move(p)); }
  void onSourceLost() override { ++lost; }
};

// A source feeding one switch input at 30 fps (a keyframe every `gop` frames), on its own timestamps.
struct FakeSource {
  SourceOutput& out;
  int64_t dtsMs = 0;
  int frame = 0;
  int size = 100;  // tells the sources apart at the venue
  int gop = 6;
  void begin() { out.beginSession(*testing::makeStreams()); }
  // Returns whether the frame was a keyframe.
  bool video() {
    AvPacketPtr p = makePacket();
    av_new_packet(p.get(), size);
    p->dts = p->pts = dtsMs;
    const bool key = frame % gop == 0;
    if (key) p->flags |= AV_PKT_FLAG_KEY;
    out.deliver(MediaKind::Video, p, AVRational{1, 1000});
    dtsMs += 33;
    ++frame;
    return key;
  }
};

class SourceSwitchTest : public ::testing::Test {
 protected:
  RecordingSink sink;
  SourceSwitch sw{"venue test", sink, {200ms, 400ms}};
  FakeSource primary{sw.input(SourceSwitch::kPrimary), 0, 0, 100};
  FakeSource backup{sw.input(SourceSwitch::kBackup), 500'000, 0, 200};  // a different clock altogether

  // Frames from `s` for `d` at ~30 fps; returns how many reached the venue.
  size_t run(FakeSource& s, std::chrono::milliseconds d, FakeSource* also = nullptr) {
    const size_t before = sink.packets.size();
    for (auto end = std::chrono::steady_clock::now() + d; std::chrono::steady_clock::now() < end;) {
      s.video();
      if (also) also->video();
      std::this_thread::sleep_for(10ms);
    }
    return sink.packets.size() - before;
  }

  void expectOneTimeline() {
    for (size_t i = 1; i < sink.packets.size(); ++i) {
      ASSERT_GT(sink.packets[i]->dts(), sink.packets[i - 1]->dts()) << "packet " << i;
    }
  }
};

TEST_F(SourceSwitchTest, AtStartTheBackupWaitsForThePrimaryForFailoverAfter) {
  backup.begin();
  EXPECT_EQ(run(backup, 100ms), 0u) << "the primary gets failover_after to show up";
  EXPECT_GT(run(backup, 400ms), 0u);
  ASSERT_FALSE(sink.packets.empty());
  EXPECT_TRUE(sink.packets.front()->key) << "a source goes on air at a keyframe";
}

TEST_F(SourceSwitchTest, APrimaryBlipShorterThanFailoverAfterDoesNotSwitch) {
  primary.begin();
  backup.begin();
  run(primary, 300ms, &backup);
  const size_t streamsBefore = sink.streams.size();
  sw.input(SourceSwitch::kPrimary).endSession();  // e.g. the venue server restarted
  run(backup, 100ms);
  primary.begin();
  run(primary, 300ms, &backup);
  // The primary's new session is one more venue session (its reconnect); the backup never went on air.
  EXPECT_EQ(sink.streams.size(), streamsBefore + 1);
  for (const auto& p : sink.packets) EXPECT_EQ(p->size(), 100) << "a backup packet reached the venue";
  expectOneTimeline();
}

TEST_F(SourceSwitchTest, FailoverAndFailbackOnKeyframesWithOneTimeline) {
  primary.begin();
  backup.begin();
  run(primary, 300ms, &backup);
  const size_t sessionsBefore = sink.streams.size();
  // The primary goes silent: the backup takes over once failover_after has passed, at one of its keyframes.
  run(backup, 150ms);
  EXPECT_EQ(sink.streams.size(), sessionsBefore) << "too early";
  run(backup, 300ms);
  ASSERT_EQ(sink.streams.size(), sessionsBefore + 1) << "no switch to the backup";
  // The primary is back: it returns only after failback_after of being live.
  primary.begin();
  run(primary, 200ms, &backup);
  EXPECT_EQ(sink.streams.size(), sessionsBefore + 1) << "the primary is back on air before failback_after";
  run(primary, 400ms, &backup);
  EXPECT_EQ(sink.streams.size(), sessionsBefore + 2);
  EXPECT_GE(sink.lost, 2);
  EXPECT_EQ(sink.packets.back()->size(), 100) << "the primary is on air at the end";
  expectOneTimeline();
  // Each switch starts on a keyframe of the source switched to.
  for (size_t i = 1; i < sink.packets.size(); ++i) {
    if (sink.packets[i]->size() != sink.packets[i - 1]->size()) {
      EXPECT_TRUE(sink.packets[i]->key) << "packet " << i;
    }
  }
}

// With a StandbySlate: the slate thread delivers too, so the sink is read under its lock.
struct LockedSink : PacketSink {
  std::mutex mu;
  std::vector<PacketPtr> packets;
  int sessions = 0;
  void onStreams(StreamSetPtr) override {
    std::lock_guard lock(mu);
    ++sessions;
  }
  void onPacket(PacketPtr p) override {
    std::lock_guard lock(mu);
    packets.push_back(std::move(p));
  }
  void onSourceLost() override {}
  std::vector<PacketPtr> snapshot() {
    std::lock_guard lock(mu);
    return packets;
  }
};

// The slate's packets carry the rendered stream's parameters (with x264's SPS/PPS); the fake source's have none.
bool fromSlate(const PacketPtr& p) { return p->streams->video && p->streams->video->extradata_size > 0; }

// A venue with a standby slate and one fake 160x90 source at 30 fps.
struct StandbyVenue {
  explicit StandbyVenue(std::chrono::milliseconds failoverAfter)
      : sw("venue test", sink, options(failoverAfter)), slate("venue test", sw, {"Test venue", nullptr}) {
    streams->video = copyParameters(testing::makeStreams()->video.get());
    streams->video->width = 160;
    streams->video->height = 90;
    slate.start();
  }
  static SourceSwitch::Options options(std::chrono::milliseconds failoverAfter) {
    SourceSwitch::Options o;
    o.failoverAfter = failoverAfter;
    return o;
  }
  void livePackets(std::chrono::milliseconds d) {
    for (auto end = std::chrono::steady_clock::now() + d; std::chrono::steady_clock::now() < end;) {
      primary.video();
      std::this_thread::sleep_for(33ms);
    }
  }

  LockedSink sink;
  SourceSwitch sw;
  StandbySlate slate;
  std::shared_ptr<StreamSet> streams = std::make_shared<StreamSet>();
  FakeSource primary{sw.input(SourceSwitch::kPrimary), 0, 0, 100};
};

TEST(SourceSwitchStandby, NothingLiveForFailoverAfterPutsTheSlateOnAirUntilTheSourceIsBackAtItsKeyframe) {
  StandbyVenue venue(400ms);
  auto& [sink, sw, slate, streams, primary] = venue;
  auto livePackets = [&](std::chrono::milliseconds d) { venue.livePackets(d); };

  std::this_thread::sleep_for(600ms);
  EXPECT_TRUE(sink.snapshot().empty()) << "no slate before the venue was ever live (its format is unknown)";
  sw.input(SourceSwitch::kPrimary).beginSession(*streams);
  livePackets(500ms);
  const auto lost = std::chrono::steady_clock::now() - 33ms;  // "nothing live" counts from the last packet
  sw.input(SourceSwitch::kPrimary).endSession();
  std::this_thread::sleep_for(300ms);
  const size_t liveCount = sink.snapshot().size();
  EXPECT_FALSE(fromSlate(sink.snapshot().back())) << "the slate came before failover_after";

  // The slate goes on air about failover_after after the loss, starting on its keyframe.
  std::chrono::steady_clock::time_point onAir{};
  while (std::chrono::steady_clock::now() - lost < 5s) {
    const auto now = sink.snapshot();
    if (now.size() > liveCount) {
      onAir = std::chrono::steady_clock::now();
      EXPECT_TRUE(fromSlate(now[liveCount]));
      EXPECT_TRUE(now[liveCount]->key);
      break;
    }
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_NE(onAir, std::chrono::steady_clock::time_point{}) << "no slate within 5 s";
  EXPECT_GE(onAir - lost, 390ms);
  EXPECT_LT(onAir - lost, 1500ms);
  std::this_thread::sleep_for(2500ms);  // across a loop of the 2 s clip
  const auto during = sink.snapshot();
  const size_t slateVideo = static_cast<size_t>(std::count_if(during.begin() + static_cast<long>(liveCount), during.end(),
      [](const PacketPtr& p) { return p->kind == MediaKind::Video; }));
  EXPECT_GE(slateVideo, 70u) << "the slate is paced at the venue's rate (33 ms steps: 30.3 fps) for 2.5 s";
  EXPECT_LE(slateVideo, 85u);

  // The source is back: it takes over at its first keyframe, and the slate stops.
  primary.frame = 1;  // mid-GOP first: those frames must wait for the keyframe
  sw.input(SourceSwitch::kPrimary).beginSession(*streams);
  livePackets(600ms);
  std::this_thread::sleep_for(200ms);
  slate.stop();
  const auto all = sink.snapshot();
  size_t back = during.size();
  while (back < all.size() && fromSlate(all[back])) ++back;
  ASSERT_LT(back, all.size()) << "the source never came back on air";
  EXPECT_TRUE(all[back]->key);
  for (size_t i = back; i < all.size(); ++i) EXPECT_FALSE(fromSlate(all[i])) << "slate packet " << i << " after the return";
  EXPECT_EQ(sink.sessions, 3) << "live, slate, live";

  // One timeline per stream throughout, and the video grid's gaps: the outage itself, then about a frame.
  int64_t lastVideo = -1, lastAudio = -1;
  for (size_t i = 0; i < all.size(); ++i) {
    int64_t& last = all[i]->kind == MediaKind::Video ? lastVideo : lastAudio;
    EXPECT_GT(all[i]->dts(), last) << "packet " << i;
    last = all[i]->dts();
  }
}

// A source that stalls (connected, sending nothing) gets the slate too, and while the venue is live the slate's
// thread barely wakes: the switch tells it when a session ends, and it looks on its own only a few times per
// failover_after (each wake-up is a context switch on every venue, all event long).
TEST(SourceSwitchStandby, AStalledSourceGetsTheSlateAndALiveVenueBarelyWakesTheSlateThread) {
  StandbyVenue venue(1000ms);
  auto& [sink, sw, slate, streams, primary] = venue;
  auto livePackets = [&](std::chrono::milliseconds d) { venue.livePackets(d); };

  std::this_thread::sleep_for(300ms);
  EXPECT_LE(slate.looks(), 2u) << "a venue never live: nothing to look at until it goes on air";
  sw.input(SourceSwitch::kPrimary).beginSession(*streams);
  livePackets(300ms);
  const uint64_t looksBefore = slate.looks();
  livePackets(3000ms);
  const uint64_t looksLive = slate.looks() - looksBefore;
  EXPECT_LE(looksLive, 8u) << "3 s live with failover_after 1 s: about one look per 500 ms (it was 30 with a 100 ms tick)";

  // The source stalls with its session open: the slate still goes on air about failover_after after its last packet.
  const auto lastPacket = std::chrono::steady_clock::now() - 33ms;
  const size_t liveCount = sink.snapshot().size();
  std::chrono::steady_clock::time_point onAir{};
  while (std::chrono::steady_clock::now() - lastPacket < 5s) {
    const auto now = sink.snapshot();
    if (now.size() > liveCount) {
      onAir = std::chrono::steady_clock::now();
      EXPECT_TRUE(fromSlate(now[liveCount]));
      break;
    }
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_NE(onAir, std::chrono::steady_clock::time_point{}) << "no slate within 5 s of the stall";
  EXPECT_GE(onAir - lastPacket, 990ms);
  EXPECT_LT(onAir - lastPacket, 1600ms) << "the card is rendered while the stall lasts, not after failover_after";

  // The stalled session resumes: it takes over at its next keyframe.
  primary.frame = 1;
  livePackets(600ms);
  slate.stop();
  const auto all = sink.snapshot();
  ASSERT_FALSE(all.empty());
  EXPECT_FALSE(fromSlate(all.back())) << "the source is back on air at the end";
  EXPECT_EQ(sink.sessions, 3) << "live, slate, live";
}

}  // namespace
}  // namespace venuecast::ingest
