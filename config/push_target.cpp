#include "config/push_target.h"

#include <stdexcept>

#include "config/redaction.h"

namespace venuecast::config {

PushTarget makePushTarget(const std::string& serverUrl, const std::string& key) {
  PushTarget target;
  if (key.empty()) {
    // The URL already names the stream; libavformat splits app/playpath itself.
    target.url = serverUrl;
    target.redacted = redactUrl(serverUrl);
    return target;
  }

  std::string why;
  const auto parsed = parseRtmpUrl(serverUrl, &why);
  if (!parsed) throw std::invalid_argument("bad server URL " + redactUrl(serverUrl) + ": " + why);

  std::string app = parsed->path;
  const auto first = app.find_first_not_of('/');
  const auto last = app.find_last_not_of('/');
  app = first == std::string::npos ? std::string() : app.substr(first, last - first + 1);
  if (app.empty()) {
    throw std::invalid_argument("server URL " + redactUrl(serverUrl) + " has no app (expected e.g. rtmp://host/live/)");
  }

  const std::string base = parsed->scheme + "://" + parsed->hostPort() + "/";
  target.url = base;
  target.rtmpApp = app;
  target.rtmpPlaypath = key;
  target.tcUrl = base + app;
  // Only the first app segment is shown, matching redactUrl(): anything after it may be a token.
  target.redacted = base + app.substr(0, app.find_first_of("/?#")) + "/****";
  return target;
}

}  // namespace venuecast::config
