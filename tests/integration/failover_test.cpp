// Backup sources against real peers on 127.0.0.1: a venue pulled from an nginx-rtmp venue server, with its backup
// encoder (another resolution, so the recording shows which one was on air) on the same server.
//   Failover  the primary's encoder is killed: within failover_after + one GOP the endpoint carries the backup;
//             the primary comes back: after failback_after it is on air again. The endpoint sees one publish
//             throughout, and its recording decodes with `ffmpeg -xerror`, DTS strictly increasing, frames of
//             both sources in it. Then both encoders die: the standby slate is on air within 3 s, and the primary
//             takes over again at its first keyframe when it restarts, still on the same publish. After every switch
//             the endpoint is within 1 s of live with A/V skew within a frame (probes at both sources and the
//             endpoint).
//   Pushed backup  the backup encoder publishes to venuecast's listener (push_key) while the primary is pulled: the
//             same failover and failback on one endpoint publish, the key never in the log.
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <sstream>
#include <thread>

#include "support/child_process.h"
#include "support/failure_dump.h"
#include "support/free_port.h"
#include "support/ffmpeg_publisher.h"
#include "support/ffprobe_reader.h"
#include "support/nginx_rtmp.h"
#include "support/recording_checks.h"
#include "support/poll_until.h"
#include "support/stream_probe.h"
#include "support/temp_dir.h"
#include "support/test_clip.h"
#include "support/timeline_checks.h"
#include "support/venuecast_process.h"

namespace venuecast::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

StreamProbe::Options probeOptions(const std::string& url) {
  StreamProbe::Options o{url};
  o.rwTimeout = 15s;  // the primary's outages must not end the probe's session
  o.maxAttempts = 1000;
  return o;
}

// After a switch to a live source: the endpoint is within 1 s of it and A/V stay in sync (against the source's own
// A/V relationship), over the 1..3 s after the switch. After any switch: the output timeline is where it was
// against the wall clock (it neither fell behind live nor ran ahead), within 1 s.
void expectLiveAfterSwitch(const std::string& what, const std::vector<ProbePacket>* source,
                           const std::vector<ProbePacket>& endpoint, int64_t switchedUs, int64_t leadBeforeMs) {
  SCOPED_TRACE(what);
  const TimeWindow w{switchedUs + 1'000'000, switchedUs + 3'000'000};
  const int64_t lead = TimelineChecks::dtsLeadMs(endpoint, MediaKind::Video, w);
  std::printf("[ figures  ] %s: output timeline vs wall clock moved %lld ms", what.c_str(),
              static_cast<long long>(lead - leadBeforeMs));
  EXPECT_LT(std::llabs(lead - leadBeforeMs), 1000) << "the output fell behind (or ran ahead of) live";
  if (!source) {
    std::printf("\n");
    return;
  }
  // Only the source's packets around the switch: a restarted encoder sends the same clip again, and its earlier run
  // would match the endpoint's packets as well as this one.
  std::vector<ProbePacket> near;
  for (const auto& p : *source) {
    if (p.arrivalUs >= w.fromUs - 3'000'000 && p.arrivalUs < w.toUs) near.push_back(p);
  }
  const DelayStats delay = TimelineChecks::delay(near, endpoint, MediaKind::Video, w);
  const SkewReport skew = TimelineChecks::avSkew(near, endpoint, w);
  std::printf("; behind the source: %s; %s\n", TimelineChecks::describe(delay).c_str(), skew.describe().c_str());
  EXPECT_GT(delay.matched, 20u);
  EXPECT_LT(delay.medianUs, 1'000'000) << "not within 1 s of live";
  EXPECT_GT(skew.pairs, 10u);
  EXPECT_LE(skew.maxAbsMs, 34) << "A/V skew beyond one frame";
}

