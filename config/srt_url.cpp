#include "config/srt_url.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

namespace venuecast::config {
namespace {

bool digits(const std::string& s) {
  return !s.empty() && s.size() <= 12 && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

bool isIp(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

std::optional<SrtUrl> fail(std::string* why, std::string text) {
  if (why) *why = std::move(text);
  return std::nullopt;
}

}  // namespace

std::optional<SrtUrl> parseSrtUrl(const std::string& url, std::string* why) {
  constexpr std::string_view kScheme = "srt://";
  if (url.rfind(kScheme, 0) != 0) return fail(why, "not an srt:// URL");
  const std::string rest = url.substr(kScheme.size());
  const auto q = rest.find('?');
  const std::string authority = rest.substr(0, q);
  if (authority.find('/') != std::string::npos) return fail(why, "an srt:// URL has no path (srt://host:port?options)");
  const auto colon = authority.rfind(':');
  SrtUrl u;
  u.host = colon == std::string::npos ? authority : authority.substr(0, colon);
  const std::string port = colon == std::string::npos ? "" : authority.substr(colon + 1);
  if (u.host.empty() || !digits(port) || std::stol(port) < 1 || std::stol(port) > 65535) {
    return fail(why, "expected srt://host:port (port 1-65535)");
  }
  u.port = static_cast<int>(std::stol(port));
  std::size_t at = q == std::string::npos ? rest.size() : q + 1;
  while (at < rest.size()) {
    const auto end = std::min(rest.find('&', at), rest.size());
    const std::string item = rest.substr(at, end - at);
    at = end + 1;
    if (item.empty()) continue;
    const auto eq = item.find('=');
    const std::string name = item.substr(0, eq), value = eq == std::string::npos ? "" : item.substr(eq + 1);
    if (name == "mode") {
      if (value != "caller" && value != "listener") return fail(why, "SRT mode must be caller or listener");
      u.listener = value == "listener";
    } else if (name == "latency") {
      if (!digits(value)) return fail(why, "SRT latency must be a number of microseconds (e.g. 200000 for 200 ms)");
    } else if (name == "passphrase") {
      // libsrt rejects others; say so before the first connect fails.
      if (value.size() < 10 || value.size() > 79) return fail(why, "SRT passphrase must be 10 to 79 characters");
    } else if (name != "streamid") {
      return fail(why, "unknown SRT option '" + name.substr(0, 32) + "' (allowed: mode, latency, passphrase, streamid)");
    }
    u.options[name] = value;
  }
  if (u.listener && !isIp(u.host)) return fail(why, "an SRT listener binds an IP address (e.g. srt://0.0.0.0:9000?mode=listener)");
  return u;
}

}  // namespace venuecast::config
