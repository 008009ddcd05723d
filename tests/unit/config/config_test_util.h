#pragma once
// Helpers shared by the config/ unit tests.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/config_loader.h"

namespace venuecast::config::testing {

// A realistic Bilibili stream key (shape from the live centre): a query string, leading '?'.
inline const std::string kBiliKey =
    "?streamname=live_3461_7890123&key=0a1b2c3d4e5f60718293a4b5c6d7e8f9&schedule=rtmp&pflag=1";
// The parts of it that must never show up anywhere.
inline const std::vector<std::string> kBiliKeyParts = {kBiliKey,
                                                       kBiliKey.substr(1),
                                                       "live_3461_7890123",
                                                       "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
                                                       "streamname=live_3461_7890123",
                                                       "key=0a1b2c3d4e5f60718293a4b5c6d7e8f9"};

inline EnvLookup fakeEnv(std::map<std::string, std::string> vars = {}) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

// Parses `text` expecting failure; returns the collected errors (empty + test failure if it parsed).
inline std::vector<ConfigError> errorsOf(const std::string& text, const EnvLookup& env = fakeEnv()) {
  try {
    parseConfig(text, "coscon.yaml", env);
  } catch (const ConfigErrors& e) {
    return e.errors();
  }
  ADD_FAILURE() << "expected ConfigErrors for:\n" << text;
  return {};
}

inline std::vector<std::string> linesOf(const std::vector<ConfigError>& errors) {
  std::vector<std::string> out;
  for (const auto& e : errors) out.push_back(e.toString());
  return out;
}

// A valid two-venue config that tests break one line at a time. Line numbers matter:
//   1 venues:  2 - id: chengdu  3 name  4 url  5 (blank)  6 - id: dalian  7 url
//   8 outputs:  9 - id: bilibili-chengdu  10 (comment)  11 venue  12 url  13 key
//  14 - id: forum-dalian  15 venue  16 url
inline const std::string kValidYaml =
    "venues:\n"
    "  - id: chengdu\n"
    "    name: 成都分会场\n"
    "    url: rtmp://127.0.0.1:1935/venue/chengdu\n"
    "\n"
    "  - id: dalian\n"
    "    url: rtmp://127.0.0.1:1935/venue/dalian\n"
    "outputs:\n"
    "  - id: bilibili-chengdu\n"
    "    # Bilibili room of the Chengdu venue\n"
    "    venue: chengdu\n"
    "    url: rtmp://live-push.bilivideo.com/live-bvc/\n"
    "    key: ${BILI_CHENGDU_KEY}\n"
    "  - id: forum-dalian\n"
    "    venue: dalian\n"
    "    url: rtmp://127.0.0.1:1936/forum/dalian\n";

inline EnvLookup validEnv() { return fakeEnv({{"BILI_CHENGDU_KEY", kBiliKey}}); }

// kValidYaml with the first occurrence of `from` replaced by `to` (fails the test if absent).
inline std::string withReplaced(const std::string& from, const std::string& to, std::string text = kValidYaml) {
  const auto pos = text.find(from);
  if (pos == std::string::npos) {
    ADD_FAILURE() << "'" << from << "' not in test YAML";
    return text;
  }
  return text.replace(pos, from.size(), to);
}

}  // namespace venuecast::config::testing
