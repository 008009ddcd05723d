#pragma once
// A deliberately small parser for rtmp:// and rtmps:// URLs, shared by the validator and
// makePushTarget() so both agree on what a URL means.
#include <optional>
#include <string>

namespace venuecast::config {

struct RtmpUrl {
  std::string scheme;  // "rtmp" or "rtmps", lower-cased
  std::string host;    // without brackets, e.g. "::1" for rtmp://[::1]/app
  int port = 0;        // explicit port, else 1935 (rtmp) / 443 (rtmps)
  std::string path;    // everything after host[:port], verbatim: "" or starting with '/', '?' or '#'
  bool explicitPort = false;

  // "host:port", with brackets around an IPv6 literal: "[::1]:1935".
  std::string hostPort() const;
};

// nullopt if `url` is not a usable rtmp(s) URL; then *why (if given) says what is wrong, in words
// that never repeat the secret parts of the URL: not a URL, unsupported scheme (supported: rtmp,
// rtmps), no host, bad port, credentials (user:password@ is not supported), whitespace.
std::optional<RtmpUrl> parseRtmpUrl(const std::string& url, std::string* why = nullptr);

}  // namespace venuecast::config
