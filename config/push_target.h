#pragma once
// Turns an OBS-style (server URL, stream key) pair into what libavformat's RTMP muxer needs.
// With a key we never concatenate: the key goes verbatim into rtmp_playpath, because a Bilibili key
// is a query string ("?streamname=...&key=...") that URL parsing would mangle (notes/ffmpeg-rtmp.md §6).
#include <cstdint>
#include <string>

#include "config/rtmp_url.h"

namespace venuecast::config {

struct PushTarget {
  std::string url;           // what to pass to avio_open2
  std::string rtmpApp;       // "rtmp_app" option; empty = let libavformat parse `url`
  std::string rtmpPlaypath;  // "rtmp_playpath" option: the key, verbatim
  std::string tcUrl;         // "rtmp_tcurl" option: scheme://host:port/app
  std::string redacted;      // safe to log / show: never contains the key
};

// key empty:     url = serverUrl as given, app/playpath/tcUrl empty, redacted = redactUrl(serverUrl).
// key non-empty: app = server path without leading/trailing '/' (may be "live/abc"),
//                url = scheme://host:port/ (port always explicit), tcUrl = scheme://host:port/app,
//                redacted = scheme://host:port/<first app segment>/****.
// Throws std::invalid_argument (with a redacted URL) if a keyed serverUrl is not a valid rtmp(s) URL
// or has no app; a validated Config never triggers this.
PushTarget makePushTarget(const std::string& serverUrl, const std::string& key);

// What an RTMP client puts on the wire for an output: where it connects, connect's app and tcUrl, and the
// publish name. Without a key the URL is split exactly as libavformat 5.1's rtmpproto splits it
// (notes/ffmpeg-rtmp.md §1: app = first path segment, or the first two when a further '/' follows; playpath =
// the rest, query included, ".flv" dropped, ".mp4"/".f4v" prefixed "mp4:"), so the native publisher and the
// libavformat one publish the same names. Throws std::invalid_argument (redacted) like makePushTarget.
struct RtmpEndpoint {
  std::string host;  // without brackets
  uint16_t port = 1935;
  std::string app;
  std::string tcUrl;     // scheme://host:port/app, port always explicit
  std::string playpath;  // the key verbatim, or the stream part of the URL
};
RtmpEndpoint resolveRtmpEndpoint(const std::string& serverUrl, const std::string& key);

}  // namespace venuecast::config
