#include "support/nginx_stats.h"

#include <map>
#include <regex>
#include <sstream>
#include <utility>

namespace venuecast::testing {
namespace {

// Returns the contents of each <tag>...</tag> block (non-nested tags only) inside `xml`.
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

std::string firstValue(std::string_view xml, std::string_view tag) {
  auto b = blocks(xml, tag);
  return b.empty() ? std::string() : std::string(b.front());
}

int64_t number(const std::string& s) {
  try {
    return s.empty() ? 0 : std::stoll(s);
  } catch (...) {
    return 0;
  }
}

// The part of a <stream> block outside its <client> and <meta> children.
std::string ownPart(std::string_view stream) {
  std::string out(stream);
  for (std::string tag : {"client", "meta"}) {
    for (;;) {
      auto b = out.find("<" + tag + ">");
      auto e = out.find("</" + tag + ">");
      if (b == std::string::npos || e == std::string::npos) break;
      out.erase(b, e + tag.size() + 3 - b);
    }
  }
  return out;
}

}  // namespace

NginxStreamStats NginxStats::parseStream(std::string_view statXml, std::string_view app, std::string_view name) {
  NginxStreamStats s;
  for (auto appBlock : blocks(statXml, "application")) {
    auto live = firstValue(appBlock, "live");
    auto appName = appBlock.substr(0, appBlock.find("<live>"));
    if (firstValue(appName, "name") != app) continue;
    for (auto stream : blocks(live, "stream")) {
      std::string own = ownPart(stream);
      if (firstValue(own, "name") != name) continue;
      s.exists = true;
      s.bytesIn = number(firstValue(own, "bytes_in"));
      s.bytesOut = number(firstValue(own, "bytes_out"));
      s.clients = static_cast<int>(number(firstValue(own, "nclients")));
      s.publishing = own.find("<publishing/>") != std::string::npos;
      for (auto client : blocks(stream, "client")) s.players += client.find("<publishing/>") == std::string_view::npos;
      auto meta = firstValue(stream, "meta");
      auto video = firstValue(meta, "video");
      auto audio = firstValue(meta, "audio");
      s.width = static_cast<int>(number(firstValue(video, "width")));
      s.height = static_cast<int>(number(firstValue(video, "height")));
      s.videoCodec = firstValue(video, "codec");
      s.videoProfile = firstValue(video, "profile");
      s.audioCodec = firstValue(audio, "codec");
      return s;
    }
  }
  return s;
}

std::vector<NginxAccessEntry> NginxStats::parseAccessLog(std::string_view text) {
  static const std::regex re(R"re(^(\S+) \[([^\]]*)\] (\S+) "([^"]*)" "([^"]*)" "([^"]*)" (\d+) (\d+) "([^"]*)" "([^"]*)"$)re");
  std::vector<NginxAccessEntry> out;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (!std::regex_match(line, m, re)) continue;
    NginxAccessEntry e;
    e.remoteAddr = m[1];
    e.timeLocal = m[2];
    e.command = m[3];
    e.app = m[4];
    e.name = m[5];
    e.args = m[6];
    e.bytesReceived = number(m[7]);
    e.bytesSent = number(m[8]);
    e.flashver = m[9];
    e.tcurl = m[10];
    e.line = line;
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<NginxPublishEvent> NginxStats::parsePublishEvents(std::string_view errorLog) {
  static const std::regex connectRe(R"re(\[info\] (\d+)#\d+: \*(\d+) connect: app='([^']*)')re");
  static const std::regex publishRe(R"re(\[info\] (\d+)#\d+: \*(\d+) publish: name='([^']*)' args='([^']*)')re");
  std::map<std::pair<long, long>, std::string> appOf;
  std::vector<NginxPublishEvent> out;
  std::istringstream in{std::string(errorLog)};
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, connectRe)) {
      appOf[{std::stol(m[1]), std::stol(m[2])}] = m[3];
    } else if (std::regex_search(line, m, publishRe)) {
      NginxPublishEvent e;
      e.pid = std::stol(m[1]);
      e.connection = std::stol(m[2]);
      e.app = appOf[{e.pid, e.connection}];
      e.name = m[3];
      e.args = m[4];
      out.push_back(std::move(e));
    }
  }
  return out;
}

}  // namespace venuecast::testing
