// parseConfig/loadConfig: reading, YAML shape errors, files, ${VAR}, collecting all errors.
#include "config/config_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "tests/unit/config/config_test_util.h"

namespace venuecast::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace venuecast::config::testing;

TEST(ConfigLoaderTest, ReadsValidConfigWithDefaults) {
  const Config config = parseConfig(kValidYaml, "coscon.yaml", validEnv());
  EXPECT_EQ(config.file, "coscon.yaml");
  ASSERT_EQ(config.venues.size(), 2u);
  EXPECT_EQ(config.venues[0].id, "chengdu");
  EXPECT_EQ(config.venues[0].name, "成都分会场");  // UTF-8 kept byte for byte
  EXPECT_EQ(config.venues[0].url, "rtmp://127.0.0.1:1935/venue/chengdu");
  EXPECT_EQ(config.venues[0].line, 2);
  EXPECT_EQ(config.venues[1].name, "dalian");  // defaults to the id
  EXPECT_EQ(config.venues[1].line, 6);
  ASSERT_EQ(config.outputs.size(), 2u);
  const OutputConfig& bili = config.outputs[0];
  EXPECT_EQ(bili.id, "bilibili-chengdu");
  EXPECT_EQ(bili.venue, "chengdu");
  EXPECT_EQ(bili.url, "rtmp://live-push.bilivideo.com/live-bvc/");
  EXPECT_EQ(bili.key, kBiliKey);  // expanded from env, verbatim
  EXPECT_TRUE(bili.tlsVerify);
  EXPECT_EQ(bili.caFile, "");
  EXPECT_EQ(bili.line, 9);
  EXPECT_EQ(config.outputs[1].key, "");
}

TEST(ConfigLoaderTest, ExpandsVariablesInAnyStringAndKeepsDollarOtherwise) {
  const std::string yaml =
      "venues:\n"
      "  - id: v-${CITY}\n"
      "    name: ${CITY} 分会场 costs $5\n"
      "    url: rtmp://${HOST}:1935/venue/${CITY}\n";
  const Config config = parseConfig(yaml, "x.yaml", fakeEnv({{"CITY", "wuxi"}, {"HOST", "10.0.0.7"}}));
  EXPECT_EQ(config.venues[0].id, "v-wuxi");
  EXPECT_EQ(config.venues[0].name, "wuxi 分会场 costs $5");
  EXPECT_EQ(config.venues[0].url, "rtmp://10.0.0.7:1935/venue/wuxi");
}

TEST(ConfigLoaderTest, UnsetVariableIsNamed) {
  const auto errors = errorsOf(kValidYaml);
  EXPECT_THAT(linesOf(errors),
              ElementsAre("coscon.yaml:13: outputs[0].key: environment variable BILI_CHENGDU_KEY is not set"));
}

TEST(ConfigLoaderTest, BadVariableReferences) {
  const auto errors = errorsOf(withReplaced("${BILI_CHENGDU_KEY}", "${BILI-KEY}x${OPEN"));
  EXPECT_THAT(
      linesOf(errors),
      ElementsAre(
          "coscon.yaml:13: outputs[0].key: bad environment variable reference (names are [A-Za-z_][A-Za-z0-9_]*)",
          "coscon.yaml:13: outputs[0].key: unterminated '${' (missing '}')"));
}

TEST(ConfigLoaderTest, YamlSyntaxErrorHasLine) {
  const auto errors = errorsOf(withReplaced("    venue: dalian\n", "    venue: [dalian\n"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].file, "coscon.yaml");
  EXPECT_GE(errors[0].line, 15);
  EXPECT_THAT(errors[0].message, HasSubstr("YAML syntax error"));
  const auto tab = errorsOf("venues:\n  - id: a\n\turl: x\n");
  ASSERT_EQ(tab.size(), 1u);
  EXPECT_EQ(tab[0].line, 3);
}

TEST(ConfigLoaderTest, TopLevelMustBeAMap) {
  EXPECT_THAT(linesOf(errorsOf("- id: a\n")),
              ElementsAre("coscon.yaml:1: top level must be a map with 'venues' and 'outputs', got a list"));
  EXPECT_THAT(linesOf(errorsOf("# nothing yet\n")),
              ElementsAre("coscon.yaml: file is empty (expected 'venues:' and 'outputs:')"));
}

