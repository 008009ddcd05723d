// Behaviour 5 of the relay: timestamps platforms accept. Per output, DTS strictly increasing and PTS >= DTS, across
// source reconnects, source timestamp jumps and wraps, with B-frames; audio and video in sync within one frame; after
// every reconnect the endpoint is back within 1 s of live. Monotonic DTS alone proves little (clamping every late
// timestamp to "previous + 1" keeps DTS increasing yet leaves the output seconds behind live with audio off video,
// which is what ffmpeg's tee does across a venue reconnect), so every test here also measures, against a probe on
// the venue server: delay behind the source, A/V skew against the source's own A/V relationship, the rate at which
// output DTS advances against the wall clock, and where output DTS stands against the wall clock before and after
// the disturbance (support/timeline_checks.h).
//
// Layout of every test: publisher -> venue nginx ("venue/v1") -> venuecast -> endpoint nginx ("forum/v1"), with a
// StreamProbe on each nginx. Figures are printed as "[ figures ]" lines.
//
// Measured here (venuecast 0.1.0, FFmpeg 5.1.9, nginx-rtmp 1.2.2): relay latency below 1 ms (median), A/V skew 0 ms,
// DTS/wall-clock slope 1.000 in steady state. Jumps (+1 h) and 31/32-bit wraps leave no trace at the endpoint (largest
// DTS step 105 ms, the clip's own loop gap). An in-band publisher restart shifts the output's DTS-minus-wall-clock by
// < 0.15 s. A restart that makes the relay's reader reconnect shifts it by +1.33 s, every time: the reader's
// avformat_find_stream_info buffers 40 video frames (fps analysis: 20 frames, doubled for FLV's 1 ms time base) =
// 1.333 s at 30 fps; the normaliser rebases the first of them at the time it is *read*, and the rest follow in a
// burst, so the output timeline ends up 1.33 s ahead of where it was (RelayTimestampsOutage/ReaderSeesEof fails on
// that). The same backlog is why a new output starts ~1.4 s behind live and catches up at once (kSettleUs).
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <sstream>
#include <thread>

#include "support/child_process.h"
#include "support/failure_dump.h"
#include "support/ffmpeg_publisher.h"
#include "support/ffprobe_reader.h"
#include "support/nginx_rtmp.h"
#include "support/packet_analysis.h"
#include "support/poll_until.h"
#include "support/raw_rtmp_publisher.h"
#include "support/stream_probe.h"
#include "support/temp_dir.h"
#include "support/test_clip.h"
#include "support/timeline_checks.h"
#include "support/ts_publisher.h"
#include "support/venuecast_process.h"

namespace venuecast::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kVenue = "v1";
constexpr const char* kOutput = "out1";
// One video frame of the 30 fps clips (33.3 ms), rounded up to the FLV millisecond: the A/V sync budget.
constexpr int64_t kOneFrameMs = 34;
// A new output starts at the keyframe the relay buffered while it probed the venue (up to ~1.5 s old here) and
// sends that backlog at once: windows that judge the live edge start this long after the output's first packet.
constexpr int64_t kSettleUs = 2'500'000;

void figures(const std::string& what) { std::cout << "[ figures  ] " << what << std::endl; }

StreamProbe::Options probeOptions(const std::string& url) {
  StreamProbe::Options o{url};
  o.rwTimeout = 15s;  // outages of several seconds must not end the probe's session
  o.maxAttempts = 1000;
  return o;
}

// Venue nginx + endpoint nginx + a probe on each + venuecast relaying venue/v1 to forum/v1.
class Rig {
 public:
  explicit Rig(NginxApp venueApp, NginxApp endpointApp = NginxApp{"forum"})
      : source_({venueApp}), endpoint_({endpointApp}), endpointApp_(endpointApp.name) {
    source_.start();
    endpoint_.start();
    dump_.add(source_, "venue nginx").add(endpoint_, "endpoint nginx");
    dump_.add("venuecast", [this] { return relay_ ? relay_->logText() : std::string(); });
  }

  std::string venueUrl() const { return source_.rtmpUrl("venue", kVenue); }
  NginxRtmp& source() { return source_; }
  NginxRtmp& endpoint() { return endpoint_; }
  StreamProbe& atSource() { return *atSource_; }
  StreamProbe& atEndpoint() { return *atEndpoint_; }
  VenuecastProcess& relay() { return *relay_; }

  void startProbes() {
    atEndpoint_ = std::make_unique<StreamProbe>(probeOptions(endpoint_.rtmpUrl(endpointApp_, kVenue)));
    atSource_ = std::make_unique<StreamProbe>(probeOptions(venueUrl()));
    atEndpoint_->start();
    atSource_->start();
  }

  // `venueYaml`: more fields of the venue ("    slate: off\n").
  void startRelay(std::string venueYaml = "") {
    VenuecastConfig c;
    c.venues = {{kVenue, venueUrl(), std::nullopt, std::move(venueYaml)}};
    c.outputs = {{kOutput, kVenue, endpoint_.rtmpUrl(endpointApp_), std::string(kVenue)}};
    relay_ = std::make_unique<VenuecastProcess>(c);
    relay_->start();
  }

  // The output is publishing and the endpoint probe has media.
  ::testing::AssertionResult waitLive(std::chrono::milliseconds timeout) {
    if (!relay_->waitForLog(std::regex(std::string("output ") + kOutput + ": live: publishing"), timeout))
      return ::testing::AssertionFailure() << "output never went live";
    if (!atEndpoint_->waitForPackets(10, 10s, MediaKind::Video))
      return ::testing::AssertionFailure() << "endpoint probe got no video";
    return ::testing::AssertionSuccess();
  }

  int endpointPublishes() const { return endpoint_.publishCount(endpointApp_, kVenue); }

 private:
  NginxRtmp source_;
  NginxRtmp endpoint_;
  std::string endpointApp_;
  std::unique_ptr<StreamProbe> atEndpoint_;
  std::unique_ptr<StreamProbe> atSource_;
  std::unique_ptr<VenuecastProcess> relay_;
  FailureDump dump_;  // last member: dumps before the rest goes away
};

