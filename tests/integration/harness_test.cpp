// Smoke tests of the integration harness itself (no venuecast needed): processes, ports, nginx-rtmp, clips,
// ffmpeg publishing, StreamProbe, recording + ffprobe, access log, packet matching.
// Timestamp edge cases (TsPublisher: jumps, 31-bit wrap) are in harness_timestamp_test.cpp.
#include <gtest/gtest.h>
#include <signal.h>

#include <set>
#include <thread>

#include "support/child_process.h"
#include "support/ffmpeg_publisher.h"
#include "support/ffprobe_reader.h"
#include "support/free_port.h"
#include "support/failure_dump.h"
#include "support/nginx_rtmp.h"
#include "support/packet_analysis.h"
#include "support/packet_matcher.h"
#include "support/poll_until.h"
#include "support/stream_probe.h"
#include "support/temp_dir.h"
#include "support/test_clip.h"
#include "support/venuecast_process.h"

namespace venuecast::testing {
namespace {

using namespace std::chrono_literals;

TEST(ChildProcessTest, CapturesOutputExitCodeAndEnvironment) {
  TempDir dir;
  ChildProcess p({{"sh", "-c", "echo hello $VC_FOO; echo oops >&2; sleep 0.2; echo done; exit 3"},
                  {{"VC_FOO", "bar"}}, dir.file("log"), {}, {}});
  EXPECT_GT(p.pid(), 0);
  EXPECT_TRUE(p.waitForLog(std::regex("^hello bar$"), 5s));
  auto st = p.waitExit(5s);
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->exited);
  EXPECT_EQ(st->exitCode, 3);
  EXPECT_FALSE(p.running());
  EXPECT_FALSE(p.signal(SIGTERM)) << "a reaped child must not be signalled";
  EXPECT_EQ(p.countLogLines(std::regex("oops|done")), 2u);
  EXPECT_FALSE(p.waitForLog(std::regex("never printed"), 5s)) << "an exited child ends the wait early";
}

TEST(ChildProcessTest, TerminateEscalatesToSigkillAndExecFailureThrows) {
  TempDir dir;
  ChildProcess stubborn({{"sh", "-c", "trap '' TERM; exec sleep 30"}, {}, dir.file("log"), {}, {}});
  std::this_thread::sleep_for(100ms);  // let the trap take effect
  auto st = stubborn.terminate(300ms);
  EXPECT_TRUE(st.killed);
  EXPECT_EQ(st.termSignal, SIGKILL);
  EXPECT_GE(st.elapsed, 300ms);
  EXPECT_LT(st.elapsed, 3s);

  ChildProcess polite({{"sleep", "30"}, {}, dir.file("log2"), {}, {}});
  EXPECT_TRUE(polite.suspend());
  auto st2 = polite.terminate(2s);  // terminate() also sends SIGCONT, so a stopped child can act on SIGTERM
  EXPECT_FALSE(st2.killed);
  EXPECT_EQ(st2.termSignal, SIGTERM);

  EXPECT_THROW(ChildProcess({{"/nonexistent/binary"}, {}, dir.file("log3"), {}, {}}), std::runtime_error);
}

TEST(ChildProcessTest, OutlivesTheThreadThatCreatedIt) {
  TempDir dir;
  std::unique_ptr<ChildProcess> child;
  std::thread([&] { child = std::make_unique<ChildProcess>(ChildProcess::Options{{"sleep", "30"}, {}, dir.file("log"), {}, {}}); })
      .join();
  std::this_thread::sleep_for(200ms);
  EXPECT_TRUE(child->running()) << "PR_SET_PDEATHSIG must not fire when a helper thread ends";
  EXPECT_EQ(child->terminate().termSignal, SIGTERM);
}

TEST(FreePortTest, HandsOutDistinctBindablePorts) {
  std::set<uint16_t> ports;
  for (int i = 0; i < 20; ++i) ports.insert(freePort());
  EXPECT_EQ(ports.size(), 20u);
  for (auto p : ports) EXPECT_FALSE(portAccepts(p));
}

TEST(NginxRtmpTest, StartsSuspendsRestartsAndStops) {
  NginxRtmp nginx({NginxApp{"live"}});
  nginx.start();
  EXPECT_TRUE(portAccepts(nginx.rtmpPort()));
  EXPECT_NE(nginx.statXml().find("<nginx_rtmp_version>"), std::string::npos);
  EXPECT_EQ(nginx.rtmpUrl("live", "x"), "rtmp://127.0.0.1:" + std::to_string(nginx.rtmpPort()) + "/live/x");

  ASSERT_TRUE(nginx.suspend());
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(nginx.statXml(500ms), "") << "a stopped nginx cannot answer";
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s) << "statXml is bounded";
  ASSERT_TRUE(nginx.resume());
  EXPECT_NE(nginx.statXml(), "");

