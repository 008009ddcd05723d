#include "config/env_expander.h"

#include <cstdlib>

namespace venuecast::config {

namespace {

bool isValidName(const std::string& name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok = c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

}  // namespace

EnvLookup processEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (!value) return std::nullopt;
    return std::string(value);
  };
}

Expansion expandEnv(const std::string& text, const EnvLookup& env) {
  Expansion out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto open = text.find("${", pos);
    if (open == std::string::npos) {
      out.value += text.substr(pos);
      break;
    }
    out.value += text.substr(pos, open - pos);
    const auto close = text.find('}', open + 2);
    if (close == std::string::npos) {
      // The rest might be a value, so it is not quoted back.
      out.problems.push_back("unterminated '${' (missing '}')");
      break;
    }
    const std::string name = text.substr(open + 2, close - open - 2);
    if (!isValidName(name)) {
      out.problems.push_back("bad environment variable reference (names are [A-Za-z_][A-Za-z0-9_]*)");
    } else if (const auto value = env(name)) {
      out.value += *value;
      out.substituted.push_back(*value);
    } else {
      out.problems.push_back("environment variable " + name + " is not set");
    }
    pos = close + 1;
  }
  return out;
}

}  // namespace venuecast::config