// Arrival time of the first packet (of `kind`, Other = any) after `afterUs`, or nullopt.
std::optional<int64_t> firstArrivalAfter(const std::vector<ProbePacket>& ps, int64_t afterUs,
                                         MediaKind kind = MediaKind::Other) {
  for (const auto& p : ps)
    if (p.arrivalUs > afterUs && (kind == MediaKind::Other || p.kind == kind)) return p.arrivalUs;
  return std::nullopt;
}

// Prints and returns the common figures of one window.
struct Figures {
  OrderReport order;
  StepReport videoSteps, audioSteps;
  DelayStats videoDelay, audioDelay;
  SkewReport skew;
  RateReport rate;
};

Figures measure(const std::string& label, const std::vector<ProbePacket>& source,
                const std::vector<ProbePacket>& endpoint, TimeWindow w) {
  Figures f;
  f.order = TimelineChecks::order(endpoint, w);
  f.videoSteps = TimelineChecks::steps(endpoint, MediaKind::Video, w);
  f.audioSteps = TimelineChecks::steps(endpoint, MediaKind::Audio, w);
  f.videoDelay = TimelineChecks::delay(source, endpoint, MediaKind::Video, w);
  f.audioDelay = TimelineChecks::delay(source, endpoint, MediaKind::Audio, w);
  f.skew = TimelineChecks::avSkew(source, endpoint, w);
  f.rate = TimelineChecks::wallClockRate(endpoint, MediaKind::Video, w);
  figures(label + ": order: " + f.order.describe());
  figures(label + ": video dts steps: " + f.videoSteps.describe());
  figures(label + ": audio dts steps: " + f.audioSteps.describe());
  figures(label + ": video delay behind source: " + TimelineChecks::describe(f.videoDelay));
  figures(label + ": audio delay behind source: " + TimelineChecks::describe(f.audioDelay));
  figures(label + ": " + f.skew.describe());
  figures(label + ": video " + f.rate.describe());
  return f;
}

// The order + sync checks every window must pass.
void expectCleanTimeline(const Figures& f, const std::string& label) {
  SCOPED_TRACE(label);
  EXPECT_TRUE(f.order.ok()) << f.order.describe();
  EXPECT_GT(f.order.video, 0u);
  EXPECT_GT(f.order.audio, 0u);
  EXPECT_GT(f.order.reordered, f.order.video / 4) << "B-frames must reach the endpoint with pts > dts";
  EXPECT_GT(f.skew.pairs, 20u) << "too few A/V pairs matched to judge sync";
  EXPECT_LE(f.skew.maxAbsMs, kOneFrameMs) << f.skew.describe();
}

// ---------------------------------------------------------------------------------------------------------------
// The checker itself, on synthetic packets, so that it is known to fail on what it is meant to catch: a source that
// restarts from 0 after a 5 s outage, relayed (1) properly, (2) the way ffmpeg's tee does it (each stream's DTS
// clamped to "previous + 1" until the new session catches up with the old timeline). (2) keeps DTS strictly
// increasing, and every other check must reject it.
std::vector<ProbePacket> syntheticSource() {
  std::vector<ProbePacket> out;
  // Two 10 s sessions (dts from 0 each), the second starting 15 s after the first; sizes repeat per session.
  for (int session = 0; session < 2; ++session) {
    const int64_t wallBaseUs = 1'000'000'000 + session * 15'000'000;
    std::vector<ProbePacket> ps;
    for (int i = 0; i < 300; ++i) {  // 30 fps video
      ProbePacket p;
      p.kind = MediaKind::Video;
      p.dtsMs = i * 1000 / 30;
      p.ptsMs = p.dtsMs + (i % 3 == 0 ? 67 : 0);
      p.key = i % 30 == 0;
      p.size = 2000 + (i * 7919) % 5000;
      p.session = session;
      ps.push_back(p);
    }
    for (int i = 0; i < 468; ++i) {  // 1024-sample AAC frames at 48 kHz
      ProbePacket p;
      p.kind = MediaKind::Audio;
      p.dtsMs = i * 1024 * 1000 / 48000;
      p.ptsMs = p.dtsMs;
      p.size = 250 + (i * 104729) % 90;
      p.session = session;
      ps.push_back(p);
    }
    std::stable_sort(ps.begin(), ps.end(), [](const auto& a, const auto& b) { return a.dtsMs < b.dtsMs; });
    for (auto& p : ps) p.arrivalUs = wallBaseUs + p.dtsMs * 1000;
    out.insert(out.end(), ps.begin(), ps.end());
  }
  return out;
}

std::vector<ProbePacket> relaySynthetic(const std::vector<ProbePacket>& source, bool teeLike) {
  std::vector<ProbePacket> out;
  int64_t last[2] = {-1, -1};
  for (ProbePacket p : source) {
    const int k = p.kind == MediaKind::Video ? 0 : 1;
    const int64_t cts = p.ptsMs - p.dtsMs;
    if (teeLike) {
      p.dtsMs = std::max(p.dtsMs, last[k] + 1);  // the clamp
    } else {
      p.dtsMs += p.session * 15'000;  // one offset for the whole session: the wall-clock time between the starts
    }
    p.ptsMs = p.dtsMs + cts;
    last[k] = p.dtsMs;
    p.arrivalUs += 5'000;
    p.session = 0;
    out.push_back(p);
  }
  return out;
}

