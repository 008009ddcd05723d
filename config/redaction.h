#pragma once
// Keeping stream keys out of logs, status pages and error messages.
// Two tools: redactUrl() for URLs we print on purpose, SecretScrubber for text we don't control
// (libav log lines, exception messages) that might echo a key back at us.
#include <memory>
#include <set>
#include <shared_mutex>
#include <string>
#include <vector>

namespace venuecast::config {

// Keeps scheme, host, port and the first path segment (the RTMP app); everything after it
// (further path = stream name, query, fragment) becomes "****", and user:password@ becomes "****@".
//   rtmp://127.0.0.1:1935/venue/chengdu        -> rtmp://127.0.0.1:1935/venue/****
//   rtmp://h/live-bvc/?streamname=x&key=y      -> rtmp://h/live-bvc/****
//   rtmp://h/app?token=x                       -> rtmp://h/app?****
//   rtmp://h/app                               -> rtmp://h/app   (nothing secret)
// Text that is not "scheme://..." at all is returned as "****": it may be a pasted key.
std::string redactUrl(const std::string& url);

// Replaces every registered secret (and its meaningful pieces) with "****". Thread-safe: add() and
// scrub() may be called concurrently from any thread (e.g. a libav log callback).
class SecretScrubber {
 public:
  static constexpr std::size_t kMinSecretLength = 4;  // shorter strings would mask ordinary words

  SecretScrubber();
  SecretScrubber(const SecretScrubber&) = delete;
  SecretScrubber& operator=(const SecretScrubber&) = delete;

  // Registers `secret` and, for a query-string key such as "?streamname=live_1_2&key=abcd&pflag=1",
  // the key without its leading '?', each "name=value" whose value is longer than 3 characters and
  // that value alone. Pieces shorter than kMinSecretLength or equal to a public word are skipped.
  void add(std::string secret);

  // Declares a word that is never a secret even if a key contains it as a piece (e.g. "rtmp" in
  // Bilibili's "schedule=rtmp", or a venue id used as the forum stream key). Applies retroactively.
  void addPublic(std::string word);

  std::string scrub(std::string text) const;

 private:
  void rebuildLocked();

  mutable std::shared_mutex mutex_;
  std::set<std::string> secrets_;
  std::set<std::string> public_;
  std::vector<std::string> active_;  // secrets_ minus public_, longest first so a whole key wins over its parts
};

}  // namespace venuecast::config
