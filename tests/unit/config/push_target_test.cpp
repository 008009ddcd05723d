// makePushTarget (OBS server + key -> libavformat options) and parseRtmpUrl.
#include "config/push_target.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/config/config_test_util.h"

namespace venuecast::config {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using venuecast::config::testing::kBiliKey;
using venuecast::config::testing::kBiliKeyParts;

TEST(PushTargetTest, BilibiliKeyGoesVerbatimIntoPlaypath) {
  for (const std::string server :
       {"rtmp://live-push.bilivideo.com/live-bvc/", "rtmp://live-push.bilivideo.com/live-bvc"}) {
    SCOPED_TRACE(server);
    const PushTarget t = makePushTarget(server, kBiliKey);
    EXPECT_EQ(t.url, "rtmp://live-push.bilivideo.com:1935/");
    EXPECT_EQ(t.rtmpApp, "live-bvc");
    EXPECT_EQ(t.rtmpPlaypath, kBiliKey);  // leading '?' kept, nothing encoded
    EXPECT_EQ(t.tcUrl, "rtmp://live-push.bilivideo.com:1935/live-bvc");
    EXPECT_EQ(t.redacted, "rtmp://live-push.bilivideo.com:1935/live-bvc/****");
    for (const auto& part : kBiliKeyParts) {
      EXPECT_THAT(t.redacted, Not(HasSubstr(part)));
      EXPECT_THAT(t.url, Not(HasSubstr(part)));
      EXPECT_THAT(t.tcUrl, Not(HasSubstr(part)));
    }
  }
}

TEST(PushTargetTest, PlainAppAndNameKey) {
  const PushTarget t = makePushTarget("rtmp://127.0.0.1:1936/forum", "chengdu");
  EXPECT_EQ(t.url, "rtmp://127.0.0.1:1936/");
  EXPECT_EQ(t.rtmpApp, "forum");
  EXPECT_EQ(t.rtmpPlaypath, "chengdu");
  EXPECT_EQ(t.tcUrl, "rtmp://127.0.0.1:1936/forum");
  EXPECT_EQ(t.redacted, "rtmp://127.0.0.1:1936/forum/****");
}

TEST(PushTargetTest, RtmpsDefaultsToPort443AndKeepsExplicitPorts) {
  const PushTarget t = makePushTarget("rtmps://live-api-s.facebook.com/rtmp/", "FB-123-0-Ab");
  EXPECT_EQ(t.url, "rtmps://live-api-s.facebook.com:443/");
  EXPECT_EQ(t.tcUrl, "rtmps://live-api-s.facebook.com:443/rtmp");
  EXPECT_EQ(t.redacted, "rtmps://live-api-s.facebook.com:443/rtmp/****");
  EXPECT_EQ(makePushTarget("rtmps://h:8443/app", "k").url, "rtmps://h:8443/");
  EXPECT_EQ(makePushTarget("RTMP://H.example/app", "k").url, "rtmp://H.example:1935/");
}

TEST(PushTargetTest, AppMayContainAnInnerSlash) {
  const PushTarget t = makePushTarget("rtmp://h/live/abc/", "stream1");
  EXPECT_EQ(t.rtmpApp, "live/abc");
  EXPECT_EQ(t.tcUrl, "rtmp://h:1935/live/abc");
  EXPECT_EQ(t.redacted, "rtmp://h:1935/live/****");  // like redactUrl: only the first segment is shown
}

TEST(PushTargetTest, Ipv6LiteralKeepsBrackets) {
  const PushTarget t = makePushTarget("rtmp://[::1]:1936/forum/", "dalian");
  EXPECT_EQ(t.url, "rtmp://[::1]:1936/");
  EXPECT_EQ(t.tcUrl, "rtmp://[::1]:1936/forum");
  EXPECT_EQ(t.redacted, "rtmp://[::1]:1936/forum/****");
  EXPECT_EQ(makePushTarget("rtmps://[2001:db8::7]/app", "k").url, "rtmps://[2001:db8::7]:443/");
}

TEST(PushTargetTest, WithoutKeyTheUrlIsPassedThrough) {
  const PushTarget t = makePushTarget("rtmp://127.0.0.1/forum/dalian?token=s3cr3t", "");
  EXPECT_EQ(t.url, "rtmp://127.0.0.1/forum/dalian?token=s3cr3t");
  EXPECT_EQ(t.rtmpApp, "");
  EXPECT_EQ(t.rtmpPlaypath, "");
  EXPECT_EQ(t.tcUrl, "");
  EXPECT_EQ(t.redacted, "rtmp://127.0.0.1/forum/****");
}

TEST(PushTargetTest, BadServerUrlThrowsWithoutLeakingTheKey) {
  try {
    makePushTarget("rtmp://live-push.bilivideo.com/", kBiliKey);
    FAIL() << "expected invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("has no app"));
    for (const auto& part : kBiliKeyParts) EXPECT_THAT(e.what(), Not(HasSubstr(part)));
  }
  EXPECT_THROW(makePushTarget("http://h/app", "k"), std::invalid_argument);
  try {
    makePushTarget("rtmp://h:0/app/?streamname=live_1_2&key=deadbeef", "k");
    FAIL() << "expected invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "bad server URL rtmp://h:0/app/****: bad port '0' (expected 1-65535)");
  }
}

TEST(RtmpEndpointTest, KeyedServerUsesTheKeyVerbatim) {
  const RtmpEndpoint e = resolveRtmpEndpoint("rtmp://live-push.bilivideo.com/live-bvc/", kBiliKey);
  EXPECT_EQ(e.host, "live-push.bilivideo.com");
  EXPECT_EQ(e.port, 1935);
  EXPECT_EQ(e.app, "live-bvc");
  EXPECT_EQ(e.tcUrl, "rtmp://live-push.bilivideo.com:1935/live-bvc");
  EXPECT_EQ(e.playpath, kBiliKey);
}

// The same split as libavformat 5.1's rtmpproto (the table in notes/ffmpeg-rtmp.md §1).
TEST(RtmpEndpointTest, KeylessUrlIsSplitAsLibavformatSplitsIt) {
  struct Case {
    const char* url;
    const char* app;
    const char* playpath;
    const char* tcUrl;
  };
  for (const auto& c : std::vector<Case>{
           {"rtmp://127.0.0.1:1936/forum/chengdu", "forum", "chengdu", "rtmp://127.0.0.1:1936/forum"},
           {"rtmp://h/live-bvc/?streamname=live_1_2&key=ab", "live-bvc", "?streamname=live_1_2&key=ab",
            "rtmp://h:1935/live-bvc"},
           {"rtmp://h/live-bvc?streamname=x", "live-bvc?streamname=x", "", "rtmp://h:1935/live-bvc?streamname=x"},
           {"rtmp://h/live/abc/def?x=1", "live/abc", "def?x=1", "rtmp://h:1935/live/abc"},
           {"rtmp://h/app/inst:name/x", "app", "inst:name/x", "rtmp://h:1935/app"},
           {"rtmp://h/app", "app", "", "rtmp://h:1935/app"},
           {"rtmp://h/app/", "app", "", "rtmp://h:1935/app"},
           {"rtmp://h", "", "", "rtmp://h:1935/"},
           {"rtmp://h/app/clip.flv", "app", "clip", "rtmp://h:1935/app"},
           {"rtmp://h/app/clip.mp4", "app", "mp4:clip.mp4", "rtmp://h:1935/app"},
           {"rtmp://h/ondemand/a/b", "ondemand", "a/b", "rtmp://h:1935/ondemand"},
           {"rtmp://[::1]:1936/forum/dalian", "forum", "dalian", "rtmp://[::1]:1936/forum"},
       }) {
    SCOPED_TRACE(c.url);
    const RtmpEndpoint e = resolveRtmpEndpoint(c.url, "");
    EXPECT_EQ(e.app, c.app);
    EXPECT_EQ(e.playpath, c.playpath);
    EXPECT_EQ(e.tcUrl, c.tcUrl);
  }
  EXPECT_EQ(resolveRtmpEndpoint("rtmp://[::1]:1936/forum/dalian", "").host, "::1");
  EXPECT_EQ(resolveRtmpEndpoint("rtmp://[::1]:1936/forum/dalian", "").port, 1936);
  EXPECT_THROW(resolveRtmpEndpoint("http://h/app", ""), std::invalid_argument);
}

TEST(RtmpUrlTest, ParsesParts) {
  const auto url = parseRtmpUrl("rtmp://127.0.0.1:1935/venue/chengdu?x=1");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->scheme, "rtmp");
  EXPECT_EQ(url->host, "127.0.0.1");
  EXPECT_EQ(url->port, 1935);
  EXPECT_TRUE(url->explicitPort);
  EXPECT_EQ(url->path, "/venue/chengdu?x=1");
  EXPECT_EQ(url->hostPort(), "127.0.0.1:1935");

