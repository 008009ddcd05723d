#include "config/config_reader.h"

#include <algorithm>
#include <filesystem>

namespace venuecast::config {

namespace {

const std::vector<std::string> kTopKeys = {"server", "venues", "outputs"};
const std::vector<std::string> kServerFields = {"rtmp_listen"};
const std::vector<std::string> kVenueFields = {"id", "name", "url", "push_key", "backup", "failover_after",
                                               "failback_after", "slate"};
const std::vector<std::string> kBackupFields = {"url", "push_key"};
const std::vector<std::string> kOutputFields = {"id", "venue", "url", "key", "tls_verify", "ca_file"};

// yaml-cpp marks are 0-based and -1 when unknown; ours are 1-based with 0 = unknown.
int lineOf(const YAML::Node& node) { return node.Mark().line >= 0 ? node.Mark().line + 1 : 0; }

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

std::string kindOf(const YAML::Node& node) {
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return "a list";
  if (node.IsScalar()) return "a single value";
  return "nothing";
}

std::string childPath(const std::string& path, const std::string& name) {
  return path.empty() ? name : path + "." + name;
}

}  // namespace

ConfigReader::ConfigReader(std::string fileName, EnvLookup env)
    : fileName_(std::move(fileName)), env_(std::move(env)) {}

void ConfigReader::error(int line, std::string field, std::string message) {
  result_.errors.push_back({fileName_, line, std::move(field), std::move(message)});
}

ReadResult ConfigReader::read(const std::string& text) {
  result_ = {};
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    // Nothing below is trustworthy after a syntax error, so this is the only error reported.
    error(e.mark.line >= 0 ? e.mark.line + 1 : 0, "", "YAML syntax error: " + e.msg);
    return std::move(result_);
  }
  if (root.IsNull()) {
    error(0, "", "file is empty (expected 'venues:' and 'outputs:')");
    return std::move(result_);
  }
  if (!root.IsMap()) {
    error(lineOf(root), "", "top level must be a map with 'venues' and 'outputs', got " + kindOf(root));
    return std::move(result_);
  }
  const auto top = readMap(root, "", kTopKeys, {"venues"});
  if (!top) return std::move(result_);

  if (const auto it = top->find("server"); it != top->end()) {
    if (const auto fields = readMap(it->second.value, "server", kServerFields, {})) {
      result_.config.server.rtmpListen = readString(*fields, "rtmp_listen", "server").value_or("");
    }
  }
  if (const auto it = top->find("venues"); it != top->end()) {
    if (const auto list = readList(it->second, "venues")) {
      for (std::size_t i = 0; i < list->size(); ++i) readVenue((*list)[i], "venues[" + std::to_string(i) + "]");
      if (list->empty()) error(it->second.keyLine, "venues", "no venues defined (at least one is required)");
    }
  }
  // A config without outputs is allowed: `venuecast check` can still show the venues.
  if (const auto it = top->find("outputs"); it != top->end()) {
    if (const auto list = readList(it->second, "outputs")) {
      for (std::size_t i = 0; i < list->size(); ++i) readOutput((*list)[i], "outputs[" + std::to_string(i) + "]");
    }
  }
  return std::move(result_);
}

std::optional<ConfigReader::Fields> ConfigReader::readMap(const YAML::Node& node, const std::string& path,
                                                          const std::vector<std::string>& allowed,
                                                          const std::vector<std::string>& required) {
  if (!node.IsMap()) {
    error(lineOf(node), path, "map expected (fields: " + join(allowed) + "), got " + kindOf(node));
    return std::nullopt;
  }
  Fields fields;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node key = it->first;  // by value: it-> yields a temporary proxy
    const int keyLine = lineOf(key);
    if (!key.IsScalar()) {
      error(keyLine, path, "field names must be plain words, got " + kindOf(key));
      continue;
    }
    const std::string name = key.Scalar();
    const std::string fieldPath = childPath(path, name);
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      const char* what = path.empty() ? "unknown top-level key '" : "unknown field '";
      error(keyLine, fieldPath, what + name + "' (allowed: " + join(allowed) + ")");
      continue;
    }
    if (const auto first = fields.find(name); first != fields.end()) {
      error(keyLine, fieldPath, "duplicate field (first at line " + std::to_string(first->second.keyLine) + ")");
      continue;
    }
    // A null value ("url:") has its mark on the following token, so point at the key instead.
    const YAML::Node value = it->second;
    fields[name] = Field{keyLine, value.IsNull() ? keyLine : lineOf(value), value};
  }
  for (const auto& name : required) {
    if (!fields.contains(name)) {
      const char* what = path.empty() ? "required top-level key is missing" : "required field is missing";
      error(lineOf(node), childPath(path, name), what);
    }
  }
  return fields;
}

std::optional<std::vector<YAML::Node>> ConfigReader::readList(const Field& field, const std::string& path) {
  std::vector<YAML::Node> items;
  if (field.value.IsNull()) return items;  // "outputs:" with nothing under it = empty list
  if (!field.value.IsSequence()) {
    error(field.valueLine, path, "list expected, got " + kindOf(field.value));
    return std::nullopt;
  }
  for (const auto& item : field.value) items.push_back(item);
  return items;
}

