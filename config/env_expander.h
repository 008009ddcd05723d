#pragma once
// ${VAR} expansion for config values, so secrets can live in the environment instead of the file.
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace venuecast::config {

// Returns the variable's value, or nullopt if it is not set. Injected so tests need no real env.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

// The process environment (getenv).
EnvLookup processEnv();

struct Expansion {
  std::string value;
  std::vector<std::string> problems;     // e.g. "environment variable BILI_KEY is not set"; never holds values
  std::vector<std::string> substituted;  // the values that were inserted (treated as secrets in messages)
};

// Replaces each ${NAME} (NAME = [A-Za-z_][A-Za-z0-9_]*) with its value, in one pass (values are not
// re-expanded). A '$' not followed by '{' is kept as is; there is no escape syntax.
Expansion expandEnv(const std::string& text, const EnvLookup& env);

}  // namespace venuecast::config
