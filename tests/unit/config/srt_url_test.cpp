// srt:// venue URLs: what is accepted, and errors that never repeat the passphrase.
#include "config/srt_url.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/config_loader.h"
#include "tests/unit/config/config_test_util.h"

namespace venuecast::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(SrtUrl, CallerAndListenerWithOptions) {
  const auto caller = parseSrtUrl("srt://venue.example:9000?latency=200000&passphrase=0123456789ab&streamid=wuxi");
  ASSERT_TRUE(caller);
  EXPECT_EQ(caller->host, "venue.example");
  EXPECT_EQ(caller->port, 9000);
  EXPECT_FALSE(caller->listener);
  EXPECT_EQ(caller->options.at("streamid"), "wuxi");
  const auto listener = parseSrtUrl("srt://0.0.0.0:9001?mode=listener");
  ASSERT_TRUE(listener);
  EXPECT_TRUE(listener->listener);
}

TEST(SrtUrl, RejectsWhatLibsrtWouldFailOnLater) {
  const std::pair<const char*, const char*> cases[] = {
      {"srt://host", "expected srt://host:port (port 1-65535)"},
      {"srt://host:0", "expected srt://host:port (port 1-65535)"},
      {"srt://host:9000/live", "an srt:// URL has no path (srt://host:port?options)"},
      {"srt://host:9000?mode=push", "SRT mode must be caller or listener"},
      {"srt://host:9000?latency=200ms", "SRT latency must be a number of microseconds (e.g. 200000 for 200 ms)"},
      {"srt://host:9000?passphrase=short", "SRT passphrase must be 10 to 79 characters"},
      {"srt://host:9000?pkt_size=1316", "unknown SRT option 'pkt_size' (allowed: mode, latency, passphrase, streamid)"},
      {"srt://venue.example:9000?mode=listener", "an SRT listener binds an IP address (e.g. srt://0.0.0.0:9000?mode=listener)"},
  };
  for (const auto& [url, message] : cases) {
    std::string why;
    EXPECT_FALSE(parseSrtUrl(url, &why)) << url;
    EXPECT_EQ(why, message) << url;
  }
}

TEST(SrtUrl, ConfigErrorsNameTheFieldAndHideThePassphrase) {
  const std::string yaml = "venues:\n  - id: wuxi\n    url: srt://127.0.0.1:9000?passphrase=tiny-secret&mode=x\n";
  const auto lines = testing::linesOf(testing::errorsOf(yaml));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0], HasSubstr("coscon.yaml:3: venues[0].url: SRT mode must be caller or listener"));
  EXPECT_THAT(lines[0], Not(HasSubstr("tiny-secret")));
  const Config c = parseConfig("venues:\n  - id: wuxi\n    url: srt://127.0.0.1:9000?mode=caller&passphrase=0123456789ab\n",
                               "coscon.yaml", testing::fakeEnv());
  EXPECT_EQ(c.venues[0].url, "srt://127.0.0.1:9000?mode=caller&passphrase=0123456789ab");
}

}  // namespace
}  // namespace venuecast::config