TEST(ConfigLoaderTest, UnknownTopLevelKeyAndMissingVenues) {
  EXPECT_THAT(linesOf(errorsOf("# c\noutput:\n  - id: a\n")),
              ElementsAre("coscon.yaml:2: output: unknown top-level key 'output' (allowed: server, venues, outputs)",
                          "coscon.yaml:2: venues: required top-level key is missing"));
}

TEST(ConfigLoaderTest, NoVenues) {
  EXPECT_THAT(linesOf(errorsOf("venues: []\noutputs: []\n")),
              ElementsAre("coscon.yaml:1: venues: no venues defined (at least one is required)"));
  EXPECT_THAT(linesOf(errorsOf("venues:\n")),
              ElementsAre("coscon.yaml:1: venues: no venues defined (at least one is required)"));
}

TEST(ConfigLoaderTest, VenueWithoutOutputsAndNoOutputsSectionAreFine) {
  const Config config = parseConfig("venues:\n  - id: wuxi\n    url: rtmp://h/venue/wuxi\n", "x.yaml", fakeEnv());
  EXPECT_EQ(config.venues.size(), 1u);
  EXPECT_TRUE(config.outputs.empty());
}

TEST(ConfigLoaderTest, UnknownFieldsListAllowedOnes) {
  auto yaml = withReplaced("    name: 成都分会场\n", "    title: 成都分会场\n");
  yaml = withReplaced("    key: ${BILI_CHENGDU_KEY}\n", "    key: ${BILI_CHENGDU_KEY}\n    tls_verfy: false\n", yaml);
  EXPECT_THAT(linesOf(errorsOf(yaml, validEnv())),
              ElementsAre("coscon.yaml:3: venues[0].title: unknown field 'title' (allowed: id, name, url, push_key, backup, failover_after, failback_after, slate)",
                          "coscon.yaml:14: outputs[0].tls_verfy: unknown field 'tls_verfy' (allowed: id, venue, url, "
                          "key, tls_verify, ca_file)"));
}

TEST(ConfigLoaderTest, MissingRequiredFieldsPointAtTheEntry) {
  auto yaml = withReplaced("    url: rtmp://127.0.0.1:1935/venue/dalian\n", "");
  yaml = withReplaced("    venue: chengdu\n", "", yaml);
  EXPECT_THAT(linesOf(errorsOf(yaml, validEnv())),
              ElementsAre("coscon.yaml:6: venues[1].url: required field is missing (or push_key: for a venue whose encoder publishes to venuecast)",
                          "coscon.yaml:8: outputs[0].venue: required field is missing"));
  EXPECT_THAT(linesOf(errorsOf("venues:\n  - name: x\n")),
              ElementsAre("coscon.yaml:2: venues[0].id: required field is missing",
                          "coscon.yaml:2: venues[0].url: required field is missing (or push_key: for a venue whose encoder publishes to venuecast)"));
}

TEST(ConfigLoaderTest, WrongTypes) {
  EXPECT_THAT(linesOf(errorsOf("venues:\n  id: a\n")), ElementsAre("coscon.yaml:2: venues: list expected, got a map"));
  EXPECT_THAT(linesOf(errorsOf("venues:\n  - chengdu\n")),
              ElementsAre("coscon.yaml:2: venues[0]: map expected (fields: id, name, url, push_key, backup, failover_after, failback_after, slate), got a single value"));
  // Also: no "unknown venue 'dalian'" for outputs[1], since venue ids are not all known.
  EXPECT_THAT(linesOf(errorsOf(withReplaced("  - id: dalian\n", "  - id: [dalian]\n"))),
              ElementsAre("coscon.yaml:6: venues[1].id: scalar expected, got a list",
                          "coscon.yaml:13: outputs[0].key: environment variable BILI_CHENGDU_KEY is not set"));
  EXPECT_THAT(linesOf(errorsOf(withReplaced("    url: rtmp://127.0.0.1:1936/forum/dalian\n",
                                            "    url: rtmp://127.0.0.1:1936/forum/dalian\n    tls_verify: yes\n"),
                               validEnv())),
              ElementsAre("coscon.yaml:17: outputs[1].tls_verify: bool expected (true or false), got 'yes'"));
  EXPECT_THAT(linesOf(errorsOf(withReplaced("    name: 成都分会场\n", "    name:\n"))),
              ElementsAre("coscon.yaml:3: venues[0].name: value is empty",
                          "coscon.yaml:13: outputs[0].key: environment variable BILI_CHENGDU_KEY is not set"));
}