  auto rtmp = nginx.rtmpPort(), http = nginx.httpPort();
  nginx.restart();
  EXPECT_EQ(nginx.rtmpPort(), rtmp);
  EXPECT_EQ(nginx.httpPort(), http);
  EXPECT_NE(nginx.statXml(), "");
  nginx.stop();
  EXPECT_FALSE(nginx.running());
  EXPECT_FALSE(portAccepts(rtmp));
}

TEST(TestClipTest, FactsMatchTheSpec) {
  auto clip = TestClip::standard();
  EXPECT_TRUE(std::filesystem::exists(clip.path));
  EXPECT_EQ(clip.videoFrames, 300);
  EXPECT_EQ(clip.keyframes, 10);
  EXPECT_NEAR(clip.audioFrames, 48000 * 10 / 1024, 3);
  EXPECT_EQ(clip.durationMs, 10000);
  EXPECT_EQ(clip.firstVideoDtsMs, 0);
  auto hd = TestClip::hd720();
  auto probe = FfprobeReader::read(hd.path);
  ASSERT_TRUE(probe.ok) << probe.error;
  ASSERT_NE(probe.stream("video"), nullptr);
  EXPECT_EQ(probe.stream("video")->width, 1280);
  EXPECT_EQ(probe.stream("video")->profile, "High");
  EXPECT_NE(hd.videoExtradataHash, clip.videoExtradataHash) << "codec-change tests need a different SPS";
  EXPECT_EQ(probe.stream("audio")->extradataSize, clip.audioExtradataSize);
}

