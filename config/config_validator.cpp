#include "config/config_validator.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "config/push_target.h"
#include "config/redaction.h"
#include "config/rtmp_url.h"
#include "config/srt_url.h"

namespace venuecast::config {

namespace {

// Valid UTF-8 (no overlongs or surrogates) without control characters: names end up in logs and JSON.
bool isCleanUtf8(const std::string& text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) return false;
    std::size_t extra = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the first continuation byte
    if (c < 0x80)
      extra = 0;
    else if (c >= 0xC2 && c <= 0xDF)
      extra = 1;
    else if (c >= 0xE0 && c <= 0xEF) {
      extra = 2;
      lo = c == 0xE0 ? 0xA0 : 0x80;
      hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
      extra = 3;
      lo = c == 0xF0 ? 0x90 : 0x80;
      hi = c == 0xF4 ? 0x8F : 0xBF;
    } else
      return false;
    if (extra > 0 && i + extra >= text.size()) return false;  // truncated sequence
    for (std::size_t k = 1; k <= extra; ++k) {
      const auto b = static_cast<unsigned char>(text[i + k]);
      if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) return false;
    }
    i += extra + 1;
  }
  return true;
}

// Splits "/app/stream..." into the app and whatever follows it (stream name, query).
std::pair<std::string, std::string> splitApp(const std::string& path) {
  if (path.empty() || path.front() != '/') return {"", path};
  const auto end = std::min(path.find_first_of("/?#", 1), path.size());
  const std::string rest = end < path.size() ? path.substr(end + 1) : "";
  return {path.substr(1, end - 1), rest};
}

}  // namespace

ConfigValidator::ConfigValidator(const ReadResult& read, std::string fileName)
    : config_(read.config), lines_(read.lines), broken_(read.broken), fileName_(std::move(fileName)) {}

std::vector<ConfigError> ConfigValidator::validate() {
  if (has("server.rtmp_listen")) checkListen("server.rtmp_listen", config_.server.rtmpListen);
  for (std::size_t i = 0; i < config_.venues.size(); ++i) checkVenue(i);
  // With a venue id missing or unreadable, "unknown venue" could be wrong, so those checks are skipped.
  venueIdsComplete_ = !config_.venues.empty();
  for (std::size_t i = 0; i < config_.venues.size(); ++i) {
    if (!has("venues[" + std::to_string(i) + "].id")) venueIdsComplete_ = false;
  }
  for (std::size_t i = 0; i < config_.outputs.size(); ++i) checkOutput(i);
  return std::move(errors_);
}

int ConfigValidator::lineOf(const std::string& path) const {
  const auto it = lines_.find(path);
  return it == lines_.end() ? 0 : it->second;
}

void ConfigValidator::error(const std::string& path, std::string message) {
  errors_.push_back({fileName_, lineOf(path), path, std::move(message)});
}

void ConfigValidator::checkVenue(std::size_t index) {
  const VenueConfig& venue = config_.venues[index];
  const std::string path = "venues[" + std::to_string(index) + "]";
  if (has(path + ".id")) checkId(path + ".id", venue.id, false, "venue", venueIds_);
  if (has(path + ".name") && venue.name.empty()) error(path + ".name", "name is empty (leave it out to use the id)");
  if (has(path + ".name") && !isCleanUtf8(venue.name)) {
    error(path + ".name", "name must be valid UTF-8 without control characters");
  }
  if (has(path + ".url")) {
    if (venue.url.rfind("srt://", 0) == 0) {
      std::string why;
      if (!parseSrtUrl(venue.url, &why)) error(path + ".url", why + " in '" + redactUrl(venue.url) + "'");
    } else {
      checkUrl(path + ".url", venue.url, true);
    }
  }
  const bool pull = present(path + ".url"), push = present(path + ".push_key");
  if (pull && push) {
    error(path + ".push_key", "a venue is either pulled (url) or publishes to venuecast (push_key), not both");
  }
  if (has(path + ".push_key")) checkPushKey(path + ".push_key", venue.pushKey);
  const std::string backup = path + ".backup";
  if (present(backup + ".url") && present(backup + ".push_key")) {
    error(backup + ".push_key", "a backup is either pulled (url) or publishes to venuecast (push_key), not both");
  }
  if (has(backup + ".url")) {
    if (venue.backup.url.rfind("srt://", 0) == 0) {
      std::string why;
      if (!parseSrtUrl(venue.backup.url, &why)) error(backup + ".url", why + " in '" + redactUrl(venue.backup.url) + "'");
    } else {
      checkUrl(backup + ".url", venue.backup.url, true);
    }
    if (venue.backup.url == venue.url) error(backup + ".url", "the backup is the same source as the primary");
  }
  if (has(backup + ".push_key")) {
    checkPushKey(backup + ".push_key", venue.backup.pushKey);
    // The listener tells the venue's two encoders apart by their key.
    if (venue.backup.pushKey == venue.pushKey) error(backup + ".push_key", "the backup's push_key must differ from the primary's");
  }
  if (has(path + ".failback_after") && !venue.backup.present()) {
    error(path + ".failback_after", "failback_after applies to a venue with a backup");
  }
  if (has(path + ".failover_after") && !venue.backup.present() && !venue.standby) {
    error(path + ".failover_after", "failover_after applies to a venue with a backup or a standby slate");
  }
  if (has(path + ".slate") && venue.standby) {
    std::error_code ec;
    if (venue.slateFile.empty()) {
      error(path + ".slate", "slate is empty (leave it out for the rendered card, or off for none)");
    } else if (!std::filesystem::is_regular_file(venue.slateFile, ec)) {
      error(path + ".slate", "slate file '" + venue.slateFile + "' does not exist (or is not a file); use off for no slate");
    } else if (access(venue.slateFile.c_str(), R_OK) != 0) {
      error(path + ".slate", "cannot read slate file '" + venue.slateFile + "': " + std::strerror(errno));
    }
  }
}