TEST(TimelineChecksTest, RejectsATeeLikeClampThatKeepsDtsIncreasing) {
  const auto source = syntheticSource();
  const int64_t outageEndUs = 1'000'000'000 + 15'000'000;
  const TimeWindow pre{0, outageEndUs - 5'000'000};
  const TimeWindow post{outageEndUs, std::numeric_limits<int64_t>::max()};
  for (bool teeLike : {false, true}) {
    SCOPED_TRACE(teeLike ? "tee-like clamp" : "wall-clock rebase");
    const auto endpoint = relaySynthetic(source, teeLike);
    const auto order = TimelineChecks::order(endpoint);
    EXPECT_TRUE(order.ok()) << order.describe();
    EXPECT_EQ(order.reordered, 200u);
    const auto delay = TimelineChecks::delay(source, endpoint, MediaKind::Video);
    EXPECT_EQ(delay.matched, 600u);
    EXPECT_EQ(delay.maxUs, 5'000);
    const auto skew = TimelineChecks::avSkew(source, endpoint, post);
    const auto rate = TimelineChecks::wallClockRate(endpoint, MediaKind::Video, post);
    const int64_t shift = TimelineChecks::dtsLeadMs(endpoint, MediaKind::Video, post) -
                          TimelineChecks::dtsLeadMs(endpoint, MediaKind::Video, pre);
    figures(std::string(teeLike ? "tee-like: " : "rebased: ") + skew.describe() + "; " + rate.describe() +
            "; dts - wall shift " + std::to_string(shift) + " ms");
    EXPECT_GT(skew.pairs, 300u);
    if (teeLike) {
      EXPECT_GT(skew.maxAbsMs, 3 * kOneFrameMs);
      EXPECT_LT(rate.slope, 0.5);
      EXPECT_LT(shift, -5000);
    } else {
      EXPECT_LE(skew.maxAbsMs, 1);
      EXPECT_NEAR(rate.slope, 1.0, 0.01);
      EXPECT_LE(std::llabs(shift), 40);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// (a) The venue's publisher dies and a new one starts from 0 after an outage.
//   ReaderSeesEof: venue app with idle_streams off + publish_notify: the relay's reader gets EOF, reconnects with
//     backoff and its new session starts again at dts 0. Outage 5 s, standby slate off: the output pauses.
//   InBand: nginx defaults (idle_streams on) without publish_notify: the relay's reader stays connected and sees
//     the new session in-band as a jump back to ~0 (with NEW_EXTRADATA). Outage 1.5 s (+ ffmpeg's start-up): the
//     relay's 4 s no-data watchdog would otherwise turn it into a reconnect (this test checks that it did not).
//   StandbySlate: as ReaderSeesEof with the standby slate on (failover_after 1 s): the output carries the slate,
//     rendered at the venue's size, through the outage, and the venue comes back at its first keyframe, on one
//     timeline at the live edge with A/V in sync.
// Observed here: see the [ figures ] lines.
struct OutageCase {
  const char* name;
  bool readerSeesEof;
  std::chrono::milliseconds outage;
  bool slate = false;
};

void PrintTo(const OutageCase& c, std::ostream* os) { *os << c.name; }

class RelayTimestampsOutage : public ::testing::TestWithParam<OutageCase> {};

TEST_P(RelayTimestampsOutage, OutputKeepsOneTimelineAtLiveEdgeAcrossPublisherRestart) {
  const OutageCase& c = GetParam();
  auto clip = TestClip::standard();
  NginxApp venueApp{"venue"};
  if (c.readerSeesEof) {
    venueApp.publishNotify = true;
    venueApp.idleStreams = false;
  } else {
    venueApp.publishNotify = false;  // idle_streams stays at nginx's default (on)
  }
  NginxApp endpointApp{"forum"};
  endpointApp.record = c.slate;
  Rig rig(venueApp, endpointApp);
  auto pub = std::make_unique<FfmpegPublisher>(clip.path, rig.venueUrl());
  std::string pubLogs;
  FailureDump pubDump;  // declared after what it reads
  pubDump.add("ffmpeg publishers", [&] { return pubLogs + (pub ? pub->logText() : std::string()); });
  ASSERT_TRUE(rig.source().waitForPublishing("venue", kVenue, 10s));
  rig.startProbes();
  rig.startRelay(c.slate ? "    name: \"Shanghai 上海\"\n    failover_after: 1\n" : "    slate: off\n");
  ASSERT_TRUE(rig.waitLive(20s));
  const int64_t liveUs = rig.atEndpoint().packets().front().arrivalUs;

  std::this_thread::sleep_for(6s);  // pre-outage steady state
  const size_t logBeforeKill = rig.relay().logText().size();
  const int64_t killUs = StreamProbe::nowUs();
  ASSERT_TRUE(pub->process().signal(SIGKILL));
  ASSERT_TRUE(pub->waitExit(5s));
  pubLogs += pub->logText();
  std::this_thread::sleep_for(c.outage);
  const int64_t restartUs = StreamProbe::nowUs();
  pub = std::make_unique<FfmpegPublisher>(clip.path, rig.venueUrl());  // a new RTMP session, dts from 0

  // The endpoint gets the new session, then 11 s of it.
  ASSERT_TRUE(rig.atEndpoint().waitUntil(
      [&](const auto& ps) { return !ps.empty() && ps.back().arrivalUs > restartUs; }, 25s))
      << "nothing reached the endpoint after the publisher restarted";
  const int64_t resumedUs = *firstArrivalAfter(rig.atEndpoint().packets(), restartUs);
  std::this_thread::sleep_for(11s);
  const int64_t endUs = StreamProbe::nowUs();
  const auto src = rig.atSource().packets();
  const auto end = rig.atEndpoint().packets();

  figures(std::string(c.name) + ": output resumed " + std::to_string((resumedUs - restartUs) / 1000) +
          " ms after the publisher restarted (" + std::to_string((resumedUs - killUs) / 1000) + " ms after the kill)");
  const TimeWindow all{liveUs + kSettleUs, endUs};
  const TimeWindow pre{liveUs + kSettleUs, killUs};
  const TimeWindow post{resumedUs, endUs};
  const TimeWindow settled{resumedUs + 1'000'000, endUs};
  const Figures whole = measure(std::string(c.name) + " whole run", src, end, all);
  const Figures after = measure(std::string(c.name) + " after restart", src, end, post);

  // The output connection survived: one publish at the endpoint, one session at its player.
  EXPECT_EQ(rig.endpointPublishes(), 1) << "the output reconnected (or never published)";
  EXPECT_EQ(rig.atEndpoint().connectCount(), 1);
  expectCleanTimeline(whole, "whole run");

  // Wall-clock consistent across the outage: DTS jumped forward by about the outage, not by 1 ms, not by hours.
  const int64_t leadPre = TimelineChecks::dtsLeadMs(end, MediaKind::Video, pre);
  const int64_t leadPost = TimelineChecks::dtsLeadMs(end, MediaKind::Video, settled);
  figures(std::string(c.name) + ": video dts - wall clock: before " + std::to_string(leadPre) + " ms, after " +
          std::to_string(leadPost) + " ms (shift " + std::to_string(leadPost - leadPre) + " ms)");
  EXPECT_LT(std::llabs(leadPost - leadPre), 1000) << "output DTS no longer tracks the wall clock after the outage";
  if (!c.slate) {
    EXPECT_GE(whole.videoSteps.maxStepMs, c.outage.count() - 1000) << "the DTS step across the outage is too small";
    EXPECT_LE(whole.videoSteps.maxStepMs, whole.videoSteps.maxStepArrivalGapMs + 1000) << whole.videoSteps.describe();
    EXPECT_GE(whole.videoSteps.maxStepMs, whole.videoSteps.maxStepArrivalGapMs - 1000) << whole.videoSteps.describe();
  } else {
    // The slate filled the outage: no DTS step beyond the switch wait (failover_after 1 s) plus a frame or two (the
    // grid), and frames kept arriving at the venue's rate while the venue was down.
    EXPECT_LE(whole.videoSteps.maxStepMs, 1000 + 2 * kOneFrameMs + 100) << whole.videoSteps.describe();
    EXPECT_LE(whole.audioSteps.maxStepMs, 1000 + 2 * kOneFrameMs + 100) << whole.audioSteps.describe();
    const TimeWindow slate{killUs + 1'500'000, restartUs};
    const auto slateFrames = static_cast<double>(TimelineChecks::order(end, slate).video);
    const double expected = 30.0 * static_cast<double>(slate.toUs - slate.fromUs) / 1e6;
    figures(std::string(c.name) + ": " + std::to_string(static_cast<int>(slateFrames)) + " slate frames at the endpoint "
            "during the outage (" + std::to_string(static_cast<int>(expected)) + " at 30 fps)");
    EXPECT_GT(slateFrames, expected * 0.9);
    EXPECT_LT(slateFrames, expected * 1.1);
    const RateReport slateRate = TimelineChecks::wallClockRate(end, MediaKind::Video, slate);
    EXPECT_NEAR(slateRate.slope, 1.0, 0.05) << "the slate is paced at real time: " << slateRate.describe();
  }
  const RateReport settledRate = TimelineChecks::wallClockRate(end, MediaKind::Video, settled);
  figures(std::string(c.name) + ": from 1 s after resuming, video " + settledRate.describe());
  EXPECT_GE(settledRate.spanS, 9.5);
  EXPECT_NEAR(settledRate.slope, 1.0, 0.03) << "output DTS after the restart vs wall clock";

  // Back at the live edge after the restart.
  const DelayStats settledDelay = TimelineChecks::delay(src, end, MediaKind::Video, settled);
  figures(std::string(c.name) + ": video delay from 1 s after resuming: " + TimelineChecks::describe(settledDelay));
  // (With the slate, the window starts with the slate's last seconds, which have no source to match.)
  EXPECT_GT(after.videoDelay.matched, c.slate ? 150u : 200u);
  EXPECT_LT(after.videoDelay.medianUs, 1'000'000);
  EXPECT_LT(settledDelay.maxUs, 1'000'000) << "the endpoint is not back within 1 s of live";
  EXPECT_LT(after.audioDelay.medianUs, 1'000'000);
  EXPECT_LT(whole.videoDelay.p95Us, 1'000'000);

  // The scenario was the one named.
  const std::string since = rig.relay().logText().substr(logBeforeKill);
  const bool reconnected = std::regex_search(since, std::regex("venue v1: .*retrying"));
  EXPECT_EQ(reconnected, c.readerSeesEof) << since;
  const auto count = [&](const char* pattern) {
    const std::regex re(pattern);
    return std::distance(std::sregex_iterator(since.begin(), since.end(), re), std::sregex_iterator());
  };
  EXPECT_EQ(count("venue v1: switched from primary to standby slate \\(nothing live for 1\\.\\d s\\)"), c.slate ? 1 : 0);
  EXPECT_EQ(count("venue v1: switched from standby slate to primary \\(primary live again\\)"), c.slate ? 1 : 0);
  EXPECT_TRUE(rig.relay().running());
  EXPECT_TRUE(rig.relay().terminate().ok());
  if (!c.slate) return;

  // What the platform recorded: decodes without an error, and every frame (the slate's too) has the venue's size.
  rig.endpoint().stop();
  const auto file = rig.endpoint().recordPath("forum", kVenue);
  const DecodeCheck decode = FfprobeReader::decodeCheck(file);
  EXPECT_TRUE(decode.ok()) << "exit " << decode.exitCode << ": " << decode.stderrText.substr(0, 3000);
  std::string error;
  const auto sizes = FfprobeReader::frameSizes(file, error);
  ASSERT_TRUE(sizes) << error;
  EXPECT_EQ(sizes->size(), 1u) << "a frame size other than the venue's";
  EXPECT_GT(sizes->count("640,360") ? sizes->at("640,360") : 0, 400);
}

INSTANTIATE_TEST_SUITE_P(RelayTimestamps, RelayTimestampsOutage,
                         ::testing::Values(OutageCase{"ReaderSeesEof", true, 5000ms},
                                           OutageCase{"InBand", false, 1500ms},
                                           OutageCase{"StandbySlate", true, 5000ms, true}),
                         [](const auto& info) { return std::string(info.param.name); });

// ---------------------------------------------------------------------------------------------------------------
// (b), (c) The source's timestamps jump or wrap mid-stream on one publisher session; the output must continue as
// if nothing happened: no DTS step over 1 s, same place against the wall clock, no lag behind the source.
//   ForwardJumpOfAnHour: TsPublisher::jumpAt(+3600 s) (an encoder whose clock jumped).
//   Wrap31Bit: TsPublisher::offset(2^31 - 8 s): libavformat's flvenc writes dts mod 2^31, so the wire timestamp
//     drops to 0 eight seconds in (a libav reader with correct_ts_overflow sees it as a jump to 2^32).
//   Wrap32Bit: RawRtmpPublisher sending 32-bit timestamps that wrap 2^32 -> 0 eight seconds in (librtmp/OBS after
//     49.7 days, or an encoder that starts its clock near the top).
enum class FeedKind { Ts, Raw };
struct JumpCase {
  const char* name;
  FeedKind feed;
  int64_t atSourceMs;  // where the discontinuity is, in source time since the publisher started
  TsPublisher::Transform transform;  // Ts
  uint32_t rawOffset;                // Raw: added (mod 2^32) to every tag timestamp
};

// Publishes the clip's FLV tags with RawRtmpPublisher on its own thread, looping, in real time, until stopped.
class RawFeed {
 public:
  RawFeed(uint16_t port, std::string app, std::string name, std::vector<RawRtmpPublisher::FlvTag> tags,
          std::function<void(RawRtmpPublisher::FlvTag&)> mutate) {
    RawRtmpPublisher::Options o;
    o.port = port;
    o.app = std::move(app);
    o.streamName = std::move(name);
    thread_ = std::thread([this, o, tags = std::move(tags), mutate = std::move(mutate)] {
      RawRtmpPublisher pub(o);
      std::string error;
      if (!pub.connect(&error)) {
        setError("connect: " + error);
        return;
      }
      connected_ = true;
      auto withScript = [&](RawRtmpPublisher::FlvTag& t) {
        if (t.type == 18) t.body = RawRtmpPublisher::withSetDataFrame(t.body);  // as OBS sends onMetaData
        if (mutate) mutate(t);
      };
      if (!pub.publishFile(tags, true, withScript, &stop_, 0, &error)) setError("publish: " + error);
      pub.close();
    });
  }
  ~RawFeed() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  bool connected() const { return connected_; }
  std::string error() const {
    std::lock_guard lock(mu_);
    return error_;
  }

 private:
  void setError(const std::string& e) {
    std::lock_guard lock(mu_);
    error_ = e;
  }
  std::atomic<bool> stop_{false};
  std::atomic<bool> connected_{false};
  mutable std::mutex mu_;
  std::string error_;
  std::thread thread_;
};

void PrintTo(const JumpCase& c, std::ostream* os) { *os << c.name; }

class RelayTimestampsJump : public ::testing::TestWithParam<JumpCase> {};

TEST_P(RelayTimestampsJump, OutputContinuesSmoothlyAtWallClockRate) {
  const JumpCase& c = GetParam();
  auto clip = TestClip::standard();
  Rig rig(NginxApp{"venue"});
  rig.startProbes();
  // What is on the wire: raw 32-bit RTMP timestamps (libavformat's overflow correction off).
  StreamProbe::Options wireOptions = probeOptions(rig.venueUrl());
  wireOptions.correctTsOverflow = false;
  StreamProbe wire(wireOptions);
  wire.start();
  rig.startRelay();  // waits in the (idle) stream: it sees the publisher from its first packet
  std::unique_ptr<TsPublisher> ts;
  std::unique_ptr<RawFeed> raw;
  const int64_t startUs = StreamProbe::nowUs();
  if (c.feed == FeedKind::Ts) {
    ts = std::make_unique<TsPublisher>(TsPublisher::Options{clip.path, rig.venueUrl(), c.transform});
    ts->start();
  } else {
    const uint32_t offset = c.rawOffset;
    raw = std::make_unique<RawFeed>(rig.source().rtmpPort(), "venue", kVenue, RawRtmpPublisher::readFlvFile(clip.path),
                                    [offset](RawRtmpPublisher::FlvTag& t) { t.timestampMs += offset; });
  }
  ASSERT_TRUE(rig.waitLive(20s));
  const int64_t liveUs = rig.atEndpoint().packets().front().arrivalUs;
  // Run until 10 s past the discontinuity.
  const int64_t discontinuityUs = startUs + c.atSourceMs * 1000;
  const int64_t untilUs = discontinuityUs + 10'000'000;
  while (StreamProbe::nowUs() < untilUs) std::this_thread::sleep_for(100ms);
  const int64_t endUs = StreamProbe::nowUs();
  if (ts) {
    EXPECT_TRUE(ts->errors().empty()) << ts->errors().front();
    ts->stop();
  }
  if (raw) {
    EXPECT_EQ(raw->error(), "");
    raw->stop();
  }
  const auto src = rig.atSource().packets();
  const auto end = rig.atEndpoint().packets();

  // The discontinuity happened on the wire (else this test proves nothing).
  const auto srcSteps = PacketAnalysis::dtsDiscontinuities(wire.packets(), MediaKind::Video);
  ASSERT_EQ(srcSteps.size(), 1u) << "the source should show exactly one discontinuity on the wire";
  figures(std::string(c.name) + ": on the wire at the source, video dts " + std::to_string(srcSteps.front().fromMs) +
          " -> " + std::to_string(srcSteps.front().toMs) + "; the default (overflow-correcting) reader saw " +
          std::to_string(PacketAnalysis::dtsDiscontinuities(src, MediaKind::Video).size()) + " discontinuities");
  // A new output starts from the keyframe the relay's reader buffered while probing the venue, then catches up at
  // once: measure from the live edge on.
  const int64_t settledUs = liveUs + kSettleUs;
  ASSERT_LT(settledUs, srcSteps.front().arrivalUs - 1'000'000) << "the output went live too late";

  const TimeWindow all{settledUs, endUs};
  const TimeWindow pre{settledUs, srcSteps.front().arrivalUs};
  const TimeWindow post{srcSteps.front().arrivalUs + 1'000'000, endUs};
  const Figures whole = measure(c.name, src, end, all);
  expectCleanTimeline(whole, "whole run");
  EXPECT_LT(whole.videoSteps.maxStepMs, 1000) << "the source's discontinuity leaked into the output";
  EXPECT_LT(whole.audioSteps.maxStepMs, 1000) << "the source's discontinuity leaked into the output";
  EXPECT_GT(whole.videoSteps.minStepMs, 0);
  EXPECT_GT(whole.rate.spanS, 10.0);
  EXPECT_NEAR(whole.rate.slope, 1.0, 0.03);
  const int64_t leadPre = TimelineChecks::dtsLeadMs(end, MediaKind::Video, pre);
  const int64_t leadPost = TimelineChecks::dtsLeadMs(end, MediaKind::Video, post);
  figures(std::string(c.name) + ": video dts - wall clock: before " + std::to_string(leadPre) + " ms, after " +
          std::to_string(leadPost) + " ms");
  EXPECT_LT(std::llabs(leadPost - leadPre), 1000);
  EXPECT_GT(whole.videoDelay.matched, 300u);
  EXPECT_LT(whole.videoDelay.medianUs, 500'000);
  EXPECT_LT(whole.videoDelay.maxUs, 1'000'000);
  EXPECT_LT(whole.audioDelay.medianUs, 500'000);
  EXPECT_EQ(rig.endpointPublishes(), 1);
  EXPECT_EQ(rig.atEndpoint().connectCount(), 1);
  EXPECT_TRUE(rig.relay().running());
}

constexpr int64_t k2p31 = int64_t{1} << 31;

INSTANTIATE_TEST_SUITE_P(
    RelayTimestamps, RelayTimestampsJump,
    ::testing::Values(JumpCase{"ForwardJumpOfAnHour", FeedKind::Ts, 8000, TsPublisher::jumpAt(8000, 3'600'000), 0},
                      JumpCase{"Wrap31Bit", FeedKind::Ts, 8000, TsPublisher::offset(k2p31 - 8000), 0},
                      JumpCase{"Wrap32Bit", FeedKind::Raw, 8000, {}, static_cast<uint32_t>(0x100000000LL - 8000)}),
    [](const auto& info) { return std::string(info.param.name); });

// ---------------------------------------------------------------------------------------------------------------
// (f) One stream pauses while the other goes on (an encoder's audio device drops out for 5 s, then its video).
// The relay must pass the running stream straight through: an interleaving queue that waits for the paused stream
// would hold the running one for the whole pause (or until it overflows).
TEST(RelayTimestamps, OneStreamPausingDoesNotHoldTheOther) {
  auto clip = TestClip::standard();
  Rig rig(NginxApp{"venue"});
  rig.startProbes();
  rig.startRelay();
  const int64_t startUs = StreamProbe::nowUs();
  bool videoPaused = false, videoPauseDone = false;
  RawFeed feed(rig.source().rtmpPort(), "venue", kVenue, RawRtmpPublisher::readFlvFile(clip.path),
               [&](RawRtmpPublisher::FlvTag& t) {
                 const bool config = t.body.size() > 1 && t.body[1] == 0;  // AVC/AAC sequence header
                 if (config) return;
                 if (t.type == 8 && t.timestampMs >= 6000 && t.timestampMs < 11000) t.type = 0;  // audio pause
                 if (t.type == 9 && !videoPauseDone) {
                   const bool key = (t.body[0] >> 4) == 1;
                   if (!videoPaused && t.timestampMs >= 14000) videoPaused = true;
                   if (videoPaused && key && t.timestampMs >= 19000) videoPauseDone = true;  // resume on a keyframe
                   else if (videoPaused) t.type = 0;
                 }
               });
  ASSERT_TRUE(rig.waitLive(15s)) << feed.error();
  while (StreamProbe::nowUs() < startUs + 23'500'000) std::this_thread::sleep_for(100ms);
  const int64_t endUs = StreamProbe::nowUs();
  EXPECT_EQ(feed.error(), "");
  feed.stop();
  const auto src = rig.atSource().packets();
  const auto end = rig.atEndpoint().packets();
  const int64_t liveUs = end.front().arrivalUs;
  ASSERT_LT(liveUs, startUs + 5'000'000) << "the output went live too late to see the pauses";

  // Where the pauses were at the source: the longest arrival gap of each kind.
  auto longestGap = [](const std::vector<ProbePacket>& ps, MediaKind kind) {
    auto k = PacketAnalysis::ofKind(ps, kind);
    std::pair<int64_t, int64_t> best{0, 0};
    for (size_t i = 1; i < k.size(); ++i)
      if (k[i].arrivalUs - k[i - 1].arrivalUs > best.second - best.first) best = {k[i - 1].arrivalUs, k[i].arrivalUs};
    return best;
  };
  const auto audioPause = longestGap(src, MediaKind::Audio);
  const auto videoPause = longestGap(src, MediaKind::Video);
  ASSERT_GT(audioPause.second - audioPause.first, 4'500'000) << "no audio pause at the source";
  ASSERT_GT(videoPause.second - videoPause.first, 4'500'000) << "no video pause at the source";
  ASSERT_LT(audioPause.second, videoPause.first);

  const Figures whole = measure("pauses whole run", src, end, {liveUs + kSettleUs, endUs});
  EXPECT_TRUE(whole.order.ok()) << whole.order.describe();
  EXPECT_GT(whole.order.reordered, whole.order.video / 4);
  EXPECT_LE(whole.skew.maxAbsMs, kOneFrameMs) << whole.skew.describe();
  EXPECT_NEAR(whole.rate.slope, 1.0, 0.03);

  struct Check {
    const char* what;
    std::pair<int64_t, int64_t> pause;
    MediaKind running, paused;
  };
  for (const Check& c : {Check{"audio pause", audioPause, MediaKind::Video, MediaKind::Audio},
                         Check{"video pause", videoPause, MediaKind::Audio, MediaKind::Video}}) {
    SCOPED_TRACE(c.what);
    // From 300 ms into the pause (anything of the paused stream still in flight has arrived) to its end.
    const TimeWindow during{c.pause.first + 300'000, c.pause.second};
    const DelayStats d = TimelineChecks::delay(src, end, c.running, during);
    const int64_t runningGap = TimelineChecks::maxArrivalGapMs(end, c.running, during);
    const int64_t pausedGap = TimelineChecks::maxArrivalGapMs(end, c.paused, {liveUs, endUs});
    figures(std::string(c.what) + ": " + toString(c.running) + " at the endpoint during the pause: " +
            TimelineChecks::describe(d) + "; longest arrival gap " + std::to_string(runningGap) + " ms; the " +
            toString(c.paused) + "'s gap at the endpoint " + std::to_string(pausedGap) + " ms");
    EXPECT_GT(pausedGap, 4000) << "the pause did not reach the endpoint";
    EXPECT_GT(d.matched, c.running == MediaKind::Video ? 100u : 150u) << "the running stream did not get through";
    EXPECT_LT(d.maxUs, 500'000) << "the running stream was held back while the other paused";
    EXPECT_LT(runningGap, 1000);
  }
  EXPECT_EQ(rig.endpointPublishes(), 1);
  EXPECT_TRUE(rig.relay().running());
}

// ---------------------------------------------------------------------------------------------------------------
// (d) OBS restarted at another resolution: the venue's new session has a different SPS (1280x720 instead of
// 640x360), same codecs. The output must stay up (same publish) and carry the new sequence header in-band
// (flvenc 5.1 writes it for AV_PKT_DATA_NEW_EXTRADATA), so that what the endpoint recorded decodes cleanly across
// the change.
TEST(RelayCodecChange, NewResolutionGoesInBandOnTheSameOutputAndDecodes) {
  auto sd = TestClip::standard();
  auto hd = TestClip::hd720();
  NginxApp forum{"forum"};
  forum.record = true;
  Rig rig(NginxApp{"venue"}, forum);  // venue: publish_notify on, the relay's reader sees EOF and reconnects
  auto pub = std::make_unique<FfmpegPublisher>(sd.path, rig.venueUrl());
  std::string pubLogs;
  FailureDump pubDump;  // declared after what it reads
  pubDump.add("ffmpeg publishers", [&] { return pubLogs + (pub ? pub->logText() : std::string()); });
  ASSERT_TRUE(rig.source().waitForPublishing("venue", kVenue, 10s));
  rig.startProbes();
  rig.startRelay();
  ASSERT_TRUE(rig.waitLive(20s));
  const int64_t liveUs = rig.atEndpoint().packets().front().arrivalUs;
  std::this_thread::sleep_for(5s);
  const int64_t killUs = StreamProbe::nowUs();
  ASSERT_TRUE(pub->process().signal(SIGKILL));
  ASSERT_TRUE(pub->waitExit(5s));
  pubLogs += pub->logText();
  std::this_thread::sleep_for(2s);
  const int64_t restartUs = StreamProbe::nowUs();
  pub = std::make_unique<FfmpegPublisher>(hd.path, rig.venueUrl());
  ASSERT_TRUE(rig.atEndpoint().waitUntil(
      [&](const auto& ps) {
        return std::count_if(ps.begin(), ps.end(), [&](const auto& p) {
                 return p.kind == MediaKind::Video && p.arrivalUs > restartUs;
               }) >= 180;
      },
      25s))
      << "the endpoint did not get 6 s of the new resolution";
  const int64_t endUs = StreamProbe::nowUs();
  const auto src = rig.atSource().packets();
  const auto end = rig.atEndpoint().packets();
  const int publishes = rig.endpointPublishes();
  const int endpointConnects = rig.atEndpoint().connectCount();
  ASSERT_TRUE(rig.relay().terminate().ok());  // ends the endpoint's recording
  ASSERT_TRUE(pollUntil(
      [&] {
        auto log = rig.endpoint().accessLog();
        return std::any_of(log.begin(), log.end(), [](const auto& e) { return e.command == "PUBLISH"; });
      },
      10s))
      << "the endpoint never closed the relay's publish session";

  EXPECT_EQ(publishes, 1) << "the output was reopened for a mere SPS change";
  EXPECT_EQ(endpointConnects, 1);
  const int64_t resumedUs = *firstArrivalAfter(end, restartUs);
  const Figures whole = measure("codec change whole run", src, end, {liveUs + kSettleUs, endUs});
  expectCleanTimeline(whole, "across the change");
  const int64_t leadPre = TimelineChecks::dtsLeadMs(end, MediaKind::Video, {liveUs + kSettleUs, killUs});
  const int64_t leadPost = TimelineChecks::dtsLeadMs(end, MediaKind::Video, {resumedUs + 1'000'000, endUs});
  // (Not asserted here: RelayTimestampsOutage/ReaderSeesEof judges the timeline across a reconnect.)
  figures("codec change: video dts - wall clock: before " + std::to_string(leadPre) + " ms, after " +
          std::to_string(leadPost) + " ms");
  const DelayStats after = TimelineChecks::delay(src, end, MediaKind::Video, {resumedUs + 1'000'000, endUs});
  figures("codec change: video delay from 1 s after resuming: " + TimelineChecks::describe(after));
  EXPECT_GT(after.matched, 100u);
  EXPECT_LT(after.maxUs, 1'000'000);

  // The new sequence header reached the endpoint in-band, with the 720p SPS.
  std::vector<ProbePacket> newHeaders;
  for (const auto& p : end)
    if (p.kind == MediaKind::Video && p.newExtradata && p.arrivalUs > restartUs) newHeaders.push_back(p);
  ASSERT_FALSE(newHeaders.empty()) << "no new video sequence header at the endpoint after the change";
  figures("codec change: " + std::to_string(newHeaders.size()) + " video packet(s) with new extradata (" +
          std::to_string(newHeaders.front().newExtradataSize) + " bytes; 720p avcC is " +
          std::to_string(hd.videoExtradataSize) + ")");
  EXPECT_TRUE(newHeaders.front().key);
  EXPECT_EQ(newHeaders.front().newExtradataSize, hd.videoExtradataSize);

  // What the endpoint recorded decodes without a single error, at both resolutions.
  const auto file = rig.endpoint().recordPath("forum", kVenue);
  ASSERT_TRUE(std::filesystem::exists(file)) << file;
  const DecodeCheck decode = FfprobeReader::decodeCheck(file);
  figures("codec change: ffmpeg -xerror on the recording: exit " + std::to_string(decode.exitCode) + ", " +
          std::to_string(decode.stderrText.size()) + " bytes on stderr");
  EXPECT_TRUE(decode.ok()) << "exit " << decode.exitCode << ": " << decode.stderrText.substr(0, 3000);
  std::string error;
  auto decoded = FfprobeReader::frameSizes(file, error);
  ASSERT_TRUE(decoded) << error;
  auto& sizes = *decoded;
  std::string summary;
  for (const auto& [size, n] : sizes) summary += size + ": " + std::to_string(n) + " frames; ";
  figures("codec change: recording decodes to " + summary);
  EXPECT_GT(sizes["640,360"], 100) << summary;
  EXPECT_GT(sizes["1280,720"], 100) << summary;
  EXPECT_EQ(sizes.size(), 2u) << summary;
}

// ---------------------------------------------------------------------------------------------------------------
// (e) A venue sends a codec FLV in FFmpeg 5.1 cannot carry: the non-standard FLV video codec id 12 ("HEVC" of some
// CDNs), then audio sound format 13 (what some encoders use for Opus). libavformat 5.1 reads both without an error
// (codec_id NONE, codec_tag = the FLV id; see raw_rtmp_publisher_test.cpp), so only the relay can refuse them. The
// refusal must be a log line that names the venue and says why, never a publish of garbage (or of a silent black
// stream) at the endpoint, and the process carries on: a valid feed on the same venue then goes live.
TEST(RelayCodecChange, UnsupportedCodecIsRefusedWithAClearErrorThenAValidFeedGoesLive) {
  auto clip = TestClip::standard();
  const auto tags = RawRtmpPublisher::readFlvFile(clip.path);
  Rig rig(NginxApp{"venue"});
  rig.startProbes();
  rig.startRelay();
  struct Bad {
    const char* what;
    uint8_t tagType;
    uint8_t codecId;
    const char* logPattern;
  };
  for (const Bad& bad : {Bad{"video codec id 12", 9, 12, "venue v1: .*video codec.*cannot be carried"},
                         Bad{"audio sound format 13", 8, 13, "venue v1: .*audio codec.*cannot be carried"}}) {
    SCOPED_TRACE(bad.what);
    const size_t logFrom = rig.relay().logText().size();
    const int64_t fromUs = StreamProbe::nowUs();
    RawFeed feed(rig.source().rtmpPort(), "venue", kVenue, tags, [&bad](RawRtmpPublisher::FlvTag& t) {
      if (t.type != bad.tagType || t.body.empty()) return;
      if (bad.tagType == 9) t.body[0] = static_cast<uint8_t>((t.body[0] & 0xf0) | bad.codecId);
      else t.body[0] = static_cast<uint8_t>((t.body[0] & 0x0f) | (bad.codecId << 4));
    });
    const auto line = rig.relay().waitForLog(std::regex(bad.logPattern), 30s, logFrom);
    const int64_t tookMs = (StreamProbe::nowUs() - fromUs) / 1000;
    ASSERT_TRUE(line) << "no refusal naming the venue and the codec; relay log since:\n"
                      << rig.relay().logText().substr(logFrom) << "\nfeed: " << feed.error();
    figures(std::string(bad.what) + ": refused after " + std::to_string(tookMs) + " ms: " + *line);
    EXPECT_TRUE(feed.connected()) << feed.error();
    feed.stop();
    EXPECT_TRUE(rig.relay().running());
  }
  EXPECT_EQ(rig.endpointPublishes(), 0) << "the output published a stream it cannot carry";
  EXPECT_EQ(rig.atEndpoint().packetCount(), 0u);
  EXPECT_EQ(rig.relay().logText().find("output out1: live"), std::string::npos) << rig.relay().logText();

  // Then OBS is set back to H.264 + AAC: the same venue goes live.
  const int64_t validUs = StreamProbe::nowUs();
  FfmpegPublisher pub(clip.path, rig.venueUrl());
  FailureDump dump;
  dump.add(pub.process(), "ffmpeg");
  ASSERT_TRUE(rig.waitLive(30s));
  figures("valid feed: the endpoint got video " +
          std::to_string((rig.atEndpoint().packets().front().arrivalUs - validUs) / 1000) +
          " ms after it started publishing");
  ASSERT_TRUE(rig.atEndpoint().waitForPackets(60, 10s, MediaKind::Video));
  const auto session = rig.atEndpoint().lastSession();
  ASSERT_TRUE(session);
  const auto* v = session->stream(MediaKind::Video);
  const auto* a = session->stream(MediaKind::Audio);
  ASSERT_TRUE(v && a);
  EXPECT_EQ(v->codecName, "h264");
  EXPECT_EQ(v->width, 640);
  EXPECT_EQ(a->codecName, "aac");
  EXPECT_EQ(rig.endpointPublishes(), 1);
  EXPECT_TRUE(TimelineChecks::order(rig.atEndpoint().packets()).ok());
  EXPECT_TRUE(rig.relay().terminate().ok());
}

}  // namespace
}  // namespace venuecast::testing
