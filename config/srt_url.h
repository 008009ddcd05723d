#pragma once
// srt:// venue URLs, read by libavformat's libsrt protocol:
//   srt://HOST:PORT[?mode=caller|listener][&latency=MICROSECONDS][&passphrase=SECRET][&streamid=ID]
// caller (default): venuecast connects to the venue's SRT listener at HOST:PORT; listener: venuecast binds
// HOST:PORT (an IP address) and the venue's encoder calls it. The stream is MPEG-TS (H.264 + AAC).
#include <map>
#include <optional>
#include <string>

namespace venuecast::config {

struct SrtUrl {
  std::string host;
  int port = 0;
  bool listener = false;
  std::map<std::string, std::string> options;  // as given, mode included
};

// nullopt with `why` (never repeating the passphrase) if the URL is not one venuecast accepts.
std::optional<SrtUrl> parseSrtUrl(const std::string& url, std::string* why = nullptr);

}  // namespace venuecast::config