TEST(HarnessPublishTest, ProbeSeesRealTimeVideoAndAudioWithBFrames) {
  auto clip = TestClip::standard();
  NginxRtmp nginx({NginxApp{"live"}});
  nginx.start();
  StreamProbe probe(nginx.rtmpUrl("live", "s"));
  probe.start();  // before the publisher: it waits in the (idle) stream
  FfmpegPublisher pub(clip.path, nginx.rtmpUrl("live", "s"));
  FailureDump dump;
  dump.add(nginx).add(pub.process(), "ffmpeg");
  ASSERT_TRUE(probe.waitForPackets(180, 20s, MediaKind::Video)) << probe.packetCount() << " packets";

  auto packets = probe.packets();
  auto video = PacketAnalysis::ofKind(packets, MediaKind::Video);
  EXPECT_TRUE(video.front().key) << "a player that waits for the stream gets it from the first keyframe";
  for (auto gap : PacketAnalysis::keyframeIntervalsMs(packets)) EXPECT_NEAR(gap, 1000, 34);
  EXPECT_GT(PacketAnalysis::countReordered(packets), 50u) << "B-frames: pts > dts";
  EXPECT_TRUE(PacketAnalysis::dtsMonotonic(packets, MediaKind::Video));
  EXPECT_TRUE(PacketAnalysis::dtsMonotonic(packets, MediaKind::Audio));
  auto steady = PacketAnalysis::arrivedBetween(packets, video.front().arrivalUs + 1'000'000, INT64_MAX);
  EXPECT_NEAR(PacketAnalysis::mediaRate(steady, MediaKind::Video), 1.0, 0.1);
  EXPECT_NEAR(PacketAnalysis::mediaRate(steady, MediaKind::Audio), 1.0, 0.1);
  EXPECT_LT(PacketAnalysis::maxAvSkewMs(packets), 300);

  auto session = probe.lastSession();
  ASSERT_TRUE(session);
  const auto* v = session->stream(MediaKind::Video);
  const auto* a = session->stream(MediaKind::Audio);
  ASSERT_TRUE(v && a);
  EXPECT_EQ(v->codecName, "h264");
  EXPECT_EQ(v->profile, "High");
  EXPECT_EQ(v->width, 640);
  EXPECT_EQ(v->height, 360);
  EXPECT_EQ(static_cast<int>(v->extradata.size()), clip.videoExtradataSize);
  EXPECT_EQ(a->codecName, "aac");
  EXPECT_EQ(a->profile, "LC");
  EXPECT_EQ(a->sampleRate, 48000);
  EXPECT_EQ(a->channels, 2);
  EXPECT_EQ(probe.connectCount(), 1);

  auto stats = nginx.streamStats("live", "s");
  EXPECT_TRUE(stats.publishing);
  EXPECT_GT(stats.bytesIn, 300'000);
  EXPECT_EQ(stats.clients, 2);
  EXPECT_EQ(stats.players, 1);
  EXPECT_EQ(stats.publishEvents, 1);
  EXPECT_EQ(stats.width, 640);
  EXPECT_EQ(stats.videoCodec, "H264");
  EXPECT_EQ(stats.audioCodec, "AAC");
}

TEST(HarnessPublishTest, RecordAllWritesADecodableFlv) {
  auto clip = TestClip::standard();
  NginxApp rec{"rec"};
  rec.record = true;
  NginxRtmp nginx({rec});
  nginx.start();
  FfmpegPublisher::Options o{clip.path, nginx.rtmpUrl("rec", "r1")};
  o.loop = false;
  o.durationSeconds = 4;
  FfmpegPublisher pub(o);
  FailureDump dump;
  dump.add(nginx).add(pub.process(), "ffmpeg");
  auto st = pub.waitExit(15s);
  ASSERT_TRUE(st && st->ok()) << pub.logText();
  // nginx closes the recording when the publisher's session ends; the access log line marks that moment.
  ASSERT_TRUE(pollUntil([&] { return !nginx.accessLog().empty(); }, 5s));
  auto file = nginx.recordPath("rec", "r1");
  ASSERT_TRUE(std::filesystem::exists(file)) << file;
  auto probe = FfprobeReader::read(file);
  ASSERT_TRUE(probe.ok) << probe.error;
  ASSERT_TRUE(probe.stream("video") && probe.stream("audio"));
  EXPECT_EQ(probe.stream("video")->codecName, "h264");
  EXPECT_EQ(probe.stream("video")->extradataHash, clip.videoExtradataHash) << "nginx records the SPS/PPS as sent";
  EXPECT_EQ(probe.stream("audio")->sampleRate, 48000);
  auto video = probe.packetsOf("video");
  EXPECT_NEAR(static_cast<int>(video.size()), 120, 3);
  ASSERT_FALSE(video.empty());
  EXPECT_TRUE(video.front().key);
  int keys = 0;
  for (const auto& p : video) keys += p.key;
  EXPECT_NEAR(keys, 4, 1) << "1 s GOPs; -t 4 may keep the keyframe at 4.0 s";
  auto decode = FfprobeReader::decodeCheck(file);
  EXPECT_EQ(decode.exitCode, 0) << decode.stderrText;
}

TEST(HarnessPublishTest, SuspendedNginxStallsTheProbeAndResumes) {
  auto clip = TestClip::standard();
  NginxRtmp nginx({NginxApp{"live"}});
  nginx.start();
  FfmpegPublisher pub(clip.path, nginx.rtmpUrl("live", "s"));
  FailureDump dump;
  dump.add(nginx).add(pub.process(), "ffmpeg");
  StreamProbe probe(nginx.rtmpUrl("live", "s"));
  probe.start();
  ASSERT_TRUE(probe.waitForPackets(60, 15s, MediaKind::Video));

  auto suspendedAt = StreamProbe::nowUs();
  ASSERT_TRUE(nginx.suspend());
  std::this_thread::sleep_for(2s);
  auto resumedAt = StreamProbe::nowUs();
  auto before = probe.packetCount();
  ASSERT_TRUE(nginx.resume());
  ASSERT_TRUE(probe.waitForPackets(before + 60, 10s, MediaKind::Video));

  // Data already in the socket when nginx stopped may still trickle in for a moment; after that, nothing.
  auto during = PacketAnalysis::arrivedBetween(probe.packets(), suspendedAt + 300'000, resumedAt);
  EXPECT_TRUE(during.empty()) << during.size() << " packets arrived while nginx was stopped";
  EXPECT_GE(PacketAnalysis::maxArrivalGapMs(probe.packets()), 1500);
  EXPECT_EQ(probe.connectCount(), 1) << "a 2 s stall is shorter than rw_timeout (5 s): same session";
  EXPECT_TRUE(pub.running()) << "ffmpeg waits out the stall too";
}

TEST(HarnessPublishTest, ProbeReconnectsWhenThePublisherIsDroppedAndReturns) {
  auto clip = TestClip::standard();
  NginxRtmp nginx({NginxApp{"live"}});  // publish_notify on: the player gets EOF when the publisher goes
  nginx.start();
  StreamProbe probe(nginx.rtmpUrl("live", "s"));
  probe.start();
  auto pub = std::make_unique<FfmpegPublisher>(clip.path, nginx.rtmpUrl("live", "s"));
  FailureDump dump;
  dump.add(nginx).add("ffmpeg", [&pub] { return pub ? pub->logText() : std::string(); });
  ASSERT_TRUE(probe.waitForPackets(30, 15s, MediaKind::Video));
  EXPECT_EQ(nginx.dropPublisher("live", "s"), 1);
  auto st = pub->waitExit(5s);
  ASSERT_TRUE(st) << "ffmpeg should fail on the dropped connection";
  EXPECT_FALSE(st->ok());
  ASSERT_TRUE(pollUntil([&] { return probe.lastSession() && probe.lastSession()->endedUs != 0; }, 10s));
  EXPECT_EQ(probe.lastSession()->endReason, "End of file");

  pub = std::make_unique<FfmpegPublisher>(clip.path, nginx.rtmpUrl("live", "s"));
  ASSERT_TRUE(probe.waitForConnects(2, 15s)) << "errors: " << probe.errors().size();
  ASSERT_TRUE(probe.waitUntil([](const auto& ps) { return !ps.empty() && ps.back().session == 1; }, 10s));
  EXPECT_EQ(nginx.publishCount("live", "s"), 2);
  auto second = PacketAnalysis::ofSession(probe.packets(), 1);
  ASSERT_FALSE(second.empty());
  EXPECT_LT(PacketAnalysis::ofKind(second, MediaKind::Video).front().dtsMs, 2000) << "a new ffmpeg starts at 0";
}

TEST(HarnessPublishTest, AccessLogShowsAppNameAndArgsOfABilibiliStyleKey) {
  auto clip = TestClip::standard();
  NginxRtmp nginx({NginxApp{"live-bvc"}});
  nginx.start();
  const std::string key = "?streamname=live_123_456&key=0123abcd&schedule=rtmp&pflag=1";
  FfmpegPublisher::Options o{clip.path, "rtmp://127.0.0.1:" + std::to_string(nginx.rtmpPort()) + "/live-bvc/"};
  o.loop = false;
  o.durationSeconds = 1.5;
  o.outputArgs = {"-rtmp_app", "live-bvc", "-rtmp_playpath", key};
  FfmpegPublisher pub(o);
  FailureDump dump;
  dump.add(nginx).add(pub.process(), "ffmpeg");
  auto st = pub.waitExit(10s);
  ASSERT_TRUE(st && st->ok()) << pub.logText();
  ASSERT_TRUE(pollUntil([&] { return !nginx.accessLog().empty(); }, 5s)) << nginx.accessLogText();
  auto e = nginx.accessLog().front();
  EXPECT_EQ(e.command, "PUBLISH");
  EXPECT_EQ(e.app, "live-bvc");
  EXPECT_EQ(e.name, "") << "nginx-rtmp splits the publish name at '?'";
  EXPECT_EQ(e.args, key.substr(1));
  EXPECT_EQ(e.tcurl, "rtmp://127.0.0.1:" + std::to_string(nginx.rtmpPort()) + "/live-bvc");
  EXPECT_EQ(e.remoteAddr, "127.0.0.1");
  EXPECT_GT(e.bytesReceived, 100'000);
  auto events = nginx.publishEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].app, "live-bvc");
  EXPECT_EQ(events[0].args, key.substr(1));
}

// nginx-rtmp `push` stands in for the relay: the matcher must pair packets across two servers by size.
TEST(HarnessPublishTest, MatcherMeasuresDelayAcrossAPushingNginx) {
  auto clip = TestClip::standard();
  NginxRtmp endpoint({NginxApp{"forum"}});
  endpoint.start();
  NginxApp venue{"venue"};
  venue.extraDirectives = {"push rtmp://127.0.0.1:" + std::to_string(endpoint.rtmpPort()) + "/forum;"};
  NginxRtmp source({venue});
  source.start();
  StreamProbe atSource(source.rtmpUrl("venue", "chengdu"));
  StreamProbe atEndpoint(endpoint.rtmpUrl("forum", "chengdu"));
  atSource.start();
  atEndpoint.start();
  FfmpegPublisher pub(clip.path, source.rtmpUrl("venue", "chengdu"));
  FailureDump dump;
  dump.add(source).add(pub.process(), "ffmpeg");
  dump.add(endpoint, "endpoint nginx");
  ASSERT_TRUE(atEndpoint.waitForPackets(150, 20s, MediaKind::Video));
  for (auto kind : {MediaKind::Video, MediaKind::Audio}) {
    auto d = PacketMatcher::delay(atSource.packets(), atEndpoint.packets(), kind);
    EXPECT_GT(d.matched, kind == MediaKind::Video ? 140u : 200u) << toString(kind);
    EXPECT_LE(d.unmatched, 5u) << toString(kind);
    EXPECT_GE(d.minUs, -50'000) << toString(kind);
    EXPECT_LT(d.medianUs, 200'000) << toString(kind);
  }
}

TEST(VenuecastProcessTest, WritesQuotedYaml) {
  VenuecastConfig c;
  c.venues = {{"chengdu", "rtmp://127.0.0.1:1935/venue/chengdu"}};
  c.outputs = {{"bili", "chengdu", "rtmp://127.0.0.1:1936/live-bvc/", "?streamname=a&key=\"b\""},
               {"forum-chengdu", "chengdu", "rtmp://127.0.0.1:1937/forum", std::nullopt}};
  EXPECT_EQ(c.toYaml(),
            "venues:\n"
            "  - id: \"chengdu\"\n    url: \"rtmp://127.0.0.1:1935/venue/chengdu\"\n"
            "outputs:\n"
            "  - id: \"bili\"\n    venue: \"chengdu\"\n    url: \"rtmp://127.0.0.1:1936/live-bvc/\"\n"
            "    key: \"?streamname=a&key=\\\"b\\\"\"\n"
            "  - id: \"forum-chengdu\"\n    venue: \"chengdu\"\n    url: \"rtmp://127.0.0.1:1937/forum\"\n");
  VenuecastProcess relay(c);
  EXPECT_EQ(readFile(relay.configPath()), c.toYaml());
  EXPECT_FALSE(relay.started());
}

}  // namespace
}  // namespace venuecast::testing