  const auto plain = parseRtmpUrl("rtmps://example.com");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->port, 443);
  EXPECT_FALSE(plain->explicitPort);
  EXPECT_EQ(plain->path, "");

  const auto v6 = parseRtmpUrl("rtmp://[fe80::1]/app");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "fe80::1");
  EXPECT_EQ(v6->port, 1935);
  EXPECT_EQ(v6->hostPort(), "[fe80::1]:1935");
}

TEST(RtmpUrlTest, ExplainsWhatIsWrong) {
  const auto why = [](const std::string& url) {
    std::string reason;
    EXPECT_FALSE(parseRtmpUrl(url, &reason)) << url;
    return reason;
  };
  EXPECT_EQ(why(""), "URL is empty");
  EXPECT_EQ(why("live-push.bilivideo.com/live-bvc/"), "not a URL (expected rtmp://host[:port]/app/...)");
  EXPECT_EQ(why("https://h/app"), "unsupported scheme 'https' (supported: rtmp, rtmps)");
  EXPECT_EQ(why("rtmpt://h/app"), "unsupported scheme 'rtmpt' (supported: rtmp, rtmps)");
  EXPECT_EQ(why("rtmp:///app"), "URL has no host");
  EXPECT_EQ(why("rtmp://:1935/app"), "URL has no host");
  EXPECT_EQ(why("rtmp://h:/app"), "bad port '' (expected 1-65535)");
  EXPECT_EQ(why("rtmp://h:0/app"), "bad port '0' (expected 1-65535)");
  EXPECT_EQ(why("rtmp://h:65536/app"), "bad port '65536' (expected 1-65535)");
  EXPECT_EQ(why("rtmp://h:19350000/app"), "bad port '19350000' (expected 1-65535)");
  EXPECT_EQ(why("rtmp://h:-1/app"), "bad port '-1' (expected 1-65535)");
  EXPECT_EQ(why("rtmp://u:p@h/app"), "credentials in the URL (user:password@) are not supported");
  EXPECT_EQ(why("rtmp://[::1/app"), "unclosed '[' in IPv6 host");
  EXPECT_EQ(why("rtmp://[zz]/app"), "bad IPv6 host '[zz]'");
  EXPECT_EQ(why("rtmp://[::1]x/app"), "unexpected text after IPv6 host");
  EXPECT_EQ(why("rtmp://h!/app"), "bad host 'h!'");
  EXPECT_EQ(why("rtmp://h/app name"), "URL contains whitespace or control characters");
  EXPECT_TRUE(parseRtmpUrl("rtmp://h:65535/app"));
  EXPECT_TRUE(parseRtmpUrl("rtmp://h:1/app"));
  EXPECT_FALSE(parseRtmpUrl("nonsense"));  // `why` is optional
}

}  // namespace
}  // namespace venuecast::config
