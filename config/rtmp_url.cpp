#include "config/rtmp_url.h"

#include <algorithm>
#include <cctype>

namespace venuecast::config {

namespace {

constexpr int kRtmpPort = 1935;
constexpr int kRtmpsPort = 443;  // libavformat's RTMPS_DEFAULT_PORT

std::optional<RtmpUrl> fail(std::string* why, std::string message) {
  if (why) *why = std::move(message);
  return std::nullopt;
}

bool isRegNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_'; }

bool isIpv6Char(char c) { return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.'; }

// Port text after ':' -> 1..65535, or nullopt.
std::optional<int> parsePort(const std::string& text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
  const int port = std::stoi(text);
  if (port < 1 || port > 65535) return std::nullopt;
  return port;
}

}  // namespace

std::string RtmpUrl::hostPort() const {
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::optional<RtmpUrl> parseRtmpUrl(const std::string& url, std::string* why) {
  if (url.empty()) return fail(why, "URL is empty");
  if (std::any_of(url.begin(), url.end(), [](char c) {
        return std::isspace(static_cast<unsigned char>(c)) || std::iscntrl(static_cast<unsigned char>(c));
      })) {
    return fail(why, "URL contains whitespace or control characters");
  }
  const auto sep = url.find("://");
  const bool schemeOk =
      sep != std::string::npos && sep > 0 && std::all_of(url.begin(), url.begin() + static_cast<long>(sep), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
      });
  if (!schemeOk) return fail(why, "not a URL (expected rtmp://host[:port]/app/...)");

  RtmpUrl out;
  out.scheme = url.substr(0, sep);
  std::transform(out.scheme.begin(), out.scheme.end(), out.scheme.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (out.scheme != "rtmp" && out.scheme != "rtmps") {
    return fail(why, "unsupported scheme '" + out.scheme + "' (supported: rtmp, rtmps)");
  }

  const std::size_t authStart = sep + 3;
  const std::size_t authEnd = std::min(url.find_first_of("/?#", authStart), url.size());
  const std::string authority = url.substr(authStart, authEnd - authStart);
  out.path = url.substr(authEnd);
  if (authority.find('@') != std::string::npos) {
    return fail(why, "credentials in the URL (user:password@) are not supported");
  }

  std::string portText;
  bool hasPort = false;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string::npos) return fail(why, "unclosed '[' in IPv6 host");
    out.host = authority.substr(1, close - 1);
    if (out.host.empty() || !std::all_of(out.host.begin(), out.host.end(), isIpv6Char) ||
        out.host.find(':') == std::string::npos) {
      return fail(why, "bad IPv6 host '[" + out.host + "]'");
    }
    const std::string after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return fail(why, "unexpected text after IPv6 host");
      hasPort = true;
      portText = after.substr(1);
    }
  } else {
    const auto colon = authority.find(':');
    out.host = authority.substr(0, colon);
    if (colon != std::string::npos) {
      hasPort = true;
      portText = authority.substr(colon + 1);
    }
    if (!std::all_of(out.host.begin(), out.host.end(), isRegNameChar)) {
      return fail(why, "bad host '" + out.host + "'");
    }
  }
  if (out.host.empty()) return fail(why, "URL has no host");

  if (hasPort) {
    const auto port = parsePort(portText);
    if (!port) return fail(why, "bad port '" + portText + "' (expected 1-65535)");
    out.port = *port;
    out.explicitPort = true;
  } else {
    out.port = out.scheme == "rtmps" ? kRtmpsPort : kRtmpPort;
  }
  return out;
}

}  // namespace venuecast::config