std::optional<std::string> ConfigReader::readString(const Fields& fields, const std::string& name,
                                                    const std::string& path) {
  const auto it = fields.find(name);
  if (it == fields.end()) return std::nullopt;
  const Field& field = it->second;
  const std::string fieldPath = childPath(path, name);
  if (field.value.IsNull()) {
    error(field.keyLine, fieldPath, "value is empty");
    result_.broken.insert(fieldPath);
    return std::nullopt;
  }
  if (!field.value.IsScalar()) {
    error(field.valueLine, fieldPath, "scalar expected, got " + kindOf(field.value));
    result_.broken.insert(fieldPath);
    return std::nullopt;
  }
  auto expanded = expandEnv(field.value.Scalar(), env_);
  for (auto& value : expanded.substituted) result_.envValues.push_back(std::move(value));
  for (auto& problem : expanded.problems) error(field.valueLine, fieldPath, std::move(problem));
  if (!expanded.problems.empty()) {
    result_.broken.insert(fieldPath);
    return std::nullopt;
  }
  result_.lines[fieldPath] = field.valueLine;
  return std::move(expanded.value);
}

std::optional<double> ConfigReader::readSeconds(const Fields& fields, const std::string& name, const std::string& path,
                                               double min, double max) {
  const auto text = readString(fields, name, path);
  if (!text) return std::nullopt;
  const std::string fieldPath = childPath(path, name);
  char* end = nullptr;
  const double v = std::strtod(text->c_str(), &end);
  if (text->empty() || end != text->c_str() + text->size() || !(v >= min && v <= max)) {
    char range[64];
    std::snprintf(range, sizeof range, "%g to %g", min, max);
    error(result_.lines[fieldPath], fieldPath, "seconds expected (" + std::string(range) + "), got '" + *text + "'");
    result_.lines.erase(fieldPath);
    result_.broken.insert(fieldPath);
    return std::nullopt;
  }
  return v;
}

std::optional<bool> ConfigReader::readBool(const Fields& fields, const std::string& name, const std::string& path) {
  const auto text = readString(fields, name, path);
  if (!text) return std::nullopt;
  // Strict on purpose: YAML 1.1's yes/no/on/off are a classic source of surprises.
  if (*text == "true" || *text == "True" || *text == "TRUE") return true;
  if (*text == "false" || *text == "False" || *text == "FALSE") return false;
  const std::string fieldPath = childPath(path, name);
  error(result_.lines[fieldPath], fieldPath, "bool expected (true or false), got '" + *text + "'");
  result_.lines.erase(fieldPath);
  result_.broken.insert(fieldPath);
  return std::nullopt;
}

void ConfigReader::readVenue(const YAML::Node& node, const std::string& path) {
  VenueConfig venue;
  venue.line = lineOf(node);
  if (const auto fields = readMap(node, path, kVenueFields, {"id"})) {
    venue.id = readString(*fields, "id", path).value_or("");
    venue.url = readString(*fields, "url", path).value_or("");
    venue.pushKey = readString(*fields, "push_key", path).value_or("");
    if (const auto it = fields->find("backup"); it != fields->end()) {
      const std::string backupPath = childPath(path, "backup");
      if (const auto backup = readMap(it->second.value, backupPath, kBackupFields, {})) {
        venue.backup.url = readString(*backup, "url", backupPath).value_or("");
        venue.backup.pushKey = readString(*backup, "push_key", backupPath).value_or("");
        if (!backup->contains("url") && !backup->contains("push_key")) {
          error(it->second.keyLine, backupPath, "needs url: (pulled) or push_key: (publishes to venuecast)");
        }
      }
    }
    venue.failoverAfterS = readSeconds(*fields, "failover_after", path, 0.5, 60).value_or(2);
    venue.failbackAfterS = readSeconds(*fields, "failback_after", path, 0, 3600).value_or(10);
    if (!fields->contains("url") && !fields->contains("push_key")) {
      error(venue.line, childPath(path, "url"),
            "required field is missing (or push_key: for a venue whose encoder publishes to venuecast)");
    }
    venue.name = readString(*fields, "name", path).value_or(venue.id);
    if (const auto slate = readString(*fields, "slate", path)) {
      if (*slate == "off" || *slate == "false") {
        venue.standby = false;
      } else {
        venue.slateFile = resolvePath(*slate);
      }
    }
  }
  result_.config.venues.push_back(std::move(venue));
}

void ConfigReader::readOutput(const YAML::Node& node, const std::string& path) {
  OutputConfig output;
  output.line = lineOf(node);
  if (const auto fields = readMap(node, path, kOutputFields, {"id", "venue", "url"})) {
    output.id = readString(*fields, "id", path).value_or("");
    output.venue = readString(*fields, "venue", path).value_or("");
    output.url = readString(*fields, "url", path).value_or("");
    output.key = readString(*fields, "key", path).value_or("");
    output.tlsVerify = readBool(*fields, "tls_verify", path).value_or(true);
    output.caFile = resolvePath(readString(*fields, "ca_file", path).value_or(""));
  }
  result_.config.outputs.push_back(std::move(output));
}

// A relative ca_file or slate is relative to the config file, not to wherever venuecast was started.
std::string ConfigReader::resolvePath(const std::string& path) const {
  if (path.empty() || std::filesystem::path(path).is_absolute()) return path;
  const auto dir = std::filesystem::path(fileName_).parent_path();
  return dir.empty() ? path : (dir / path).string();
}

}  // namespace venuecast::config