TEST(Failover, PrimaryLostSwitchesToTheBackupAndBackOnOneEndpointPublishWithOneTimeline) {
  const auto sd = TestClip::standard();  // primary: 640x360
  const auto hd = TestClip::hd720();     // backup: 1280x720
  NginxRtmp venueServer({NginxApp{"venue"}});
  venueServer.start();
  NginxApp recording{"live"};
  recording.record = true;
  NginxRtmp endpoint({recording});
  endpoint.start();
  auto primary = std::make_unique<FfmpegPublisher>(sd.path, venueServer.rtmpUrl("venue", "main"));
  FfmpegPublisher backup(hd.path, venueServer.rtmpUrl("venue", "spare"));
  ASSERT_TRUE(venueServer.waitForPublishing("venue", "main", 10s));
  ASSERT_TRUE(venueServer.waitForPublishing("venue", "spare", 10s));
  StreamProbe atPrimary(probeOptions(venueServer.rtmpUrl("venue", "main")));
  StreamProbe atBackup(probeOptions(venueServer.rtmpUrl("venue", "spare")));
  StreamProbe atEndpoint(probeOptions(endpoint.rtmpUrl("live", "sh")));
  atPrimary.start();
  atBackup.start();
  atEndpoint.start();

  constexpr double kFailoverS = 1, kFailbackS = 3, kGopS = 2;
  VenuecastProcess relay("venues:\n"
                         "  - id: shanghai\n"
                         "    url: " + venueServer.rtmpUrl("venue", "main") + "\n"
                         "    backup:\n"
                         "      url: " + venueServer.rtmpUrl("venue", "spare") + "\n"
                         "    failover_after: 1\n"
                         "    failback_after: 3\n"
                         "outputs:\n"
                         "  - id: sh\n"
                         "    venue: shanghai\n"
                         "    url: " + endpoint.rtmpUrl("live", "sh") + "\n");
  FailureDump dump;
  dump.add("venuecast", [&] { return relay.logText(); }).add(endpoint, "endpoint");
  relay.start();
  ASSERT_TRUE(relay.waitForLog(std::regex("venue shanghai: on air: primary"), 10s));
  ASSERT_TRUE(endpoint.waitForPublishing("live", "sh", 10s));
  std::this_thread::sleep_for(3s);
  const int64_t steadyUs = StreamProbe::nowUs();
  std::vector<std::pair<std::string, int64_t>> switches;  // what, when the log line was seen

  const auto killedAt = Clock::now();
  primary.reset();  // the venue's main encoder dies
  ASSERT_TRUE(relay.waitForLog(std::regex("venue shanghai: switched from primary to backup \\(primary"), 10s));
  switches.push_back({"to the backup", StreamProbe::nowUs()});
  const double failover = secondsSince(killedAt);
  std::printf("[ figures  ] failover %.2f s after the primary's encoder was killed\n", failover);
  EXPECT_LE(failover, kFailoverS + kGopS + 1.5);
  std::this_thread::sleep_for(3s);

  const auto backAt = Clock::now();
  primary = std::make_unique<FfmpegPublisher>(sd.path, venueServer.rtmpUrl("venue", "main"));
  ASSERT_TRUE(relay.waitForLog(std::regex("venue shanghai: switched from backup to primary \\(primary live again"), 15s));
  switches.push_back({"back to the primary", StreamProbe::nowUs()});
  const double failback = secondsSince(backAt);
  std::printf("[ figures  ] failback %.2f s after the primary's encoder restarted\n", failback);
  EXPECT_GE(failback, kFailbackS);
  EXPECT_LE(failback, kFailbackS + kGopS + 4);
  std::this_thread::sleep_for(3s);

  // Both encoders die: the standby slate within 3 s; the primary restarts: live again at its first keyframe.
  const size_t logBeforeBoth = relay.logText().size();
  const auto bothAt = Clock::now();
  primary.reset();
  backup.stop();
  ASSERT_TRUE(relay.waitForLog(std::regex("venue shanghai: switched from (primary|backup) to standby slate \\(nothing "
                                          "live for"),
                               10s, logBeforeBoth));
  switches.push_back({"to the standby slate", StreamProbe::nowUs()});
  const double slate = secondsSince(bothAt);
  std::printf("[ figures  ] standby slate on air %.2f s after both encoders were killed\n", slate);
  EXPECT_LE(slate, 3.0);
  std::this_thread::sleep_for(3s);
  const auto restoredAt = Clock::now();
  primary = std::make_unique<FfmpegPublisher>(sd.path, venueServer.rtmpUrl("venue", "main"));
  ASSERT_TRUE(relay.waitForLog(std::regex("venue shanghai: switched from standby slate to primary \\(primary live "
                                          "again\\)"),
                               15s, logBeforeBoth));
  switches.push_back({"from the slate to the primary", StreamProbe::nowUs()});
  std::printf("[ figures  ] live again %.2f s after the primary's encoder restarted\n", secondsSince(restoredAt));
  std::this_thread::sleep_for(3s);

  // After every switch: at the live edge, A/V in sync.
  atEndpoint.stop();
  atPrimary.stop();
  atBackup.stop();
  const auto endpointPackets = atEndpoint.packets();
  const auto primaryPackets = atPrimary.packets(), backupPackets = atBackup.packets();
  EXPECT_EQ(atEndpoint.connectCount(), 1) << "the endpoint's stream ended for its player";
  const int64_t leadBefore =
      TimelineChecks::dtsLeadMs(endpointPackets, MediaKind::Video, {steadyUs - 2'000'000, steadyUs});
  expectLiveAfterSwitch("before any switch", &primaryPackets, endpointPackets, steadyUs - 3'000'000, leadBefore);
  expectLiveAfterSwitch("to the backup", &backupPackets, endpointPackets, switches[0].second, leadBefore);
  expectLiveAfterSwitch("back to the primary", &primaryPackets, endpointPackets, switches[1].second, leadBefore);
  expectLiveAfterSwitch("to the standby slate", nullptr, endpointPackets, switches[2].second, leadBefore);
  expectLiveAfterSwitch("from the slate to the primary", &primaryPackets, endpointPackets, switches[3].second,
                        leadBefore);

  EXPECT_EQ(endpoint.publishCount("live", "sh"), 1) << "a switch must never drop the endpoint's publish";
  const auto stopped = relay.terminate();
  EXPECT_TRUE(stopped.exited && stopped.exitCode == 0);

  // The recording: decodes without error, one timeline, both sources in it.
  endpoint.stop();
  const auto file = endpoint.recordPath("live", "sh");
  // Across the failover: the time without the primary before the switch, plus the wait for the backup's keyframe.
  expectCleanRecording(file, static_cast<int64_t>((kFailoverS + kGopS + 1.5) * 1000));
  std::string error;
  auto decoded = FfprobeReader::frameSizes(file, error);
  ASSERT_TRUE(decoded) << error;
  auto& sizes = *decoded;
  EXPECT_GT(sizes["640,360"], 60) << "the primary's frames";
  EXPECT_GT(sizes["1280,720"], 30) << "the backup's frames";
}

