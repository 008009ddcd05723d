// Secrets never appear in loader errors, and addConfigSecrets masks what a Config holds.
#include "config/config_secrets.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/config/config_test_util.h"

namespace venuecast::config {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace venuecast::config::testing;

void expectNoKey(const std::string& text) {
  for (const auto& part : kBiliKeyParts) EXPECT_THAT(text, Not(HasSubstr(part)));
  EXPECT_THAT(text, Not(HasSubstr("live_3461")));
  EXPECT_THAT(text, Not(HasSubstr("0a1b2c3d")));
}

std::string whatOf(const std::string& yaml, const EnvLookup& env) {
  try {
    parseConfig(yaml, "coscon.yaml", env);
  } catch (const ConfigErrors& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected ConfigErrors";
  return "";
}

TEST(ConfigSecretsTest, KeyPastedIntoUrlIsRedacted) {
  // The OBS "full URL" mistake: server + key in url, plus a bad port so the URL gets quoted.
  const auto yaml =
      withReplaced("rtmp://live-push.bilivideo.com/live-bvc/", "rtmp://live-push.bilivideo.com:0/live-bvc/" + kBiliKey);
  const std::string what = whatOf(yaml, validEnv());
  EXPECT_THAT(what, HasSubstr("coscon.yaml:12: outputs[0].url: bad port '0' (expected 1-65535) in "
                              "'rtmp://live-push.bilivideo.com:0/live-bvc/****'"));
  expectNoKey(what);
}

TEST(ConfigSecretsTest, KeyVariableUsedInTheWrongFieldIsMasked) {
  auto yaml = withReplaced("    venue: chengdu\n", "    venue: ${BILI_CHENGDU_KEY}\n");
  yaml = withReplaced("  - id: forum-dalian\n", "  - id: ${BILI_CHENGDU_KEY}\n", yaml);
  yaml = withReplaced("    venue: dalian\n", "    venue: dalian\n    tls_verify: ${BILI_CHENGDU_KEY}\n", yaml);
  const std::string what = whatOf(yaml, validEnv());
  EXPECT_THAT(what, HasSubstr("coscon.yaml:11: outputs[0].venue: unknown venue '****' (known: chengdu, dalian)"));
  EXPECT_THAT(what, HasSubstr("coscon.yaml:14: outputs[1].id: bad output id '****'"));
  EXPECT_THAT(what, HasSubstr("coscon.yaml:16: outputs[1].tls_verify: bool expected (true or false), got '****'"));
  expectNoKey(what);
}

TEST(ConfigSecretsTest, KeyOnlyInTheWrongFieldIsStillMasked) {
  // BILI_KEY feeds no `key:` field at all; being an env value is enough to be treated as secret.
  const auto yaml = withReplaced("    venue: chengdu\n", "    venue: ${BILI_KEY}\n");
  const std::string what = whatOf(yaml, fakeEnv({{"BILI_KEY", kBiliKey.substr(1)}, {"BILI_CHENGDU_KEY", "x-y-z-w-v"}}));
  EXPECT_THAT(what, HasSubstr("unknown venue '****'"));
  expectNoKey(what);
}

TEST(ConfigSecretsTest, EveryErrorKindWithAKeyPresentLeaksNothing) {
  auto yaml = withReplaced("  - id: dalian\n", "  - id: Dalian\n    extra: 1\n");
  yaml = withReplaced("    url: rtmp://127.0.0.1:1936/forum/dalian\n",
                      "    url: rtmps://127.0.0.1:99999/forum/" + kBiliKey +
                          "\n    key: ${BILI_CHENGDU_KEY}\n    ca_file: /no/such.pem\n",
                      yaml);
  const std::string what = whatOf(yaml, fakeEnv({{"BILI_CHENGDU_KEY", kBiliKey}}));
  EXPECT_GE(std::count(what.begin(), what.end(), '\n'), 3);
  expectNoKey(what);
}

TEST(ConfigSecretsTest, AddConfigSecretsMasksKeysAndStreamNamesButNotIds) {
  Config config;
  config.venues.push_back({"chengdu", "成都分会场", "rtmp://127.0.0.1:1935/venue/chengdu", 2});
  config.venues.push_back({"wuxi", "wuxi", "rtmp://127.0.0.1:1935/venue/wuxi-main?token=t0ken1234", 5});
  config.outputs.push_back({"bilibili-chengdu", "chengdu", "rtmp://live-push.bilivideo.com/live-bvc/", kBiliKey});
  config.outputs.push_back({"forum-chengdu", "chengdu", "rtmp://127.0.0.1:1936/forum", "chengdu"});
  config.outputs.push_back({"yt", "wuxi", "rtmp://admin:hunter22@a.rtmp.youtube.com/live2/abcd-efgh-ijkl", ""});
  SecretScrubber scrubber;
  addConfigSecrets(scrubber, config);
  const std::string out = scrubber.scrub("venue chengdu -> forum-chengdu, bilibili-chengdu " + kBiliKey +
                                         "; wuxi-main t0ken1234 abcd-efgh-ijkl hunter22 admin:hunter22");
  EXPECT_EQ(out, "venue chengdu -> forum-chengdu, bilibili-chengdu ****; **** **** **** **** ****");
}

}  // namespace
}  // namespace venuecast::config
