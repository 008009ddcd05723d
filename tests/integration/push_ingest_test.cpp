// Push ingest against real peers on 127.0.0.1: ffmpeg publishes to venuecast's one RTMP port exactly as an
// encoder would (rtmp://HOST:PORT/venue, stream key "<venue-id>?key=<secret>"), nginx-rtmp is the endpoint.
//   PushIngest  two venues on one port reach their endpoints; a wrong key, an unknown venue and a second
//               publisher for a live venue are refused at the RTMP level (the publisher hears why) while the live
//               ones carry on; garbage, a stalled handshake and one address's connections beyond its share of
//               pending slots are dropped; no key is ever logged.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <regex>
#include <thread>
#include <vector>

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

const std::string kShanghaiKey = "sh-s3cret-1234";
const std::string kChengduKey = "cd-s3cret-5678";
const std::string kWrongKey = "guessed-key-999";

std::string pushUrl(uint16_t port, const std::string& streamKey) {
  return "rtmp://127.0.0.1:" + std::to_string(port) + "/venue/" + streamKey;
}

// A publisher that is expected to be refused: it must give up by itself, saying why.
std::string refusedPublisherLog(const TestClip& clip, const std::string& url) {
  FfmpegPublisher::Options o;
  o.clip = clip.path;
  o.url = url;
  o.loop = false;
  o.durationSeconds = 3;
  FfmpegPublisher p(o);
  const auto exit = p.waitExit(10s);
  EXPECT_TRUE(exit.has_value()) << "a refused publisher should be dropped, not kept waiting";
  if (exit) EXPECT_FALSE(exit->exited && exit->exitCode == 0) << p.logText();
  return p.logText();
}

int connectTo(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{15, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

// Reads until the server closes (true) or the receive timeout passes (false).
bool closedByServer(int fd) {
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) return true;
    if (n < 0) return errno == ECONNRESET;
  }
}

