// The command-line contract from the README: run/check/--help/--version/--log-level and their exit codes.
#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <string>

#include "support/child_process.h"
#include "support/temp_dir.h"
#include "support/venuecast_process.h"

namespace venuecast::testing {
namespace {

using namespace std::chrono_literals;

struct CliResult {
  int exitCode = -1;
  std::string output;  // stdout + stderr
};

CliResult runCli(std::vector<std::string> args, std::vector<std::pair<std::string, std::string>> env = {}) {
  TempDir dir("venuecast-cli");
  ChildProcess::Options o;
  o.argv = {VenuecastProcess::binary().string()};
  o.argv.insert(o.argv.end(), args.begin(), args.end());
  o.env = std::move(env);
  o.logFile = dir.file("out.log");
  ChildProcess p(o);
  const auto status = p.waitExit(10s);
  EXPECT_TRUE(status) << "venuecast did not exit: " << p.commandLine();
  CliResult r;
  if (status) r.exitCode = status->exitCode;
  r.output = p.logText();
  return r;
}

std::string exampleConfig() { return std::string(VENUECAST_SOURCE_DIR) + "/config/examples/coscon21.yaml"; }

std::vector<std::pair<std::string, std::string>> bilibiliKeys() {
  std::vector<std::pair<std::string, std::string>> env;
  for (const char* city : {"SHANGHAI", "SHENZHEN", "CHENGDU", "ZHUHAI", "DALIAN", "WUXI", "FUZHOU"}) {
    env.emplace_back(std::string("BILI_") + city + "_KEY",
                     std::string("?streamname=live_9_") + city + "&key=feedc0ffee" + city + "&schedule=rtmp&pflag=1");
  }
  return env;
}

TEST(Cli, VersionAndHelpExitZero) {
  const auto version = runCli({"--version"});
  EXPECT_EQ(version.exitCode, 0);
  EXPECT_TRUE(std::regex_search(version.output, std::regex(R"(^venuecast \d+\.\d+\.\d+)"))) << version.output;
  const auto help = runCli({"--help"});
  EXPECT_EQ(help.exitCode, 0);
  for (const char* word : {"run FILE", "check FILE", "--log-level", "--version"}) {
    EXPECT_NE(help.output.find(word), std::string::npos) << word << " missing from --help:\n" << help.output;
  }
}

TEST(Cli, UsageErrorsExitTwo) {
  EXPECT_EQ(runCli({}).exitCode, 2);
  EXPECT_EQ(runCli({"serve", "x.yaml"}).exitCode, 2);
  EXPECT_EQ(runCli({"run"}).exitCode, 2);
  const auto badLevel = runCli({"--log-level", "loud", "check", exampleConfig()});
  EXPECT_EQ(badLevel.exitCode, 2);
  EXPECT_NE(badLevel.output.find("loud"), std::string::npos);
}

TEST(Cli, CheckPrintsTheCoscon21PlanWithKeysMasked) {
  const auto r = runCli({"check", exampleConfig()}, bilibiliKeys());
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_NE(r.output.find("7 venues, 14 outputs"), std::string::npos) << r.output;
  for (const char* city : {"shanghai", "shenzhen", "chengdu", "zhuhai", "dalian", "wuxi", "fuzhou"}) {
    EXPECT_NE(r.output.find(std::string("venue ") + city), std::string::npos) << city << "\n" << r.output;
  }
  EXPECT_NE(r.output.find("live-bvc/****"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("feedc0ffee"), std::string::npos) << "a key leaked:\n" << r.output;
  EXPECT_EQ(r.output.find("live_9_"), std::string::npos) << "a stream name leaked:\n" << r.output;
}

TEST(Cli, CheckAndRunRefuseAnInvalidConfigNamingFileLineAndField) {
  TempDir dir("venuecast-cli");
  const auto path = dir.file("coscon.yaml");
  writeFile(path,
            "venues:\n"
            "  - id: chengdu\n"
            "    url: rtmp://127.0.0.1:1935/venue/chengdu\n"
            "outputs:\n"
            "  - id: bili-chengdu\n"
            "    venue: chengdo\n"
            "    url: rtmp://127.0.0.1:1936/live-bvc/\n"
            "    key: \"?streamname=live_1_2&key=deadbeefcafe&schedule=rtmp&pflag=1\"\n"
            "  - id: bili-chengdu\n"
            "    venue: chengdu\n"
            "    url: http://127.0.0.1/live\n");
  for (const char* command : {"check", "run"}) {
    const auto r = runCli({command, path.string()});
    EXPECT_EQ(r.exitCode, 1) << command << "\n" << r.output;
    EXPECT_NE(r.output.find("coscon.yaml:6: outputs[0].venue: unknown venue 'chengdo'"), std::string::npos)
        << command << "\n" << r.output;
    EXPECT_TRUE(std::regex_search(r.output, std::regex(R"(coscon\.yaml:9: outputs\[1\]\.id: duplicate)")))
        << command << "\n" << r.output;
    EXPECT_TRUE(std::regex_search(r.output, std::regex(R"(coscon\.yaml:11: outputs\[1\]\.url: .*scheme)")))
        << command << "\n" << r.output;
    EXPECT_EQ(r.output.find("deadbeefcafe"), std::string::npos) << r.output;
  }
  const auto missing = runCli({"check", dir.file("nope.yaml").string()});
  EXPECT_EQ(missing.exitCode, 1);
  EXPECT_NE(missing.output.find("nope.yaml"), std::string::npos) << missing.output;
}

}  // namespace
}  // namespace venuecast::testing
