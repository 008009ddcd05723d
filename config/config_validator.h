#pragma once
// The meaning half of loading: ids, uniqueness, venue references, URLs, TLS options. Runs on what
// ConfigReader managed to read and checks only fields listed in FieldLines, so one broken field
// yields one error (a broken `key` still counts as present: no "URL names no stream" on top). Internal to config/; use
// parseConfig() from config_loader.h.
#include <string>
#include <vector>

#include "config/config.h"
#include "config/config_error.h"
#include "config/config_reader.h"

namespace venuecast::config {

class ConfigValidator {
 public:
  ConfigValidator(const ReadResult& read, std::string fileName);
  std::vector<ConfigError> validate();

 private:
  void checkVenue(std::size_t index);
  void checkPushKey(const std::string& path, const std::string& key);
  void checkListen(const std::string& path, const std::string& listen);
  void checkOutput(std::size_t index);
  void checkId(const std::string& path, const std::string& id, bool allowUnderscore, const char* what,
               std::vector<std::pair<std::string, int>>& seen);
  void checkUrl(const std::string& path, const std::string& url, bool needsStream);
  void checkTls(const std::string& path, const OutputConfig& output);
  void checkDuplicateTarget(const std::string& path, const OutputConfig& output);
  bool has(const std::string& path) const { return lines_.contains(path); }  // present and read fine
  bool present(const std::string& path) const { return has(path) || broken_.contains(path); }
  int lineOf(const std::string& path) const;
  void error(const std::string& path, std::string message);

  const Config& config_;
  const FieldLines& lines_;
  const std::set<std::string>& broken_;
  std::string fileName_;
  std::vector<ConfigError> errors_;
  bool venueIdsComplete_ = false;
  std::vector<std::pair<std::string, int>> venueIds_;  // (id, line) in file order
  std::vector<std::pair<std::string, int>> outputIds_;
  std::vector<std::pair<std::string, std::string>> targets_;  // (where the target was seen, target)
};

}  // namespace venuecast::config
