#include "nginx_stat.h"

#include <chrono>
#include <cstdlib>
#include <vector>

#include "support/http_client.h"
#include "support/stream_probe.h"

namespace venuecast::bench {
namespace {

std::vector<std::string_view> blocks(std::string_view xml, std::string_view tag) {
  std::vector<std::string_view> out;
  std::string open = "<" + std::string(tag) + ">", close = "</" + std::string(tag) + ">";
  std::size_t pos = 0;
  for (;;) {
    auto b = xml.find(open, pos);
    if (b == std::string_view::npos) break;
    auto e = xml.find(close, b);
    if (e == std::string_view::npos) break;
    out.push_back(xml.substr(b + open.size(), e - b - open.size()));
    pos = e + close.size();
  }
  return out;
}

std::string_view first(std::string_view xml, std::string_view tag) {
  auto b = blocks(xml, tag);
  return b.empty() ? std::string_view() : b.front();
}

int64_t num(std::string_view s) { return s.empty() ? 0 : std::strtoll(std::string(s).c_str(), nullptr, 10); }

}  // namespace

const StreamStat* StatPage::find(const std::string& app, const std::string& name) const {
  auto it = streams.find(app + "/" + name);
  return it == streams.end() ? nullptr : &it->second;
}

StatPage parseStatPage(std::string_view xml) {
  StatPage page;
  if (xml.find("<rtmp>") == std::string_view::npos) return page;
  page.ok = true;
  for (auto app : blocks(xml, "application")) {
    auto live = first(app, "live");
    auto appName = std::string(first(app.substr(0, app.find("<live>")), "name"));
    for (auto stream : blocks(live, "stream")) {
      // The stream's own fields come before its first <client>.
      auto own = stream.substr(0, stream.find("<client>"));
      StreamStat s;
      s.bytesIn = num(first(own, "bytes_in"));
      s.bytesOut = num(first(own, "bytes_out"));
      s.publishing = stream.find("<publishing/>") != std::string_view::npos;
      for (auto client : blocks(stream, "client")) {
        if (client.find("<publishing/>") != std::string_view::npos) {
          s.publisherTimestampMs = num(first(client, "timestamp"));
        } else {
          ++s.players;
          s.playersDropped += num(first(client, "dropped"));
        }
      }
      page.streams[appName + "/" + std::string(first(own, "name"))] = s;
    }
  }
  return page;
}

StatPage fetchStatPage(uint16_t httpPort) {
  auto r = testing::HttpClient::get(httpPort, "/stat", std::chrono::seconds(2));
  StatPage page;
  if (r.status == 200) page = parseStatPage(r.body);
  page.fetchedUs = testing::StreamProbe::nowUs();
  return page;
}

}  // namespace venuecast::bench
