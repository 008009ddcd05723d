// ${VAR} expansion.
#include "config/env_expander.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/config/config_test_util.h"

namespace venuecast::config {
namespace {

using ::testing::ElementsAre;
using venuecast::config::testing::fakeEnv;

TEST(EnvExpanderTest, ReplacesEachReference) {
  const auto out = expandEnv("${A}-${B_2}/${A}", fakeEnv({{"A", "x"}, {"B_2", "yy"}}));
  EXPECT_EQ(out.value, "x-yy/x");
  EXPECT_TRUE(out.problems.empty());
  EXPECT_THAT(out.substituted, ElementsAre("x", "yy", "x"));
}

TEST(EnvExpanderTest, LeavesOtherDollarsAlone) {
  EXPECT_EQ(expandEnv("$HOME costs $5 {x} $", fakeEnv()).value, "$HOME costs $5 {x} $");
}

TEST(EnvExpanderTest, ValuesAreNotReExpandedAndMayBeEmpty) {
  const auto out = expandEnv("[${A}][${E}]", fakeEnv({{"A", "${B}"}, {"B", "no"}, {"E", ""}}));
  EXPECT_EQ(out.value, "[${B}][]");
  EXPECT_TRUE(out.problems.empty());
}

TEST(EnvExpanderTest, ReportsEveryProblemWithoutValues) {
  const auto out = expandEnv("${MISSING} ${} ${1X} ${OK} ${OPEN", fakeEnv({{"OK", "fine"}}));
  EXPECT_THAT(out.problems, ElementsAre("environment variable MISSING is not set",
                                        "bad environment variable reference (names are [A-Za-z_][A-Za-z0-9_]*)",
                                        "bad environment variable reference (names are [A-Za-z_][A-Za-z0-9_]*)",
                                        "unterminated '${' (missing '}')"));
}

TEST(EnvExpanderTest, ProcessEnvUsesGetenv) {
  ::setenv("VENUECAST_ENV_TEST", "v1", 1);
  EXPECT_EQ(processEnv()("VENUECAST_ENV_TEST"), std::optional<std::string>("v1"));
  ::unsetenv("VENUECAST_ENV_TEST");
  EXPECT_EQ(processEnv()("VENUECAST_ENV_TEST"), std::nullopt);
}

}  // namespace
}  // namespace venuecast::config