// The key travels in the stream key as "<venue-id>?key=<secret>": URL-safe characters only, and long enough
// not to be guessed.
void ConfigValidator::checkPushKey(const std::string& path, const std::string& key) {
  constexpr std::size_t kMinLength = 8;
  const bool safe = std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.' || c == '~';
  });
  if (!safe) error(path, "push_key may only hold letters, digits and - _ . ~ (it is sent inside the stream key)");
  if (key.size() < kMinLength) {
    error(path, "push_key is too short (" + std::to_string(key.size()) + " characters, at least " +
                    std::to_string(kMinLength) + ")");
  }
  if (!has("server.rtmp_listen")) {
    error(path, "a push venue needs server.rtmp_listen (e.g. 127.0.0.1:1935, or 0.0.0.0:1935 for encoders on "
                "other hosts)");
  }
}

void ConfigValidator::checkListen(const std::string& path, const std::string& listen) {
  const auto colon = listen.rfind(':');
  const std::string host = colon == std::string::npos ? "" : listen.substr(0, colon);
  const std::string port = colon == std::string::npos ? "" : listen.substr(colon + 1);
  unsigned char address[16];
  const bool ip = inet_pton(AF_INET, host.c_str(), address) == 1 || inet_pton(AF_INET6, host.c_str(), address) == 1;
  const bool portOk = !port.empty() && port.size() <= 5 && std::all_of(port.begin(), port.end(), ::isdigit) &&
                      std::stoi(port) <= 65535;
  if (!ip || !portOk) {
    error(path, "rtmp_listen must be <IP address>:<port>, e.g. 127.0.0.1:1935 or 0.0.0.0:1935, got '" + listen + "'");
  }
}

void ConfigValidator::checkOutput(std::size_t index) {
  const OutputConfig& output = config_.outputs[index];
  const std::string path = "outputs[" + std::to_string(index) + "]";
  if (has(path + ".id")) checkId(path + ".id", output.id, true, "output", outputIds_);

  if (has(path + ".venue") && venueIdsComplete_) {
    const bool known =
        std::any_of(venueIds_.begin(), venueIds_.end(), [&](const auto& v) { return v.first == output.venue; });
    if (!known) {
      std::vector<std::string> ids;
      for (const auto& v : venueIds_) ids.push_back(v.first);
      std::sort(ids.begin(), ids.end());
      ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
      std::string list;
      for (const auto& id : ids) list += (list.empty() ? "" : ", ") + id;
      error(path + ".venue", "unknown venue '" + output.venue + "' (known: " + list + ")");
    }
  }

  if (has(path + ".key")) {
    if (output.key.empty()) {
      error(path + ".key", "stream key is empty (leave 'key' out if the URL already names the stream)");
    } else if (std::any_of(output.key.begin(), output.key.end(),
                           [](unsigned char c) { return c <= 0x20 || c == 0x7f; })) {
      // Typically a trailing newline from `export KEY=$(cat file)`; the key itself is never shown.
      error(path + ".key", "stream key contains whitespace or control characters");
    }
  }
  if (has(path + ".url")) checkUrl(path + ".url", output.url, !present(path + ".key"));
  checkTls(path, output);
  checkDuplicateTarget(path, output);
}

