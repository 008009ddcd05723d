#pragma once
// Parsers for what a private nginx-rtmp reports: /stat XML, the rtmp access log (one line per *finished*
// session: nginx-rtmp writes it on disconnect only), and the info-level error log (one line per command).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace venuecast::testing {

struct NginxStreamStats {
  bool exists = false;       // the stream is listed under the application in /stat
  bool publishing = false;   // someone publishes it now
  int64_t bytesIn = 0;       // stream totals as nginx counts them
  int64_t bytesOut = 0;
  int clients = 0;           // <nclients>: publisher + players
  int players = 0;           // clients that are not publishing
  int width = 0;             // from the publisher's metadata (<meta>), 0 if unknown
  int height = 0;
  std::string videoCodec;    // e.g. "H264"
  std::string videoProfile;  // e.g. "High"
  std::string audioCodec;    // e.g. "AAC"
  int publishEvents = 0;     // publish commands for app/name seen in the error log since the nginx was created
};

// One access-log line, format (NginxRtmp's log_format "venuecast"):
// $remote_addr [$time_local] $command "$app" "$name" "$args" $bytes_received $bytes_sent "$flashver" "$tcurl"
struct NginxAccessEntry {
  std::string remoteAddr, timeLocal, command, app, name, args, flashver, tcurl;
  int64_t bytesReceived = 0, bytesSent = 0;
  std::string line;
};

// An info-level "publish:" line with the app from the same connection's "connect:" line.
struct NginxPublishEvent {
  long pid = 0;              // nginx process (connection numbers restart with each process)
  long connection = 0;
  std::string app, name, args;
};

class NginxStats {
 public:
  static NginxStreamStats parseStream(std::string_view statXml, std::string_view app, std::string_view name);
  static std::vector<NginxAccessEntry> parseAccessLog(std::string_view text);
  static std::vector<NginxPublishEvent> parsePublishEvents(std::string_view errorLog);
};

}  // namespace venuecast::testing
