#pragma once
// Every live stream in one nginx-rtmp /stat page (the harness's NginxStats reads one stream at a time and leaves
// out what the benchmark needs: the publisher's last timestamp and the players' drop counters).
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace venuecast::bench {

struct StreamStat {
  int64_t bytesIn = 0;
  int64_t bytesOut = 0;
  bool publishing = false;
  int64_t publisherTimestampMs = -1;  // <timestamp> of the publishing client: last media time it sent
  int64_t playersDropped = 0;         // sum of <dropped> over the non-publishing clients (players, push relays)
  int players = 0;
};

struct StatPage {
  bool ok = false;      // the page was fetched and parsed
  int64_t fetchedUs = 0;  // StreamProbe::nowUs() when the answer came
  std::map<std::string, StreamStat> streams;  // "app/name" -> stats
  const StreamStat* find(const std::string& app, const std::string& name) const;
};

StatPage parseStatPage(std::string_view xml);
StatPage fetchStatPage(uint16_t httpPort);  // GET /stat (2 s timeout)

}  // namespace venuecast::bench
