// SRT venues against the ffmpeg CLI on 127.0.0.1: MPEG-TS over SRT (H.264 Annex B, AAC in ADTS) relayed to an
// nginx-rtmp endpoint with codec copy, which must get proper FLV sequence headers (nginx-rtmp parses them:
// profile, size and audio codec in its stat page come from the AVC / AAC sequence headers).
//   SrtIngest  caller mode (venuecast calls the venue's SRT listener) and listener mode (the venue calls us),
//              with a passphrase, latency and stream id; the passphrase is never logged.
#include <gtest/gtest.h>

#include <regex>

#include "support/failure_dump.h"
#include "support/ffmpeg_publisher.h"
#include "support/free_port.h"
#include "support/nginx_rtmp.h"
#include "support/poll_until.h"
#include "support/test_clip.h"
#include "support/venuecast_process.h"

namespace venuecast::testing {
namespace {

using namespace std::chrono_literals;

const std::string kPassphrase = "srt-pass-phrase-42";

std::unique_ptr<FfmpegPublisher> srtPeer(const TestClip& clip, const std::string& url) {
  FfmpegPublisher::Options o;
  o.clip = clip.path;
  o.url = url;
  o.outputArgs = {"-f", "mpegts"};  // the later "-f flv" is overridden by the last -f before the URL
  return std::make_unique<FfmpegPublisher>(o);
}

void expectRelayed(bool venuecastListens) {
  const auto clip = TestClip::standard();
  NginxRtmp endpoint({NginxApp{"live"}});
  endpoint.start();
  const uint16_t port = freePort();
  const std::string options = "passphrase=" + kPassphrase + "&latency=120000&streamid=wuxi";
  const std::string ours = "srt://127.0.0.1:" + std::to_string(port) + "?mode=" +
                           (venuecastListens ? "listener" : "caller") + "&" + options;
  const std::string theirs = "srt://127.0.0.1:" + std::to_string(port) + "?mode=" +
                             (venuecastListens ? "caller" : "listener") + "&" + options;
  VenuecastConfig config;
  config.venues = {{"wuxi", ours}};
  config.outputs = {{"wuxi-main", "wuxi", endpoint.rtmpUrl("live", "wuxi"), std::nullopt}};
  VenuecastProcess relay(config);
  FailureDump dump;
  dump.add("venuecast", [&] { return relay.logText(); }).add(endpoint, "endpoint");

  std::unique_ptr<FfmpegPublisher> venue;
  if (!venuecastListens) venue = srtPeer(clip, theirs);  // the venue listens first
  relay.start();
  if (venuecastListens) {
    // Our listener binds when the venue's session opens; a caller that came too early is started again.
    ASSERT_TRUE(pollUntil([&] {
      if (!venue || !venue->running()) venue = srtPeer(clip, theirs);
      std::this_thread::sleep_for(1s);
      return venue->running() && endpoint.streamStats("live", "wuxi").publishing;
    }, 20s));
  }
  ASSERT_TRUE(endpoint.waitForPublishing("live", "wuxi", 20s));
  ASSERT_TRUE(pollUntil([&] { return endpoint.streamStats("live", "wuxi").bytesIn > 200'000; }, 15s));
  const auto s = endpoint.streamStats("live", "wuxi");
  EXPECT_EQ(s.videoCodec, "H264");
  EXPECT_FALSE(s.videoProfile.empty()) << "no AVC sequence header reached the endpoint";
  EXPECT_EQ(s.audioCodec, "AAC");
  EXPECT_EQ(endpoint.publishCount("live", "wuxi"), 1);
  EXPECT_TRUE(relay.waitForLog(std::regex("venue wuxi: live: h264"), 1s));
  EXPECT_EQ(relay.logText().find(kPassphrase), std::string::npos);
  const auto stopped = relay.terminate();
  EXPECT_TRUE(stopped.exited && stopped.exitCode == 0);
}

TEST(SrtIngest, CallerModePullsFromTheVenuesListener) { expectRelayed(false); }

TEST(SrtIngest, ListenerModeTakesTheVenuesCall) { expectRelayed(true); }

}  // namespace
}  // namespace venuecast::testing