TEST(ConfigLoaderTest, DuplicateFieldInOneEntry) {
  const auto yaml = withReplaced("    venue: dalian\n", "    venue: dalian\n    venue: chengdu\n");
  EXPECT_THAT(linesOf(errorsOf(yaml, validEnv())),
              ElementsAre("coscon.yaml:16: outputs[1].venue: duplicate field (first at line 15)"));
}

TEST(ConfigLoaderTest, CollectsAllErrorsSortedByLine) {
  auto yaml = withReplaced("  - id: dalian\n", "  - id: Dalian\n");
  yaml = withReplaced("    venue: chengdu\n", "    venue: chengdo\n", yaml);
  yaml =
      withReplaced("    url: rtmp://127.0.0.1:1936/forum/dalian\n", "    url: http://127.0.0.1/forum/dalian\n", yaml);
  yaml = withReplaced("  - id: chengdu\n", "  - id: chengdu\n    colour: red\n", yaml);
  try {
    parseConfig(yaml, "coscon.yaml", fakeEnv());
    FAIL() << "expected ConfigErrors";
  } catch (const ConfigErrors& e) {
    ASSERT_EQ(e.errors().size(), 6u);
    EXPECT_STREQ(e.what(),
                 "coscon.yaml:3: venues[0].colour: unknown field 'colour' (allowed: id, name, url, push_key, backup, failover_after, failback_after, slate)\n"
                 "coscon.yaml:7: venues[1].id: bad venue id 'Dalian' (use lowercase letters, digits and '-')\n"
                 "coscon.yaml:12: outputs[0].venue: unknown venue 'chengdo' (known: Dalian, chengdu)\n"
                 "coscon.yaml:14: outputs[0].key: environment variable BILI_CHENGDU_KEY is not set\n"
                 // masked: "dalian" is also the stream name (= key) in outputs[1].url, and not a valid id
                 "coscon.yaml:16: outputs[1].venue: unknown venue '****' (known: Dalian, chengdu)\n"
                 "coscon.yaml:17: outputs[1].url: unsupported scheme 'http' (supported: rtmp, rtmps) in "
                 "'http://127.0.0.1/forum/****'");
  }
}

TEST(ConfigLoaderTest, ErrorToStringOmitsMissingParts) {
  EXPECT_EQ((ConfigError{"a.yaml", 3, "venues[0].id", "bad"}).toString(), "a.yaml:3: venues[0].id: bad");
  EXPECT_EQ((ConfigError{"a.yaml", 0, "", "cannot read file: x"}).toString(), "a.yaml: cannot read file: x");
  EXPECT_EQ((ConfigError{"a.yaml", 7, "", "YAML syntax error: y"}).toString(), "a.yaml:7: YAML syntax error: y");
  const ConfigErrors errors({{"a", 1, "f", "m1"}, {"a", 2, "", "m2"}});
  EXPECT_STREQ(errors.what(), "a:1: f: m1\na:2: m2");
  EXPECT_EQ(errors.errors().size(), 2u);
}

class ConfigFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("venuecast-config-test-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    const auto path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }
  std::filesystem::path dir_;
};

TEST_F(ConfigFileTest, MissingFile) {
  const std::string path = (dir_ / "coscon.yaml").string();
  try {
    loadConfig(path);
    FAIL() << "expected ConfigErrors";
  } catch (const ConfigErrors& e) {
    EXPECT_EQ(std::string(e.what()), path + ": cannot read file: No such file or directory");
    ASSERT_EQ(e.errors().size(), 1u);
    EXPECT_EQ(e.errors()[0].line, 0);
  }
}

TEST_F(ConfigFileTest, DirectoryIsNotAFile) {
  EXPECT_THROW(
      {
        try {
          loadConfig(dir_.string());
        } catch (const ConfigErrors& e) {
          EXPECT_EQ(std::string(e.what()), dir_.string() + ": cannot read file: Is a directory");
          throw;
        }
      },
      ConfigErrors);
}

TEST_F(ConfigFileTest, LoadsFileAndUsesProcessEnvironment) {
  ::setenv("VENUECAST_TEST_BILI_KEY", kBiliKey.c_str(), 1);
  const auto path = write("c.yaml", withReplaced("${BILI_CHENGDU_KEY}", "${VENUECAST_TEST_BILI_KEY}"));
  const Config config = loadConfig(path);
  ::unsetenv("VENUECAST_TEST_BILI_KEY");
  EXPECT_EQ(config.file, path);
  EXPECT_EQ(config.outputs[0].key, kBiliKey);
}

}  // namespace
}  // namespace venuecast::config
