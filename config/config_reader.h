#pragma once
// The YAML half of loading: text -> Config plus the line of every field, checking only shape
// (syntax, maps/lists/scalars, known and required fields, ${VAR} expansion). Meaning (ids, URLs,
// references) is ConfigValidator's job. Internal to config/; use parseConfig() from config_loader.h.
#include <yaml-cpp/yaml.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/config_error.h"
#include "config/env_expander.h"

namespace venuecast::config {

// "outputs[2].url" -> 1-based line of its value. Holds only fields that were present AND read
// without error, so the validator checks exactly those and never piles errors onto a broken field.
using FieldLines = std::map<std::string, int>;

struct ReadResult {
  Config config;  // entries keep their list index even when broken, so "outputs[i]" stays true
  FieldLines lines;
  std::set<std::string> broken;  // present but unreadable (error already reported): not "absent"
  std::vector<ConfigError> errors;
  std::vector<std::string> envValues;  // every ${VAR} value used, so messages can mask them
};

class ConfigReader {
 public:
  ConfigReader(std::string fileName, EnvLookup env);
  ReadResult read(const std::string& text);

 private:
  struct Field {
    int keyLine = 0;
    int valueLine = 0;
    YAML::Node value;
  };
  using Fields = std::map<std::string, Field>;

  std::optional<Fields> readMap(const YAML::Node& node, const std::string& path,
                                const std::vector<std::string>& allowed, const std::vector<std::string>& required);
  std::optional<std::vector<YAML::Node>> readList(const Field& field, const std::string& path);
  std::optional<std::string> readString(const Fields& fields, const std::string& name, const std::string& path);
  std::optional<bool> readBool(const Fields& fields, const std::string& name, const std::string& path);
  // Seconds, a number within [min, max].
  std::optional<double> readSeconds(const Fields& fields, const std::string& name, const std::string& path, double min,
                                    double max);
  void readVenue(const YAML::Node& node, const std::string& path);
  void readOutput(const YAML::Node& node, const std::string& path);
  std::string resolvePath(const std::string& path) const;
  void error(int line, std::string field, std::string message);

  std::string fileName_;
  EnvLookup env_;
  ReadResult result_;
};

}  // namespace venuecast::config