// A backup encoder that publishes to venuecast's own port (the spare laptop at the venue, pointed at venuecast),
// with the primary pulled from the venue server: the same failover and failback, one endpoint publish.
TEST(Failover, APushedBackupTakesOverFromAPulledPrimaryAndHandsBack) {
  const auto sd = TestClip::standard();
  const auto hd = TestClip::hd720();
  NginxRtmp venueServer({NginxApp{"venue"}});
  venueServer.start();
  NginxApp recording{"live"};
  recording.record = true;
  NginxRtmp endpoint({recording});
  endpoint.start();
  const uint16_t listenPort = freePort();
  const std::string spareKey = "spare-laptop-key-7";
  auto primary = std::make_unique<FfmpegPublisher>(sd.path, venueServer.rtmpUrl("venue", "main"));
  ASSERT_TRUE(venueServer.waitForPublishing("venue", "main", 10s));
  VenuecastProcess relay("server:\n"
                         "  rtmp_listen: 127.0.0.1:" + std::to_string(listenPort) + "\n"
                         "venues:\n"
                         "  - id: dalian\n"
                         "    url: " + venueServer.rtmpUrl("venue", "main") + "\n"
                         "    backup:\n"
                         "      push_key: " + spareKey + "\n"
                         "    failover_after: 1\n"
                         "    failback_after: 3\n"
                         "outputs:\n"
                         "  - id: dl\n"
                         "    venue: dalian\n"
                         "    url: " + endpoint.rtmpUrl("live", "dl") + "\n");
  FailureDump dump;
  dump.add("venuecast", [&] { return relay.logText(); }).add(endpoint, "endpoint");
  relay.start();
  ASSERT_TRUE(relay.waitForLog(std::regex("venue dalian: on air: primary"), 10s));
  FfmpegPublisher spare(hd.path, "rtmp://127.0.0.1:" + std::to_string(listenPort) + "/venue/dalian?key=" + spareKey);
  ASSERT_TRUE(endpoint.waitForPublishing("live", "dl", 10s));
  std::this_thread::sleep_for(3s);

  primary.reset();
  ASSERT_TRUE(relay.waitForLog(std::regex("venue dalian: switched from primary to backup"), 10s));
  std::this_thread::sleep_for(3s);
  primary = std::make_unique<FfmpegPublisher>(sd.path, venueServer.rtmpUrl("venue", "main"));
  ASSERT_TRUE(relay.waitForLog(std::regex("venue dalian: switched from backup to primary \\(primary live again"), 15s));
  std::this_thread::sleep_for(2s);

  EXPECT_EQ(endpoint.publishCount("live", "dl"), 1);
  EXPECT_EQ(relay.logText().find(spareKey), std::string::npos) << "the push key reached the log";
  EXPECT_TRUE(relay.terminate().ok());
  endpoint.stop();
  const auto file = endpoint.recordPath("live", "dl");
  const DecodeCheck decode = FfprobeReader::decodeCheck(file);
  EXPECT_TRUE(decode.ok()) << "exit " << decode.exitCode << ": " << decode.stderrText.substr(0, 3000);
  std::string error;
  const auto sizes = FfprobeReader::frameSizes(file, error);
  ASSERT_TRUE(sizes) << error;
  const auto count = [&](const char* size) { return sizes->count(size) ? sizes->at(size) : 0; };
  EXPECT_GT(count("640,360"), 60) << "the primary's frames";
  EXPECT_GT(count("1280,720"), 30) << "the pushed backup's frames";
}

}  // namespace
}  // namespace venuecast::testing
