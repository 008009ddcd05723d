// redactUrl and SecretScrubber: stream keys must never reach a log line or message.
#include "config/redaction.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "tests/unit/config/config_test_util.h"

namespace venuecast::config {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using venuecast::config::testing::kBiliKey;
using venuecast::config::testing::kBiliKeyParts;

TEST(RedactUrlTest, KeepsAppHidesTheRest) {
  EXPECT_EQ(redactUrl("rtmp://127.0.0.1:1935/venue/chengdu"), "rtmp://127.0.0.1:1935/venue/****");
  EXPECT_EQ(redactUrl("rtmp://h/live-bvc/?streamname=x&key=y"), "rtmp://h/live-bvc/****");
  EXPECT_EQ(redactUrl("rtmp://live-push.bilivideo.com/live-bvc/" + kBiliKey),
            "rtmp://live-push.bilivideo.com/live-bvc/****");
  EXPECT_EQ(redactUrl("rtmp://h/app"), "rtmp://h/app");
  EXPECT_EQ(redactUrl("rtmp://h/app/"), "rtmp://h/app/");
  EXPECT_EQ(redactUrl("rtmp://h"), "rtmp://h");
  EXPECT_EQ(redactUrl("rtmp://h/"), "rtmp://h/");
  EXPECT_EQ(redactUrl("rtmp://h/live/abc/stream"), "rtmp://h/live/****");
  EXPECT_EQ(redactUrl("rtmp://h/app?token=abc"), "rtmp://h/app?****");
  EXPECT_EQ(redactUrl("rtmp://h/app#frag"), "rtmp://h/app#****");
  EXPECT_EQ(redactUrl("rtmp://h?key=abc"), "rtmp://h?****");
  EXPECT_EQ(redactUrl("rtmps://[::1]:443/app/key"), "rtmps://[::1]:443/app/****");
  EXPECT_EQ(redactUrl("srt://h:9000?streamid=x&passphrase=y"), "srt://h:9000?****");
}

TEST(RedactUrlTest, DropsCredentials) {
  EXPECT_EQ(redactUrl("rtmp://user:pa55@h:1935/app/stream"), "rtmp://****@h:1935/app/****");
  EXPECT_EQ(redactUrl("rtmp://u:p@ss@h/app"), "rtmp://****@h/app");
  EXPECT_EQ(redactUrl("rtmp://user@h"), "rtmp://****@h");
}

TEST(RedactUrlTest, NonUrlsAreHiddenEntirely) {
  EXPECT_EQ(redactUrl(kBiliKey), "****");  // a key pasted where a URL belongs
  EXPECT_EQ(redactUrl("live-push.bilivideo.com/live-bvc/"), "****");
  EXPECT_EQ(redactUrl("://h/app"), "****");
  EXPECT_EQ(redactUrl("1rtmp://h/app/x"), "****");
  EXPECT_EQ(redactUrl(""), "****");
}

TEST(SecretScrubberTest, BilibiliKeyAndEachPartNeverSurvive) {
  SecretScrubber scrubber;
  scrubber.add(kBiliKey);
  const std::vector<std::string> texts = {
      "publishing to rtmp://live-push.bilivideo.com:1935/live-bvc/" + kBiliKey,
      "playpath=" + kBiliKey.substr(1) + " failed",
      "[rtmp @ 0x55] Server error: stream live_3461_7890123 already publishing",
      "auth key=0a1b2c3d4e5f60718293a4b5c6d7e8f9 rejected",
      "token 0a1b2c3d4e5f60718293a4b5c6d7e8f9, twice 0a1b2c3d4e5f60718293a4b5c6d7e8f9",
  };
  for (const auto& text : texts) {
    const std::string out = scrubber.scrub(text);
    EXPECT_THAT(out, HasSubstr("****")) << text;
    for (const auto& part : kBiliKeyParts) EXPECT_THAT(out, Not(HasSubstr(part))) << out;
    EXPECT_THAT(out, Not(HasSubstr("live_3461"))) << out;
    EXPECT_THAT(out, Not(HasSubstr("0a1b2c3d"))) << out;
  }
  // The whole key goes as one unit, leaving no fragments around the mask.
  EXPECT_EQ(scrubber.scrub("url=rtmp://h/live-bvc/" + kBiliKey + " end"), "url=rtmp://h/live-bvc/**** end");
}

TEST(SecretScrubberTest, PublicTokensInsideKeysStayReadable) {
  SecretScrubber scrubber;
  scrubber.add(kBiliKey);  // contains schedule=rtmp
  EXPECT_EQ(scrubber.scrub("connecting to rtmp://live-push.bilivideo.com:1935/live-bvc"),
            "connecting to rtmp://live-push.bilivideo.com:1935/live-bvc");
  EXPECT_EQ(scrubber.scrub("pflag=1"), "pflag=1");  // too short to be a secret on its own
}

TEST(SecretScrubberTest, ShortSecretsAreIgnoredAndPublicWordsWin) {
  SecretScrubber scrubber;
  scrubber.add("abc");
  scrubber.add("");
  EXPECT_EQ(scrubber.scrub("abc abcdef"), "abc abcdef");
  scrubber.add("chengdu");
  EXPECT_EQ(scrubber.scrub("venue chengdu up"), "venue **** up");
  scrubber.addPublic("chengdu");  // retroactive
  EXPECT_EQ(scrubber.scrub("venue chengdu up"), "venue chengdu up");
}

TEST(SecretScrubberTest, NameWithQueryKey) {
  SecretScrubber scrubber;
  scrubber.add("stream-42?secret=s3cr3tvalue&expires=1700000000");
  const std::string out = scrubber.scrub("a stream-42 b s3cr3tvalue c 1700000000 d secret=s3cr3tvalue");
  EXPECT_EQ(out, "a **** b **** c **** d ****");
}

TEST(SecretScrubberTest, PlainKeyIsMaskedEverywhere) {
  SecretScrubber scrubber;
  scrubber.add("xxxx-yyyy-zzzz-wwww");
  EXPECT_EQ(scrubber.scrub("k=xxxx-yyyy-zzzz-wwww;xxxx-yyyy-zzzz-wwww"), "k=****;****");
  EXPECT_EQ(scrubber.scrub(""), "");
}

TEST(SecretScrubberTest, ConcurrentAddAndScrub) {
  SecretScrubber scrubber;
  scrubber.add(kBiliKey);
  std::atomic<bool> leaked{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        const std::string out = scrubber.scrub("log: " + kBiliKey + " " + std::to_string(i));
        if (out.find("0a1b2c3d") != std::string::npos) leaked = true;
      }
    });
  }
  threads.emplace_back([&] {
    for (int i = 0; i < 200; ++i) scrubber.add("other-secret-" + std::to_string(i));
  });
  for (auto& thread : threads) thread.join();
  EXPECT_FALSE(leaked);
  EXPECT_EQ(scrubber.scrub("other-secret-199"), "****");
}

}  // namespace
}  // namespace venuecast::config
