#include "config/config_secrets.h"

#include <algorithm>

namespace venuecast::config {

namespace {

// Registers what redactUrl() would hide: credentials, and everything after the app.
// String-based on purpose: it must also cover URLs that failed validation.
void addUrlSecrets(SecretScrubber& scrubber, const std::string& url) {
  const auto sep = url.find("://");
  if (sep == std::string::npos) {
    scrubber.add(url);  // not a URL at all; it may be a key pasted into the wrong field
    return;
  }
  const std::size_t authStart = sep + 3;
  const std::size_t authEnd = std::min(url.find_first_of("/?#", authStart), url.size());
  const std::string authority = url.substr(authStart, authEnd - authStart);
  if (const auto at = authority.rfind('@'); at != std::string::npos) {
    const std::string userinfo = authority.substr(0, at);
    scrubber.add(userinfo);
    if (const auto colon = userinfo.find(':'); colon != std::string::npos) scrubber.add(userinfo.substr(colon + 1));
  }
  std::size_t restStart = authEnd;
  if (authEnd < url.size() && url[authEnd] == '/') {
    restStart = std::min(url.find_first_of("/?#", authEnd + 1), url.size());
  }
  if (restStart + 1 < url.size()) scrubber.add(url.substr(restStart + 1));
}

// Only well-formed ids are public: a key pasted into an id field must still be masked.
void addPublicId(SecretScrubber& scrubber, const std::string& id) {
  const bool wellFormed = !id.empty() && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
  if (wellFormed) scrubber.addPublic(id);
}

}  // namespace

void addConfigSecrets(SecretScrubber& scrubber, const Config& config) {
  // srt:// options are registered with the rest of the query (the passphrase and stream id are secret); these
  // values are not.
  for (const char* word : {"caller", "listener", "mode=caller", "mode=listener"}) scrubber.addPublic(word);
  for (const auto& venue : config.venues) {
    addPublicId(scrubber, venue.id);
    addUrlSecrets(scrubber, venue.url);
    if (!venue.pushKey.empty()) scrubber.add(venue.pushKey);
    if (!venue.backup.url.empty()) addUrlSecrets(scrubber, venue.backup.url);
    if (!venue.backup.pushKey.empty()) scrubber.add(venue.backup.pushKey);
  }
  for (const auto& output : config.outputs) {
    addPublicId(scrubber, output.id);
    addUrlSecrets(scrubber, output.url);
    if (!output.key.empty()) scrubber.add(output.key);
  }
}

}  // namespace venuecast::config