void ConfigValidator::checkId(const std::string& path, const std::string& id, bool allowUnderscore, const char* what,
                              std::vector<std::pair<std::string, int>>& seen) {
  const bool ok = !id.empty() && std::all_of(id.begin(), id.end(), [&](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || (allowUnderscore && c == '_');
  });
  if (!ok) {
    const std::string allowed =
        allowUnderscore ? "lowercase letters, digits, '-' and '_'" : "lowercase letters, digits and '-'";
    error(path, std::string("bad ") + what + " id '" + id + "' (use " + allowed + ")");
  }
  const auto first = std::find_if(seen.begin(), seen.end(), [&](const auto& s) { return s.first == id; });
  if (first != seen.end()) {
    error(path, std::string("duplicate ") + what + " id '" + id + "' (first defined at line " +
                    std::to_string(first->second) + ")");
    return;
  }
  seen.emplace_back(id, lineOf(path));
}

void ConfigValidator::checkUrl(const std::string& path, const std::string& url, bool needsStream) {
  std::string why;
  const auto parsed = parseRtmpUrl(url, &why);
  const std::string shown = redactUrl(url);
  const std::string where = shown == "****" ? "" : " in '" + shown + "'";
  if (!parsed) {
    error(path, why + where);
    return;
  }
  const auto [app, rest] = splitApp(parsed->path);
  if (app.empty()) {
    error(path, "URL has no app (expected rtmp://host[:port]/app/...)" + where);
  } else if (needsStream && rest.empty()) {
    // Without a key the URL itself must name the stream: rtmp://host/app/stream.
    error(path, "URL names no stream (expected rtmp://host[:port]/app/stream, or set 'key')" + where);
  }
}

void ConfigValidator::checkTls(const std::string& path, const OutputConfig& output) {
  const bool hasVerify = has(path + ".tls_verify");
  const bool hasCa = has(path + ".ca_file");
  if (!hasVerify && !hasCa) return;
  const auto parsed = has(path + ".url") ? parseRtmpUrl(output.url) : std::nullopt;
  if (parsed && parsed->scheme != "rtmps") {
    // An error, not a warning: someone who writes tls_verify believes the link is encrypted.
    const std::string field = hasVerify ? ".tls_verify" : ".ca_file";
    error(path + field, std::string(hasVerify ? "tls_verify" : "ca_file") +
                            " only applies to rtmps:// outputs, but url is " + parsed->scheme + "://");
    if (hasVerify && hasCa)
      error(path + ".ca_file", "ca_file only applies to rtmps:// outputs, but url is " + parsed->scheme + "://");
    return;
  }
  if (!hasCa) return;
  if (output.caFile.empty()) {
    error(path + ".ca_file", "ca_file is empty");
  } else if (hasVerify && !output.tlsVerify) {
    error(path + ".ca_file", "ca_file is set but tls_verify is false, so it would be ignored");
  } else if (::access(output.caFile.c_str(), R_OK) != 0) {
    error(path + ".ca_file", "cannot read CA file '" + output.caFile + "': " + std::strerror(errno));
  }
}

// Two outputs pushing to the same stream fight over it ("Already publishing").
void ConfigValidator::checkDuplicateTarget(const std::string& path, const OutputConfig& output) {
  if (!has(path + ".url") || !parseRtmpUrl(output.url)) return;
  if (present(path + ".key") && !has(path + ".key")) return;
  std::string target;
  try {
    const PushTarget t = makePushTarget(output.url, output.key);
    target = t.url + "\n" + t.rtmpApp + "\n" + t.rtmpPlaypath;
  } catch (const std::exception&) {
    return;  // already reported by checkUrl
  }
  const auto first = std::find_if(targets_.begin(), targets_.end(), [&](const auto& t) { return t.second == target; });
  if (first != targets_.end()) {
    error(path + ".url", "pushes to the same stream as " + first->first + " (line " +
                             std::to_string(lineOf(first->first + ".url")) + ")");
    return;
  }
  targets_.emplace_back(path, target);
}

}  // namespace venuecast::config
