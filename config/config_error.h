#pragma once
// One problem found while loading a config file, and the exception that carries all of them.
#include <stdexcept>
#include <string>
#include <vector>

namespace venuecast::config {

struct ConfigError {
  std::string file;
  int line = 0;       // 1-based; 0 = not tied to a line (e.g. unreadable file)
  std::string field;  // "outputs[3].venue"; empty for file-level problems
  std::string message;

  // "coscon.yaml:14: outputs[3].venue: unknown venue 'chengdo' (known: chengdu, dalian)";
  // the ":line" and "field: " parts are left out when absent.
  std::string toString() const;
};

// Thrown by loadConfig()/parseConfig() with every problem found, not just the first.
class ConfigErrors : public std::runtime_error {
 public:
  explicit ConfigErrors(std::vector<ConfigError> errors);
  const std::vector<ConfigError>& errors() const { return errors_; }

 private:
  std::vector<ConfigError> errors_;
};

}  // namespace venuecast::config
