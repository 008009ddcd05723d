// Push venues: server.rtmp_listen, venues[].push_key, and what check says about them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/config_loader.h"
#include "config/config_secrets.h"
#include "config/plan_printer.h"
#include "tests/unit/config/config_test_util.h"

namespace venuecast::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace venuecast::config::testing;

const std::string kPushYaml =
    "server:\n"
    "  rtmp_listen: 127.0.0.1:1935\n"
    "venues:\n"
    "  - id: shanghai\n"
    "    push_key: ${SH_KEY}\n"
    "  - id: chengdu\n"
    "    url: rtmp://127.0.0.1:1936/venue/chengdu\n"
    "outputs:\n"
    "  - id: sh\n"
    "    venue: shanghai\n"
    "    url: rtmp://127.0.0.1:1937/live/sh\n";

std::string pushWith(const std::string& from, const std::string& to) { return withReplaced(from, to, kPushYaml); }

std::vector<std::string> errorLines(const std::string& yaml) { return linesOf(errorsOf(yaml, fakeEnv({{"SH_KEY", "s3cret-shanghai"}}))); }

TEST(PushVenueConfig, PushAndPullVenuesLoadAndThePlanHidesTheKey) {
  const Config c = parseConfig(kPushYaml, "coscon.yaml", fakeEnv({{"SH_KEY", "s3cret-shanghai"}}));
  ASSERT_EQ(c.venues.size(), 2u);
  EXPECT_EQ(c.server.rtmpListen, "127.0.0.1:1935");
  EXPECT_TRUE(c.venues[0].push());
  EXPECT_EQ(c.venues[0].pushKey, "s3cret-shanghai");
  EXPECT_FALSE(c.venues[1].push());
  const std::string plan = describePlan(c);
  EXPECT_THAT(plan, HasSubstr("published to rtmp://127.0.0.1:1935/venue with stream key shanghai?key=****"));
  EXPECT_THAT(plan, Not(HasSubstr("s3cret")));
  SecretScrubber scrubber;
  addConfigSecrets(scrubber, c);
  EXPECT_EQ(scrubber.scrub("shanghai?key=s3cret-shanghai"), "shanghai?key=****");
}

TEST(PushVenueConfig, AVenueIsPulledOrPushedNeverBoth) {
  EXPECT_THAT(errorLines(pushWith("    push_key: ${SH_KEY}\n",
                                        "    push_key: ${SH_KEY}\n    url: rtmp://127.0.0.1:1936/venue/sh\n")),
              ElementsAre("coscon.yaml:5: venues[0].push_key: a venue is either pulled (url) or publishes to "
                          "venuecast (push_key), not both"));
  EXPECT_THAT(errorLines(pushWith("    push_key: ${SH_KEY}\n", "    name: Shanghai\n")),
              ElementsAre("coscon.yaml:4: venues[0].url: required field is missing (or push_key: for a venue whose "
                          "encoder publishes to venuecast)"));
}

TEST(PushVenueConfig, KeysMustBeUrlSafeAndLongEnough) {
  EXPECT_THAT(errorLines(pushWith("${SH_KEY}", "abc")),
              ElementsAre("coscon.yaml:5: venues[0].push_key: push_key is too short (3 characters, at least 8)"));
  EXPECT_THAT(errorLines(pushWith("${SH_KEY}", "\"abc def&ghij\"")),
              ElementsAre("coscon.yaml:5: venues[0].push_key: push_key may only hold letters, digits and - _ . ~ (it "
                          "is sent inside the stream key)"));
}

TEST(PushVenueConfig, PushVenuesNeedAValidListenAddress) {
  EXPECT_THAT(errorLines(pushWith("server:\n  rtmp_listen: 127.0.0.1:1935\n", "")),
              ElementsAre("coscon.yaml:3: venues[0].push_key: a push venue needs server.rtmp_listen (e.g. "
                          "127.0.0.1:1935, or 0.0.0.0:1935 for encoders on other hosts)"));
  for (const std::string bad : {"localhost:1935", "127.0.0.1", "127.0.0.1:99999", "0.0.0.0:x"}) {
    EXPECT_THAT(errorLines(pushWith("127.0.0.1:1935", bad)),
                ElementsAre("coscon.yaml:2: server.rtmp_listen: rtmp_listen must be <IP address>:<port>, e.g. "
                            "127.0.0.1:1935 or 0.0.0.0:1935, got '" + bad + "'"))
        << bad;
  }
}

}  // namespace
}  // namespace venuecast::config
