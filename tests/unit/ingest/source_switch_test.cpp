// SourceSwitch: which source is on air, when it switches (after failover_after / failback_after, on a keyframe of
// the source switched to), and that the venue's packets keep one increasing timeline across switches. Real time
// (short limits), synthetic packets.
#include "ingest/source_switch.h"

#include <gtest/gtest.h>

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
    if (sink.packets[i]->size() != sink.packets[i - 1]->size()) EXPECT_TRUE(sink.packets[i]->key) << "packet " << i;
  }
}

}  // namespace
}  // namespace venuecast::ingest