TEST(PushIngest, VenuesPublishOnOnePortWrongKeysUnknownVenuesAndDuplicatesAreRefusedLiveOnesCarryOn) {
  const auto clip = TestClip::standard();
  NginxRtmp endpoint({NginxApp{"live"}});
  endpoint.start();
  const uint16_t port = freePort();
  VenuecastConfig config;
  config.rtmpListen = "127.0.0.1:" + std::to_string(port);
  config.venues = {{"shanghai", "", kShanghaiKey}, {"chengdu", "", kChengduKey}};
  config.outputs = {{"sh-main", "shanghai", endpoint.rtmpUrl("live", "sh"), std::nullopt},
                    {"cd-main", "chengdu", endpoint.rtmpUrl("live", "cd"), std::nullopt}};
  VenuecastProcess relay(config);
  FailureDump dump;
  dump.add("venuecast", [&] { return relay.logText(); }).add(endpoint, "endpoint");
  relay.start();
  ASSERT_TRUE(relay.waitForLog(std::regex("push listener: venues publish to rtmp://127\\.0\\.0\\.1:" +
                                          std::to_string(port) + "/venue"),
                               5s));

  FfmpegPublisher shanghai(clip.path, pushUrl(port, "shanghai?key=" + kShanghaiKey));
  FfmpegPublisher chengdu(clip.path, pushUrl(port, "chengdu?key=" + kChengduKey));
  ASSERT_TRUE(endpoint.waitForPublishing("live", "sh", 15s));
  ASSERT_TRUE(endpoint.waitForPublishing("live", "cd", 15s));
  ASSERT_TRUE(relay.waitForLog(std::regex("venue shanghai: live: h264 .* from 127\\.0\\.0\\.1:[0-9]+"), 5s));
  const auto before = endpoint.streamStats("live", "sh");
  EXPECT_EQ(before.videoCodec, "H264");

  // Refused at the RTMP level, each with its reason; the publisher is told and gives up.
  EXPECT_NE(refusedPublisherLog(clip, pushUrl(port, "shanghai?key=" + kWrongKey)).find("wrong key for venue 'shanghai'"),
            std::string::npos);
  EXPECT_NE(refusedPublisherLog(clip, pushUrl(port, "shanghai")).find("missing key for venue 'shanghai'"),
            std::string::npos);
  EXPECT_NE(refusedPublisherLog(clip, pushUrl(port, "nosuchvenue?key=" + kShanghaiKey)).find("unknown venue"),
            std::string::npos);
  EXPECT_NE(refusedPublisherLog(clip, pushUrl(port, "chengdu?key=" + kChengduKey)).find("already has a live publisher"),
            std::string::npos);

  // Strangers: an HTTP request, and a client that stops in the middle of its handshake.
  const int http = connectTo(port);
  ASSERT_GE(http, 0);
  const std::string get = "GET / HTTP/1.0\r\n\r\n";
  ASSERT_EQ(::send(http, get.data(), get.size(), 0), static_cast<ssize_t>(get.size()));
  EXPECT_TRUE(closedByServer(http));
  ::close(http);
  const int stalled = connectTo(port);
  ASSERT_GE(stalled, 0);
  const std::string half(700, '\x03');  // C0 and part of C1, then nothing
  ASSERT_EQ(::send(stalled, half.data(), half.size(), 0), static_cast<ssize_t>(half.size()));
  const auto stalledAt = std::chrono::steady_clock::now();
  EXPECT_TRUE(closedByServer(stalled)) << "a client stuck in its handshake must be dropped";
  EXPECT_LT(std::chrono::steady_clock::now() - stalledAt, 13s);
  ::close(stalled);

  // One address cannot hold every pending slot: beyond 8 idle connections, its new ones are closed at once.
  std::vector<int> idle;
  for (int i = 0; i < 10; ++i) idle.push_back(connectTo(port));
  std::this_thread::sleep_for(500ms);
  for (int i = 0; i < 10; ++i) {
    ASSERT_GE(idle[i], 0);
    char c;
    const ssize_t n = ::recv(idle[i], &c, 1, MSG_DONTWAIT);
    if (i < 8) {
      EXPECT_TRUE(n < 0 && errno == EAGAIN) << "idle connection " << i << " should still be open";
    } else {
      EXPECT_TRUE(closedByServer(idle[i])) << "idle connection " << i << " should have been closed";
    }
  }
  for (int fd : idle) ::close(fd);

  // The live venues never noticed: one publish each at the endpoint, still flowing.
  EXPECT_TRUE(shanghai.running());
  EXPECT_TRUE(chengdu.running());
  EXPECT_EQ(endpoint.publishCount("live", "sh"), 1);
  EXPECT_EQ(endpoint.publishCount("live", "cd"), 1);
  const auto after = endpoint.streamStats("live", "sh");
  EXPECT_TRUE(after.publishing);
  EXPECT_GT(after.bytesIn, before.bytesIn);
  EXPECT_TRUE(endpoint.streamStats("live", "cd").publishing);

  // The encoder stops and comes back (a venue network that dropped): same endpoint publish, data again.
  shanghai.stop();
  ASSERT_TRUE(relay.waitForLog(std::regex("venue shanghai: publisher 127\\.0\\.0\\.1:[0-9]+ left"), 5s));
  const auto gap = endpoint.streamStats("live", "sh");
  FfmpegPublisher again(clip.path, pushUrl(port, "shanghai?key=" + kShanghaiKey));
  EXPECT_TRUE(pollUntil([&] { return endpoint.streamStats("live", "sh").bytesIn > gap.bytesIn + 100'000; }, 10s));
  EXPECT_EQ(endpoint.publishCount("live", "sh"), 1);

  const std::string log = relay.logText();
  EXPECT_NE(log.find("refused: wrong key for venue 'shanghai'"), std::string::npos);
  EXPECT_NE(log.find("refused: venue 'chengdu' already has a live publisher"), std::string::npos);
  EXPECT_NE(log.find("dropped before publishing: not an RTMP client"), std::string::npos);
  EXPECT_NE(log.find("127.0.0.1 has 8 connections that have not published yet"), std::string::npos);
  for (const auto& secret : {kShanghaiKey, kChengduKey, kWrongKey}) {
    EXPECT_EQ(log.find(secret), std::string::npos) << secret << " appears in the log";
  }
  const auto stopped = relay.terminate();
  EXPECT_TRUE(stopped.exited && stopped.exitCode == 0);
}

}  // namespace
}  // namespace venuecast::testing
