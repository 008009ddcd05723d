// The operator's own standby clip (venues[].slate: FILE) against real peers on 127.0.0.1: a venue pulled from an
// nginx-rtmp venue server, its output recorded by an endpoint nginx-rtmp.
//   OperatorsClip   the venue's encoder is killed: within failover_after the endpoint carries the operator's clip
//                   (another size, so the recording shows it), looped; the encoder restarts: the venue is back at
//                   its first keyframe. One publish at the endpoint; the recording decodes with ffmpeg -xerror, DTS
//                   strictly increasing, no step beyond the switch wait plus a frame or two.
//   UnusableClip    a slate file that is no media: venuecast refuses to start, naming the venue and the file.
// (The rendered slate, the timeline against the source and the live edge: RelayTimestampsOutage/StandbySlate;
// both sources lost: Failover.)
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <thread>

#include "support/failure_dump.h"
#include "support/ffmpeg_publisher.h"
#include "support/ffprobe_reader.h"
#include "support/nginx_rtmp.h"
#include "support/recording_checks.h"
#include "support/temp_dir.h"
#include "support/test_clip.h"
#include "support/venuecast_process.h"

namespace venuecast::testing {
namespace {

using namespace std::chrono_literals;

TEST(StandbySlateFile, TheOperatorsClipLoopsWhileTheVenueIsDownOnOneEndpointPublish) {
  const auto venueClip = TestClip::standard();  // 640x360
  ClipSpec slateSpec;
  slateSpec.width = 320;
  slateSpec.height = 180;
  slateSpec.seconds = 3;
  slateSpec.sineHz = 220;
  const auto slateClip = TestClip::get(slateSpec);
  NginxRtmp venueServer({NginxApp{"venue"}});
  venueServer.start();
  NginxApp recording{"live"};
  recording.record = true;
  NginxRtmp endpoint({recording});
  endpoint.start();
  auto encoder = std::make_unique<FfmpegPublisher>(venueClip.path, venueServer.rtmpUrl("venue", "main"));
  ASSERT_TRUE(venueServer.waitForPublishing("venue", "main", 10s));

  VenuecastProcess relay("venues:\n"
                         "  - id: wuxi\n"
                         "    url: " + venueServer.rtmpUrl("venue", "main") + "\n"
                         "    failover_after: 1\n"
                         "    slate: " + slateClip.path.string() + "\n"
                         "outputs:\n"
                         "  - id: wx\n"
                         "    venue: wuxi\n"
                         "    url: " + endpoint.rtmpUrl("live", "wx") + "\n");
  FailureDump dump;
  dump.add("venuecast", [&] { return relay.logText(); }).add(endpoint, "endpoint");
  relay.start();
  ASSERT_TRUE(endpoint.waitForPublishing("live", "wx", 10s));
  std::this_thread::sleep_for(3s);

  encoder.reset();
  ASSERT_TRUE(relay.waitForLog(std::regex("venue wuxi: switched from primary to standby slate \\(nothing live for"), 5s));
  std::this_thread::sleep_for(4s);  // more than one loop of the 3 s clip
  encoder = std::make_unique<FfmpegPublisher>(venueClip.path, venueServer.rtmpUrl("venue", "main"));
  ASSERT_TRUE(relay.waitForLog(std::regex("venue wuxi: switched from standby slate to primary"), 15s));
  std::this_thread::sleep_for(2s);

  EXPECT_EQ(endpoint.publishCount("live", "wx"), 1) << "the slate must keep the endpoint's publish";
  const std::string log = relay.logText();
  EXPECT_EQ(log.find("rendered for"), std::string::npos) << "the operator's clip matches the venue: nothing rendered";
  EXPECT_TRUE(relay.terminate().ok());

  endpoint.stop();
  const auto file = endpoint.recordPath("live", "wx");
  // The switch wait (failover_after 1 s) plus the frame grid.
  expectCleanRecording(file, 1000 + 2 * 34 + 100);
  std::string error;
  const auto sizes = FfprobeReader::frameSizes(file, error);
  ASSERT_TRUE(sizes) << error;
  const auto count = [&](const char* size) { return sizes->count(size) ? sizes->at(size) : 0; };
  std::printf("[ figures  ] frames: %d of the venue, %d of the operator's clip\n", count("640,360"), count("320,180"));
  EXPECT_GT(count("640,360"), 100);
  EXPECT_GT(count("320,180"), 100) << "the clip played for about 4 s, looped";
  EXPECT_LT(count("320,180"), 200);
}

TEST(StandbySlateFile, AClipThatIsNoMediaStopsTheStartWithTheVenueAndFile) {
  TempDir dir("venuecast-slate");
  const auto bogus = dir.file("back-soon.mp4");
  std::ofstream(bogus) << "this is not a video";
  VenuecastProcess relay("venues:\n"
                         "  - id: wuxi\n"
                         "    url: rtmp://127.0.0.1:1/venue/main\n"
                         "    slate: " + bogus.string() + "\n"
                         "outputs: []\n");
  relay.start();
  const auto status = relay.waitExit(10s);
  ASSERT_TRUE(status.has_value()) << "venuecast kept running";
  EXPECT_TRUE(status->exited);
  EXPECT_EQ(status->exitCode, 1);
  EXPECT_NE(relay.logText().find("venue wuxi: slate file " + bogus.string() + ": Invalid data found"), std::string::npos)
      << relay.logText();
}

}  // namespace
}  // namespace venuecast::testing
