// describePlan: the `venuecast check` output.
#include "config/plan_printer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/config/config_test_util.h"

namespace venuecast::config {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace venuecast::config::testing;

OutputConfig output(std::string id, std::string venue, std::string url, std::string key = "") {
  OutputConfig o;
  o.id = std::move(id);
  o.venue = std::move(venue);
  o.url = std::move(url);
  o.key = std::move(key);
  return o;
}

TEST(PlanPrinterTest, ExactLayout) {
  Config config;
  config.file = "coscon.yaml";
  config.venues.push_back({"chengdu", "成都分会场", "rtmp://127.0.0.1:1935/venue/chengdu", 2});
  config.venues.push_back({"wuxi", "wuxi", "rtmp://127.0.0.1:1935/venue/wuxi", 5});
  config.venues.back().standby = false;
  config.outputs.push_back(output("bilibili-chengdu", "chengdu", "rtmp://live-push.bilivideo.com/live-bvc/", kBiliKey));
  config.outputs.push_back(output("forum-chengdu", "chengdu", "rtmp://127.0.0.1:1936/forum/chengdu"));
  auto tls = output("fb", "chengdu", "rtmps://live-api-s.facebook.com/rtmp/", "FB-12345-0-AbCdEf");
  tls.caFile = "/etc/venuecast/ca.pem";
  config.outputs.push_back(tls);
  EXPECT_EQ(describePlan(config),
            "coscon.yaml: 2 venues, 3 outputs\n"
            "\n"
            "venue chengdu \"成都分会场\"\n"
            "  from rtmp://127.0.0.1:1935/venue/****\n"
            "  standby slate (rendered card) after 2 s with nothing live\n"
            "  -> bilibili-chengdu  rtmp://live-push.bilivideo.com:1935/live-bvc/****\n"
            "  -> forum-chengdu     rtmp://127.0.0.1:1936/forum/****\n"
            "  -> fb                rtmps://live-api-s.facebook.com:443/rtmp/****\n"
            "     tls: verify certificate (CA file /etc/venuecast/ca.pem)\n"
            "\n"
            "venue wuxi\n"
            "  from rtmp://127.0.0.1:1935/venue/****\n"
            "  no standby slate (outputs pause while nothing is live)\n"
            "  (no outputs)\n");
}

TEST(PlanPrinterTest, TlsVariantsAndSingularCounts) {
  Config config;
  config.venues.push_back({"v", "v", "rtmps://src.example/app/s", 1});
  auto unverified = output("out", "v", "rtmps://dst.example:8443/app/", "k-123456");
  unverified.tlsVerify = false;
  config.outputs.push_back(unverified);
  std::string plan = describePlan(config);
  EXPECT_THAT(plan, HasSubstr("config: 1 venue, 1 output\n"));
  EXPECT_THAT(plan, HasSubstr("  -> out  rtmps://dst.example:8443/app/****\n     tls: certificate NOT verified\n"));
  EXPECT_THAT(plan, Not(HasSubstr("k-123456")));

  config.outputs[0].tlsVerify = true;
  EXPECT_THAT(describePlan(config), HasSubstr("     tls: verify certificate (system CA store)\n"));
}

TEST(PlanPrinterTest, OutputsOfUnknownVenuesAndBadUrlsStillHideKeys) {
  Config config;
  config.venues.push_back({"a", "a", "rtmp://h/venue/a", 1});
  config.outputs.push_back(output("lost", "nowhere", "rtmp://h/live/" + kBiliKey));
  config.outputs.push_back(output("broken", "a", "not a url", kBiliKey));
  const std::string plan = describePlan(config);
  EXPECT_THAT(plan, HasSubstr("  -> broken  ****\n"));
  EXPECT_THAT(plan, HasSubstr("\noutputs with an unknown venue\n  -> lost    rtmp://h/live/****\n"));
  for (const auto& part : kBiliKeyParts) EXPECT_THAT(plan, Not(HasSubstr(part)));
}

}  // namespace
}  // namespace venuecast::config
