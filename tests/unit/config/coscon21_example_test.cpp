// config/examples/coscon21.yaml is documentation; these tests keep it true.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/config_loader.h"
#include "config/plan_printer.h"
#include "tests/unit/config/config_test_util.h"

namespace venuecast::config {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace venuecast::config::testing;

const std::vector<std::string> kCities = {"shanghai", "shenzhen", "chengdu", "zhuhai", "dalian", "wuxi", "fuzhou"};

std::string examplePath() {
  return (std::filesystem::path(__FILE__).parent_path() / "../../../config/examples/coscon21.yaml")
      .lexically_normal()
      .string();
}

std::string exampleText() {
  std::ifstream in(examplePath());
  EXPECT_TRUE(in) << "cannot open " << examplePath();
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

// Each city gets its own Bilibili key, built on the real key's shape.
EnvLookup cityKeys() {
  std::map<std::string, std::string> vars;
  for (std::size_t i = 0; i < kCities.size(); ++i) {
    vars["BILI_" + upper(kCities[i]) + "_KEY"] = "?streamname=live_3461_78901" + std::to_string(i) +
                                                 "&key=0a1b2c3d4e5f60718293a4b5c6d7e8f" + std::to_string(i) +
                                                 "&schedule=rtmp&pflag=1";
  }
  return fakeEnv(vars);
}

TEST(Coscon21ExampleTest, ParsesToSevenVenuesAndFourteenOutputs) {
  const Config config = parseConfig(exampleText(), "coscon21.yaml", cityKeys());
  ASSERT_EQ(config.venues.size(), 7u);
  ASSERT_EQ(config.outputs.size(), 14u);
  for (std::size_t i = 0; i < kCities.size(); ++i) {
    const std::string& city = kCities[i];
    EXPECT_EQ(config.venues[i].id, city);
    EXPECT_EQ(config.venues[i].url, "rtmp://127.0.0.1:1935/venue/" + city);
    EXPECT_THAT(config.venues[i].name, HasSubstr("分会场"));
    const auto feeds =
        std::count_if(config.outputs.begin(), config.outputs.end(), [&](const auto& o) { return o.venue == city; });
    EXPECT_EQ(feeds, 2) << city;
  }
  EXPECT_EQ(config.venues[0].name, "上海分会场");
  EXPECT_EQ(config.venues[2].name, "成都分会场");
  const auto bili = std::find_if(config.outputs.begin(), config.outputs.end(),
                                 [](const auto& o) { return o.id == "bilibili-chengdu"; });
  ASSERT_NE(bili, config.outputs.end());
  EXPECT_EQ(bili->url, "rtmp://live-push.bilivideo.com/live-bvc/");
  EXPECT_EQ(bili->key, *cityKeys()("BILI_CHENGDU_KEY"));
  const auto forum =
      std::find_if(config.outputs.begin(), config.outputs.end(), [](const auto& o) { return o.id == "forum-chengdu"; });
  ASSERT_NE(forum, config.outputs.end());
  EXPECT_EQ(forum->url, "rtmp://127.0.0.1:1936/forum");
  EXPECT_EQ(forum->key, "chengdu");
}

TEST(Coscon21ExampleTest, WithoutEnvironmentEveryMissingKeyIsReported) {
  try {
    parseConfig(exampleText(), "coscon21.yaml", fakeEnv());
    FAIL() << "expected ConfigErrors";
  } catch (const ConfigErrors& e) {
    ASSERT_EQ(e.errors().size(), 7u) << e.what();
    for (std::size_t i = 0; i < kCities.size(); ++i) {
      const ConfigError& error = e.errors()[i];
      EXPECT_EQ(error.field, "outputs[" + std::to_string(2 * i + 1) + "].key");
      EXPECT_EQ(error.message, "environment variable BILI_" + upper(kCities[i]) + "_KEY is not set");
      EXPECT_GT(error.line, 0);
      if (i > 0) {
        EXPECT_GT(error.line, e.errors()[i - 1].line);
      }
    }
  }
}

TEST(Coscon21ExampleTest, LoadConfigReadsTheFileFromDisk) {
  const EnvLookup keys = cityKeys();
  for (const auto& city : kCities) {
    const std::string name = "BILI_" + upper(city) + "_KEY";
    ::setenv(name.c_str(), keys(name)->c_str(), 1);
  }
  const Config config = loadConfig(examplePath());
  for (const auto& city : kCities) ::unsetenv(("BILI_" + upper(city) + "_KEY").c_str());
  EXPECT_EQ(config.outputs.size(), 14u);
}

TEST(Coscon21ExampleTest, PlanShowsLayoutWithoutKeys) {
  const Config config = parseConfig(exampleText(), "coscon21.yaml", cityKeys());
  const std::string plan = describePlan(config);
  EXPECT_THAT(plan, HasSubstr("coscon21.yaml: 7 venues, 14 outputs\n"));
  EXPECT_THAT(plan, HasSubstr("venue chengdu \"成都分会场\"\n  from rtmp://127.0.0.1:1935/venue/****\n"));
  // Output ids are padded to the longest one in the file (bilibili-shanghai).
  EXPECT_THAT(plan, HasSubstr("  -> forum-chengdu      rtmp://127.0.0.1:1936/forum/****\n"
                              "  -> bilibili-chengdu   rtmp://live-push.bilivideo.com:1935/live-bvc/****\n"));
  EXPECT_THAT(plan, Not(HasSubstr("streamname")));
  EXPECT_THAT(plan, Not(HasSubstr("live_3461")));
  EXPECT_THAT(plan, Not(HasSubstr("0a1b2c3d")));
  EXPECT_THAT(plan, Not(HasSubstr("key=")));
}

}  // namespace
}  // namespace venuecast::config
