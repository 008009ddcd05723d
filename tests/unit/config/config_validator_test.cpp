// Meaning checks run by parseConfig: ids, duplicates, venue references, URLs, keys, TLS options.
#include "config/config_validator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/unit/config/config_test_util.h"

namespace venuecast::config {
namespace {

using ::testing::ElementsAre;
using namespace venuecast::config::testing;

// All error lines for `yaml` (with the Bilibili key in the env); empty if it parses.
std::vector<std::string> errorLines(const std::string& yaml) {
  try {
    parseConfig(yaml, "coscon.yaml", validEnv());
  } catch (const ConfigErrors& e) {
    return linesOf(e.errors());
  }
  return {};
}

// kValidYaml with output 1 (forum-dalian, lines 14-16) given extra lines after its url.
std::string withForumExtra(const std::string& url, const std::string& extra) {
  return withReplaced("    url: rtmp://127.0.0.1:1936/forum/dalian\n", "    url: " + url + "\n" + extra);
}

TEST(ConfigValidatorTest, BadIds) {
  // 'dalian' is masked in the second message: it is the stream name in forum-dalian's push URL
  // (= its stream key), and only well-formed ids are exempt from masking.
  EXPECT_THAT(errorLines(withReplaced("  - id: dalian\n", "  - id: da_lian\n")),
              ElementsAre("coscon.yaml:6: venues[1].id: bad venue id 'da_lian' (use lowercase letters, digits and '-')",
                          "coscon.yaml:15: outputs[1].venue: unknown venue '****' (known: chengdu, da_lian)"));
  EXPECT_THAT(
      errorLines(withReplaced("  - id: forum-dalian\n", "  - id: Forum.Dalian\n")),
      ElementsAre(
          "coscon.yaml:14: outputs[1].id: bad output id 'Forum.Dalian' (use lowercase letters, digits, '-' and '_')"));
  EXPECT_THAT(errorLines(withReplaced("  - id: forum-dalian\n", "  - id: forum_dalian-2\n")), ElementsAre());
  EXPECT_THAT(
      errorLines(withReplaced("  - id: forum-dalian\n", "  - id: \"\"\n")),
      ElementsAre("coscon.yaml:14: outputs[1].id: bad output id '' (use lowercase letters, digits, '-' and '_')"));
}

TEST(ConfigValidatorTest, DuplicateIdsNameTheFirstLine) {
  auto yaml = withReplaced("  - id: dalian\n", "  - id: chengdu\n");
  yaml = withReplaced("    venue: dalian\n", "    venue: chengdu\n", yaml);
  yaml = withReplaced("  - id: forum-dalian\n", "  - id: bilibili-chengdu\n", yaml);
  EXPECT_THAT(
      errorLines(yaml),
      ElementsAre("coscon.yaml:6: venues[1].id: duplicate venue id 'chengdu' (first defined at line 2)",
                  "coscon.yaml:14: outputs[1].id: duplicate output id 'bilibili-chengdu' (first defined at line 9)"));
}

TEST(ConfigValidatorTest, UnknownVenueListsKnownIdsSorted) {
  const std::string yaml =
      "venues:\n"
      "  - {id: wuxi, url: rtmp://h/venue/wuxi}\n"
      "  - {id: chengdu, url: rtmp://h/venue/chengdu}\n"
      "  - {id: dalian, url: rtmp://h/venue/dalian}\n"
      "outputs:\n"
      "  - id: a\n"
      "    venue: chengdo\n"
      "    url: rtmp://h/live/a\n";
  EXPECT_THAT(errorLines(yaml),
              ElementsAre("coscon.yaml:7: outputs[0].venue: unknown venue 'chengdo' (known: chengdu, dalian, wuxi)"));
}

TEST(ConfigValidatorTest, NoReferenceErrorsWhenVenuesThemselvesAreBroken) {
  EXPECT_THAT(errorLines("venues: chengdu\noutputs:\n  - {id: a, venue: chengdu, url: rtmp://h/live/a}\n"),
              ElementsAre("coscon.yaml:1: venues: list expected, got a single value"));
}

TEST(ConfigValidatorTest, BadUrls) {
  const auto venueUrl = [](const std::string& url) {
    return errorLines(withReplaced("rtmp://127.0.0.1:1935/venue/dalian", url));
  };
  EXPECT_THAT(venueUrl("127.0.0.1/venue/dalian"),
              ElementsAre("coscon.yaml:7: venues[1].url: not a URL (expected rtmp://host[:port]/app/...)"));
  EXPECT_THAT(venueUrl("srt://127.0.0.1:9000/venue/dalian"),
              ElementsAre("coscon.yaml:7: venues[1].url: an srt:// URL has no path (srt://host:port?options) in "
                          "'srt://127.0.0.1:9000/venue/****'"));
  EXPECT_THAT(venueUrl("rtmp:///venue/dalian"),
              ElementsAre("coscon.yaml:7: venues[1].url: URL has no host in 'rtmp:///venue/****'"));
  EXPECT_THAT(
      venueUrl("rtmp://127.0.0.1:99999/venue/dalian"),
      ElementsAre(
          "coscon.yaml:7: venues[1].url: bad port '99999' (expected 1-65535) in 'rtmp://127.0.0.1:99999/venue/****'"));
  EXPECT_THAT(
      venueUrl("rtmp://127.0.0.1:port/venue/dalian"),
      ElementsAre(
          "coscon.yaml:7: venues[1].url: bad port 'port' (expected 1-65535) in 'rtmp://127.0.0.1:port/venue/****'"));
  EXPECT_THAT(venueUrl("rtmp://127.0.0.1:1935/venue"),
              ElementsAre("coscon.yaml:7: venues[1].url: URL names no stream (expected rtmp://host[:port]/app/stream, "
                          "or set 'key') in 'rtmp://127.0.0.1:1935/venue'"));
  EXPECT_THAT(venueUrl("rtmp://127.0.0.1:1935"), ElementsAre("coscon.yaml:7: venues[1].url: URL has no app (expected "
                                                             "rtmp://host[:port]/app/...) in 'rtmp://127.0.0.1:1935'"));
  EXPECT_THAT(venueUrl("rtmp://user:pa55word@127.0.0.1/venue/dalian"),
              ElementsAre("coscon.yaml:7: venues[1].url: credentials in the URL (user:password@) are not supported in "
                          "'rtmp://****@127.0.0.1/venue/****'"));
  EXPECT_THAT(venueUrl("\"rtmp://127.0.0.1/venue/da lian\""),
              ElementsAre("coscon.yaml:7: venues[1].url: URL contains whitespace or control characters in "
                          "'rtmp://127.0.0.1/venue/****'"));
}

TEST(ConfigValidatorTest, KeyedServerUrlNeedsAnAppButNoStream) {
  EXPECT_THAT(errorLines(withReplaced("rtmp://live-push.bilivideo.com/live-bvc/", "rtmp://live-push.bilivideo.com/")),
              ElementsAre("coscon.yaml:12: outputs[0].url: URL has no app (expected rtmp://host[:port]/app/...) in "
                          "'rtmp://live-push.bilivideo.com/'"));
  EXPECT_THAT(
      errorLines(withReplaced("rtmp://live-push.bilivideo.com/live-bvc/", "rtmp://live-push.bilivideo.com/live-bvc")),
      ElementsAre());
  EXPECT_THAT(errorLines(withReplaced("rtmp://127.0.0.1:1936/forum/dalian", "rtmp://127.0.0.1:1936/forum/")),
              ElementsAre("coscon.yaml:16: outputs[1].url: URL names no stream (expected "
                          "rtmp://host[:port]/app/stream, or set 'key') in 'rtmp://127.0.0.1:1936/forum/'"));
}

TEST(ConfigValidatorTest, EmptyOrDirtyKeysAreRejectedWithoutShowingThem) {
  EXPECT_THAT(
      linesOf(errorsOf(kValidYaml, fakeEnv({{"BILI_CHENGDU_KEY", ""}}))),
      ElementsAre(
          "coscon.yaml:13: outputs[0].key: stream key is empty (leave 'key' out if the URL already names the stream)"));
  EXPECT_THAT(linesOf(errorsOf(kValidYaml, fakeEnv({{"BILI_CHENGDU_KEY", kBiliKey + "\n"}}))),
              ElementsAre("coscon.yaml:13: outputs[0].key: stream key contains whitespace or control characters"));
}

TEST(ConfigValidatorTest, TlsOptionsOnPlainRtmpAreErrors) {
  EXPECT_THAT(
      errorLines(withForumExtra("rtmp://127.0.0.1:1936/forum/dalian", "    tls_verify: false\n")),
      ElementsAre(
          "coscon.yaml:17: outputs[1].tls_verify: tls_verify only applies to rtmps:// outputs, but url is rtmp://"));
  EXPECT_THAT(
      errorLines(withForumExtra("rtmp://127.0.0.1:1936/forum/dalian",
                                "    tls_verify: true\n    ca_file: /etc/ssl/certs/ca-certificates.crt\n")),
      ElementsAre(
          "coscon.yaml:17: outputs[1].tls_verify: tls_verify only applies to rtmps:// outputs, but url is rtmp://",
          "coscon.yaml:18: outputs[1].ca_file: ca_file only applies to rtmps:// outputs, but url is rtmp://"));
}

TEST(ConfigValidatorTest, TlsOptionsOnRtmps) {
  const std::string url = "rtmps://127.0.0.1:1937/forum/dalian";
  EXPECT_THAT(errorLines(withForumExtra(url, "    tls_verify: false\n")), ElementsAre());
  EXPECT_THAT(
      errorLines(withForumExtra(url, "    ca_file: /nonexistent/ca.pem\n")),
      ElementsAre(
          "coscon.yaml:17: outputs[1].ca_file: cannot read CA file '/nonexistent/ca.pem': No such file or directory"));
  EXPECT_THAT(
      errorLines(withForumExtra(url, "    tls_verify: false\n    ca_file: /nonexistent/ca.pem\n")),
      ElementsAre(
          "coscon.yaml:18: outputs[1].ca_file: ca_file is set but tls_verify is false, so it would be ignored"));
}

TEST(ConfigValidatorTest, RelativeCaFileIsRelativeToTheConfigFile) {
  const auto dir = std::filesystem::temp_directory_path() / ("venuecast-ca-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "tls");
  std::ofstream(dir / "tls" / "ca.pem") << "-----BEGIN CERTIFICATE-----\n";
  const auto yaml = withForumExtra("rtmps://127.0.0.1:1937/forum/dalian", "    ca_file: tls/ca.pem\n");
  const Config config = parseConfig(yaml, (dir / "coscon.yaml").string(), validEnv());
  EXPECT_EQ(config.outputs[1].caFile, (dir / "tls" / "ca.pem").string());
  EXPECT_TRUE(config.outputs[1].tlsVerify);
  std::filesystem::remove_all(dir);
}

TEST(ConfigValidatorTest, TwoOutputsPushingToTheSameStream) {
  auto yaml = withReplaced("rtmp://127.0.0.1:1936/forum/dalian", "rtmp://live-push.bilivideo.com/live-bvc/");
  yaml = withReplaced("    venue: dalian\n", "    venue: dalian\n    key: ${BILI_CHENGDU_KEY}\n", yaml);
  EXPECT_THAT(errorLines(yaml),
              ElementsAre("coscon.yaml:17: outputs[1].url: pushes to the same stream as outputs[0] (line 12)"));
}

TEST(ConfigValidatorTest, InvalidUtf8NameIsRejected) {
  EXPECT_THAT(errorLines(withReplaced("成都分会场", "caf\xE9")),  // Latin-1 byte, not UTF-8
              ElementsAre("coscon.yaml:3: venues[0].name: name must be valid UTF-8 without control characters"));
  EXPECT_THAT(errorLines(withReplaced("成都分会场", "\"a\\tb\"")),  // YAML escape -> TAB
              ElementsAre("coscon.yaml:3: venues[0].name: name must be valid UTF-8 without control characters"));
  EXPECT_THAT(errorLines(withReplaced("成都分会场", "\"\"")),
              ElementsAre("coscon.yaml:3: venues[0].name: name is empty (leave it out to use the id)"));
  EXPECT_THAT(errorLines(withReplaced("成都分会场", "Café 成都 🎥")), ElementsAre());
}

}  // namespace
}  // namespace venuecast::config
