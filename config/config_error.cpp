#include "config/config_error.h"

namespace venuecast::config {

namespace {

std::string joinLines(const std::vector<ConfigError>& errors) {
  std::string out;
  for (const auto& error : errors) {
    if (!out.empty()) out += '\n';
    out += error.toString();
  }
  return out;
}

}  // namespace

std::string ConfigError::toString() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line);
  out += ": ";
  if (!field.empty()) out += field + ": ";
  return out + message;
}

ConfigErrors::ConfigErrors(std::vector<ConfigError> errors)
    : std::runtime_error(joinLines(errors)), errors_(std::move(errors)) {}

}  // namespace venuecast::config
