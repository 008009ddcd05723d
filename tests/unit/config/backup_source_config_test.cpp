// What a venue falls back to: venues[].backup, failover_after, failback_after, slate.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

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

const std::string kYaml =
    "server:\n"
    "  rtmp_listen: 127.0.0.1:1935\n"
    "venues:\n"
    "  - id: shanghai\n"
    "    url: rtmp://127.0.0.1:1936/venue/shanghai\n"
    "    backup:\n"
    "      push_key: spare-encoder-key\n"
    "    failover_after: 1.5\n"
    "    failback_after: 20\n";

std::string with(const std::string& from, const std::string& to) { return withReplaced(from, to, kYaml); }
std::vector<std::string> errorLines(const std::string& yaml) { return linesOf(errorsOf(yaml)); }

TEST(BackupSourceConfig, LoadsAndThePlanShowsTheBackupWithoutItsKey) {
  const Config c = parseConfig(kYaml, "coscon.yaml", fakeEnv());
  ASSERT_EQ(c.venues.size(), 1u);
  EXPECT_TRUE(c.venues[0].backup.present());
  EXPECT_EQ(c.venues[0].backup.pushKey, "spare-encoder-key");
  EXPECT_DOUBLE_EQ(c.venues[0].failoverAfterS, 1.5);
  EXPECT_DOUBLE_EQ(c.venues[0].failbackAfterS, 20);
  const std::string plan = describePlan(c);
  EXPECT_THAT(plan, HasSubstr("backup published with stream key shanghai?key=**** (after 1.5 s without the primary; "
                              "back after 20 s of it)"));
  EXPECT_THAT(plan, Not(HasSubstr("spare-encoder-key")));
  SecretScrubber scrubber;
  addConfigSecrets(scrubber, c);
  EXPECT_EQ(scrubber.scrub("key=spare-encoder-key"), "key=****");
}

TEST(BackupSourceConfig, DefaultsAreTwoAndTenSeconds) {
  const Config c = parseConfig(with("    failover_after: 1.5\n    failback_after: 20\n", ""), "coscon.yaml", fakeEnv());
  EXPECT_DOUBLE_EQ(c.venues[0].failoverAfterS, 2);
  EXPECT_DOUBLE_EQ(c.venues[0].failbackAfterS, 10);
}

TEST(BackupSourceConfig, MistakesNameFileLineAndField) {
  EXPECT_THAT(errorLines(with("      push_key: spare-encoder-key\n",
                              "      push_key: spare-encoder-key\n      url: rtmp://127.0.0.1:1937/venue/x\n")),
              ElementsAre("coscon.yaml:7: venues[0].backup.push_key: a backup is either pulled (url) or publishes "
                          "to venuecast (push_key), not both"));
  EXPECT_THAT(errorLines(with("      push_key: spare-encoder-key\n", "      url: rtmp://127.0.0.1:1936/venue/shanghai\n")),
              ElementsAre("coscon.yaml:7: venues[0].backup.url: the backup is the same source as the primary"));
  EXPECT_THAT(errorLines(with("    failover_after: 1.5\n", "    failover_after: soon\n")),
              ElementsAre("coscon.yaml:8: venues[0].failover_after: seconds expected (0.5 to 60), got 'soon'"));
  // Without a backup, failover_after is when the standby slate comes; failback_after means nothing.
  EXPECT_THAT(errorLines(with("    backup:\n      push_key: spare-encoder-key\n", "")),
              ElementsAre("coscon.yaml:7: venues[0].failback_after: failback_after applies to a venue with a backup"));
  EXPECT_THAT(errorLines(with("    backup:\n      push_key: spare-encoder-key\n", "    slate: off\n")),
              ElementsAre("coscon.yaml:7: venues[0].failover_after: failover_after applies to a venue with a backup or a "
                          "standby slate",
                          "coscon.yaml:8: venues[0].failback_after: failback_after applies to a venue with a backup"));
  const std::string pushPrimary = with("    url: rtmp://127.0.0.1:1936/venue/shanghai\n", "    push_key: spare-encoder-key\n");
  EXPECT_THAT(errorLines(pushPrimary),
              ElementsAre("coscon.yaml:7: venues[0].backup.push_key: the backup's push_key must differ from the "
                          "primary's"));
}

TEST(StandbySlateConfig, RenderedByDefaultOffOrTheOperatorsFileRelativeToTheConfig) {
  const Config rendered = parseConfig(kYaml, "coscon.yaml", fakeEnv());
  EXPECT_TRUE(rendered.venues[0].standby);
  EXPECT_EQ(rendered.venues[0].slateFile, "");
  const Config off = parseConfig(with("    failover_after: 1.5\n", "    failover_after: 1.5\n    slate: off\n"),
                                 "coscon.yaml", fakeEnv());
  EXPECT_FALSE(off.venues[0].standby);
  EXPECT_THAT(describePlan(off), HasSubstr("no standby slate"));
  // A file next to the config: found wherever venuecast was started from.
  const std::string dir = ::testing::TempDir() + "slate-config";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/back-soon.mp4") << "not checked here";
  const Config file = parseConfig(with("    failover_after: 1.5\n", "    failover_after: 1.5\n    slate: back-soon.mp4\n"),
                                  dir + "/coscon.yaml", fakeEnv());
  EXPECT_TRUE(file.venues[0].standby);
  EXPECT_EQ(file.venues[0].slateFile, dir + "/back-soon.mp4");
  EXPECT_THAT(describePlan(file), HasSubstr("standby slate " + dir + "/back-soon.mp4 after 1.5 s with nothing live"));
}

TEST(StandbySlateConfig, AMissingFileNamesLineAndField) {
  EXPECT_THAT(errorLines(with("    failover_after: 1.5\n", "    slate: /nonexistent/back-soon.mp4\n")),
              ElementsAre("coscon.yaml:8: venues[0].slate: slate file '/nonexistent/back-soon.mp4' does not exist (or is "
                          "not a file); use off for no slate"));
  EXPECT_THAT(errorLines(with("    failover_after: 1.5\n", "    slate: \"\"\n")),
              ElementsAre("coscon.yaml:8: venues[0].slate: slate is empty (leave it out for the rendered card, or off "
                          "for none)"));
}

}  // namespace
}  // namespace venuecast::config
