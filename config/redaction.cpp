#include "config/redaction.h"

#include <algorithm>
#include <mutex>

namespace venuecast::config {

namespace {

constexpr const char* kMask = "****";

bool isSchemeChar(char c, bool first) {
  const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  if (first) return alpha;
  return alpha || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
}

}  // namespace

std::string redactUrl(const std::string& url) {
  const auto sep = url.find("://");
  if (sep == std::string::npos || sep == 0) return kMask;
  for (std::size_t i = 0; i < sep; ++i) {
    if (!isSchemeChar(url[i], i == 0)) return kMask;
  }
  const std::size_t authStart = sep + 3;
  const std::size_t authEnd = std::min(url.find_first_of("/?#", authStart), url.size());
  std::string authority = url.substr(authStart, authEnd - authStart);
  // Credentials never survive, whatever they are (rfind: a password may itself contain '@').
  if (const auto at = authority.rfind('@'); at != std::string::npos) {
    authority = std::string(kMask) + authority.substr(at);
  }
  std::string out = url.substr(0, authStart) + authority;
  if (authEnd == url.size()) return out;

  std::size_t restStart = authEnd;  // points at the delimiter that follows the app (or the authority)
  if (url[authEnd] == '/') {
    const std::size_t appEnd = std::min(url.find_first_of("/?#", authEnd + 1), url.size());
    out += url.substr(authEnd, appEnd - authEnd);  // "/app"
    restStart = appEnd;
  }
  if (restStart == url.size()) return out;
  out += url[restStart];  // keep '/', '?' or '#' so the shape stays readable
  if (restStart + 1 < url.size()) out += kMask;
  return out;
}

SecretScrubber::SecretScrubber() {
  // Tokens that appear as values inside real keys (Bilibili: schedule=rtmp) but also in every URL we log.
  for (const char* word : {"rtmp", "rtmps", "http", "https", "live", "true", "false"}) public_.insert(word);
}

void SecretScrubber::add(std::string secret) {
  std::vector<std::string> pieces;
  pieces.push_back(secret);
  const std::string body = (!secret.empty() && secret.front() == '?') ? secret.substr(1) : secret;
  pieces.push_back(body);

  std::string query;
  if (const auto q = body.find('?'); q != std::string::npos) {
    pieces.push_back(body.substr(0, q));  // "name?token=..." style: the stream name is secret too
    query = body.substr(q + 1);
  } else if (body.find('=') != std::string::npos) {
    query = body;
  }
  std::size_t start = 0;
  while (!query.empty() && start <= query.size()) {
    const std::size_t end = std::min(query.find('&', start), query.size());
    const std::string pair = query.substr(start, end - start);
    if (const auto eq = pair.find('='); eq != std::string::npos && pair.size() - eq - 1 > 3) {
      pieces.push_back(pair);
      pieces.push_back(pair.substr(eq + 1));
    }
    start = end + 1;
  }

  std::unique_lock lock(mutex_);
  for (auto& piece : pieces) {
    if (piece.size() >= kMinSecretLength) secrets_.insert(std::move(piece));
  }
  rebuildLocked();
}

void SecretScrubber::addPublic(std::string word) {
  std::unique_lock lock(mutex_);
  public_.insert(std::move(word));
  rebuildLocked();
}

void SecretScrubber::rebuildLocked() {
  active_.clear();
  for (const auto& s : secrets_) {
    if (!public_.contains(s)) active_.push_back(s);
  }
  std::stable_sort(active_.begin(), active_.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

std::string SecretScrubber::scrub(std::string text) const {
  std::shared_lock lock(mutex_);
  for (const auto& secret : active_) {
    for (auto pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos + 4)) {
      text.replace(pos, secret.size(), kMask);
    }
  }
  return text;
}

}  // namespace venuecast::config
