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

namespace {

// rtmpproto.c rtmp_open(): the app / playpath split of the URL path (which includes any query).
void splitLikeLibavformat(const std::string& path, std::string& app, std::string& playpath) {
  const std::string next = path.empty() ? path : path.substr(1);
  std::string name;
  bool hasName = false;
  if (path.rfind("/ondemand/", 0) == 0) {
    app = "ondemand";
    name = path.substr(10);
    hasName = true;
  } else if (const auto slash = next.find('/'); slash == std::string::npos) {
    app = next;
  } else {
    const auto colon = next.find(':', slash + 1);
    const auto second = next.find('/', slash + 1);
    hasName = true;
    if (second == std::string::npos || (colon != std::string::npos && colon < second)) {
      app = next.substr(0, slash);
      name = next.substr(slash + 1);
    } else {
      app = next.substr(0, second);
      name = next.substr(second + 1);
    }
  }
  playpath.clear();
  if (!hasName || name.empty()) return;
  auto endsWith = [&](const char* ext) { return name.size() >= 4 && name.compare(name.size() - 4, 4, ext) == 0; };
  if (name.find(':') == std::string::npos && (endsWith(".f4v") || endsWith(".mp4"))) {
    playpath = "mp4:" + name;
  } else {
    if (endsWith(".flv")) name.resize(name.size() - 4);
    playpath = name;
  }
}

}  // namespace

RtmpEndpoint resolveRtmpEndpoint(const std::string& serverUrl, const std::string& key) {
  std::string why;
  const auto parsed = parseRtmpUrl(serverUrl, &why);
  if (!parsed) throw std::invalid_argument("bad URL " + redactUrl(serverUrl) + ": " + why);
  RtmpEndpoint e;
  e.host = parsed->host;
  e.port = static_cast<uint16_t>(parsed->port);
  if (key.empty()) {
    splitLikeLibavformat(parsed->path, e.app, e.playpath);
    e.tcUrl = parsed->scheme + "://" + parsed->hostPort() + "/" + e.app;
  } else {
    const PushTarget t = makePushTarget(serverUrl, key);
    e.app = t.rtmpApp;
    e.tcUrl = t.tcUrl;
    e.playpath = t.rtmpPlaypath;
  }
  return e;
}

}  // namespace venuecast::config
