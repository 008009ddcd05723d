// What reaches the endpoints, against real peers (nginx-rtmp, ffmpeg, socat) on 127.0.0.1:
//   RelayDelivery   codec copy with nothing lost (2 venues -> 4 outputs, 30 s counted frame by frame)
//   RelayFastStart  a (re)connected output starts at once from the venue's cached keyframe, headers first
//   RelayUrls       push URLs joined like OBS (Bilibili-style keys, plain keys, full URLs) and rtmps:// verification
//   RelaySecrets    no key, nor any secret piece of it, in logs (trace/debug) or `check` output, whatever fails
//   RelayStop       SIGTERM/SIGINT: exit 0 within 3 s, every output closed cleanly (FLV trailer + RTMP deleteStream)
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include "support/child_process.h"
#include "support/failure_dump.h"
#include "support/ffmpeg_publisher.h"
#include "support/ffprobe_reader.h"
#include "support/free_port.h"
#include "support/nginx_rtmp.h"
#include "support/packet_analysis.h"
#include "support/packet_matcher.h"
#include "support/poll_until.h"
#include "support/stream_probe.h"
#include "support/temp_dir.h"
#include "support/test_clip.h"
#include "support/tls_proxy.h"
#include "support/venuecast_process.h"

namespace venuecast::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string hostPort(uint16_t port) { return "rtmp://127.0.0.1:" + std::to_string(port); }

NginxApp recordingApp(std::string name) {
  NginxApp app{std::move(name)};
  app.record = true;
  return app;
}

// A regex matching `prefix` literally, followed by the regex `rest`.
std::regex literal(const std::string& prefix, const std::string& rest = "") {
  static const std::regex special(R"([.^$|()\[\]{}*+?\\])");
  return std::regex(std::regex_replace(prefix, special, R"(\$&)") + rest);
}

// The time of a venuecast log line ("2026-11-25 15:00:48.404 info  ...": local wall clock, ms) on the steady clock
// that StreamProbe stamps arrivals with. 0 if the line has no timestamp.
int64_t logLineSteadyUs(const std::string& line) {
  int year, month, day, hour, minute, second, ms;
  if (std::sscanf(line.c_str(), "%d-%d-%d %d:%d:%d.%d", &year, &month, &day, &hour, &minute, &second, &ms) != 7) return 0;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  tm.tm_isdst = -1;
  const int64_t wallUs = static_cast<int64_t>(std::mktime(&tm)) * 1'000'000 + ms * 1000;
  const int64_t systemNowUs =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  return wallUs - systemNowUs + StreamProbe::nowUs();
}

std::size_t countOf(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) ++n;
  return n;
}

// ---- nginx: how each publishing connection ended ---------------------------------------------------------------
// nginx-rtmp logs "deleteStream" (info) when the client sends it, and once more on its own after "disconnect". A
// publisher that closed cleanly (libavformat's rtmp_close: FCUnpublish + deleteStream) has one *before* disconnect.
struct PublisherSession {
  long pid = 0, connection = 0;
  std::string app, name, args;
  bool closedByClient = false;  // deleteStream before disconnect
  bool disconnected = false;
};

std::vector<PublisherSession> publisherSessions(const std::string& errorLog) {
  static const std::regex lineRe(R"re(\[info\] (\d+)#\d+: \*(\d+) (.*))re");
  static const std::regex connectRe(R"re(^connect: app='([^']*)')re");
  static const std::regex publishRe(R"re(^publish: name='([^']*)' args='([^']*)')re");
  std::map<std::pair<long, long>, PublisherSession> byConnection;
  std::vector<std::pair<long, long>> order;
  std::istringstream in(errorLog);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (!std::regex_search(line, m, lineRe)) continue;
    const std::pair<long, long> key{std::stol(m[1]), std::stol(m[2])};
    const std::string what = m[3];
    auto& s = byConnection[key];
    s.pid = key.first;
    s.connection = key.second;
    std::smatch w;
    if (std::regex_search(what, w, connectRe)) {
      s.app = w[1];
    } else if (std::regex_search(what, w, publishRe)) {
      s.name = w[1];
      s.args = w[2];
      order.push_back(key);
    } else if (what.rfind("deleteStream", 0) == 0) {
      if (!s.disconnected) s.closedByClient = true;
    } else if (what.rfind("disconnect", 0) == 0) {
      s.disconnected = true;
    }
  }
  std::vector<PublisherSession> out;
  for (const auto& key : order) out.push_back(byConnection[key]);
  return out;
}

// ---- FLV files as nginx recorded them ------------------------------------------------------------------------
struct FlvVideoTag {
  int frameType = 0;      // 1 = keyframe
  int avcPacketType = -1; // 0 = sequence header, 1 = NALUs, 2 = end of sequence (what flvenc's trailer writes)
  uint32_t size = 0;
};

std::vector<FlvVideoTag> flvVideoTags(const std::filesystem::path& file) {
  const std::string data = readFile(file);
  std::vector<FlvVideoTag> out;
  if (data.size() < 13 || data.compare(0, 3, "FLV") != 0) return out;
  auto u8 = [&](std::size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(data[i])); };
  std::size_t pos = (u8(5) << 24 | u8(6) << 16 | u8(7) << 8 | u8(8)) + 4;
  while (pos + 11 <= data.size()) {
    const uint32_t type = u8(pos) & 0x1f;
    const uint32_t size = u8(pos + 1) << 16 | u8(pos + 2) << 8 | u8(pos + 3);
    if (pos + 11 + size > data.size()) break;  // a tag cut short: not counted
    if (type == 9 && size >= 2) {
      out.push_back({static_cast<int>(u8(pos + 11) >> 4), static_cast<int>(u8(pos + 12)), size});
    }
    pos += 11 + size + 4;
  }
  return out;
}

// ---- frame counting over the same content at source and endpoint ---------------------------------------------
struct SpanCount {
  bool found = false;
  std::size_t source = 0, endpoint = 0;  // packets from the first to the last matched packet, inclusive
  std::size_t unmatched = 0;             // endpoint packets in that span without a source counterpart
  int64_t sourceSpanMs = 0;              // source dts span covered
  std::string describe() const {
    return "source " + std::to_string(source) + ", endpoint " + std::to_string(endpoint) + " (" +
           std::to_string(unmatched) + " unmatched) over " + std::to_string(sourceSpanMs) + " ms";
  }
};

// Aligns the endpoint on the source by payload-size sequence (the relay rebases timestamps), takes the endpoint
// packets that arrived in [fromUs, toUs], and counts source and endpoint packets between the same two matched frames.
SpanCount countOverSpan(const std::vector<ProbePacket>& source, const std::vector<ProbePacket>& endpoint, MediaKind kind,
                        int64_t fromUs, int64_t toUs) {
  SpanCount c;
  const auto s = PacketAnalysis::ofKind(source, kind);
  const auto e = PacketAnalysis::ofKind(endpoint, kind);
  const auto matches = PacketMatcher::match(source, endpoint, kind, 8);
  const PacketMatch* first = nullptr;
  const PacketMatch* last = nullptr;
  for (const auto& m : matches) {
    const int64_t at = e[m.endpointIndex].arrivalUs;
    if (at < fromUs || at > toUs) continue;
    if (!first) first = &m;
    last = &m;
  }
  if (!first || last == first) return c;
  c.found = true;
  c.source = last->sourceIndex - first->sourceIndex + 1;
  c.endpoint = last->endpointIndex - first->endpointIndex + 1;
  std::size_t matched = 0;
  for (const auto& m : matches) matched += m.endpointIndex >= first->endpointIndex && m.endpointIndex <= last->endpointIndex;
  c.unmatched = c.endpoint - matched;
  c.sourceSpanMs = s[last->sourceIndex].dtsMs - s[first->sourceIndex].dtsMs;
  return c;
}

void expectSameStream(const ProbeStreamInfo* source, const ProbeStreamInfo* endpoint, const std::string& what) {
  ASSERT_TRUE(source && endpoint) << what << ": stream missing at " << (source ? "endpoint" : "source");
  EXPECT_EQ(endpoint->codecName, source->codecName) << what;
  EXPECT_EQ(endpoint->profile, source->profile) << what;
  EXPECT_EQ(endpoint->width, source->width) << what;
  EXPECT_EQ(endpoint->height, source->height) << what;
  EXPECT_EQ(endpoint->sampleRate, source->sampleRate) << what;
  EXPECT_EQ(endpoint->channels, source->channels) << what;
  EXPECT_FALSE(source->extradata.empty()) << what;
  EXPECT_EQ(endpoint->extradata, source->extradata) << what << ": extradata (SPS/PPS, AudioSpecificConfig) changed";
}

void expectSameFfprobeStream(const FfprobeStream* clip, const FfprobeStream* recorded, const std::string& what) {
  ASSERT_TRUE(clip && recorded) << what << ": stream missing";
  EXPECT_EQ(recorded->codecName, clip->codecName) << what;
  EXPECT_EQ(recorded->profile, clip->profile) << what;
  EXPECT_EQ(recorded->width, clip->width) << what;
  EXPECT_EQ(recorded->height, clip->height) << what;
  EXPECT_EQ(recorded->sampleRate, clip->sampleRate) << what;
  EXPECT_EQ(recorded->channels, clip->channels) << what;
  EXPECT_GT(clip->extradataSize, 0) << what;
  EXPECT_EQ(recorded->extradataSize, clip->extradataSize) << what;
  EXPECT_EQ(recorded->extradataHash, clip->extradataHash) << what;
}

// ==============================================================================================================
// 1. Codec copy, nothing lost
// ==============================================================================================================

TEST(RelayDelivery, TwoVenuesToFourOutputsKeepCodecParametersAndEveryFrameOver30Seconds) {
  const auto clipA = TestClip::standard();  // 640x360, 1 s GOP
  const auto clipB = TestClip::hd720();     // 1280x720: a different SPS, so a crossed venue would show
  NginxRtmp source({NginxApp{"venue"}});
  source.start();
  NginxRtmp forum({recordingApp("forum")});
  NginxRtmp platform({recordingApp("forum")});
  forum.start();
  platform.start();

  StreamProbe atSourceA(source.rtmpUrl("venue", "a"));
  StreamProbe atSourceB(source.rtmpUrl("venue", "b"));
  atSourceA.start();
  atSourceB.start();

  struct Route {
    std::string id, venue;
    NginxRtmp* endpoint;
    std::unique_ptr<StreamProbe> probe;
  };
  std::vector<Route> routes;
  routes.push_back({"forum-a", "a", &forum, nullptr});
  routes.push_back({"platform-a", "a", &platform, nullptr});
  routes.push_back({"forum-b", "b", &forum, nullptr});
  routes.push_back({"platform-b", "b", &platform, nullptr});
  VenuecastConfig config;
  config.venues = {{"a", source.rtmpUrl("venue", "a")}, {"b", source.rtmpUrl("venue", "b")}};
  for (auto& r : routes) {
    StreamProbe::Options o{r.endpoint->rtmpUrl("forum", r.venue)};
    o.rwTimeout = 10s;  // idle until the relay publishes
    r.probe = std::make_unique<StreamProbe>(o);
    r.probe->start();
    config.outputs.push_back({r.id, r.venue, r.endpoint->rtmpUrl("forum"), r.venue});
  }

  FfmpegPublisher publisherA(clipA.path, source.rtmpUrl("venue", "a"));
  FfmpegPublisher publisherB(clipB.path, source.rtmpUrl("venue", "b"));
  VenuecastProcess relay(config);
  relay.start({}, "info");
  FailureDump dump;
  dump.add(source, "source nginx").add(forum, "forum nginx").add(platform, "platform nginx");
  dump.add(publisherA.process(), "ffmpeg a").add(publisherB.process(), "ffmpeg b").add(relay.process(), "venuecast");

  // 30 s counted from 1 s after each endpoint's first frame; wait for 31.5 s of arrivals everywhere.
  const auto deadline = Clock::now() + 50s;
  for (auto& r : routes) {
    const bool enough = r.probe->waitUntil(
        [](const std::vector<ProbePacket>& ps) {
          const ProbePacket* first = nullptr;
          for (const auto& p : ps) {
            if (p.kind != MediaKind::Video) continue;
            if (!first) first = &p;
            if (p.arrivalUs - first->arrivalUs >= 31'500'000) return true;
          }
          return false;
        },
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
    ASSERT_TRUE(enough) << r.id << ": " << r.probe->packetCount() << " packets so far";
  }
  const auto sourceA = atSourceA.packets();
  const auto sourceB = atSourceB.packets();

  for (auto& r : routes) {
    const auto& src = r.venue == "a" ? sourceA : sourceB;
    const auto& srcProbe = r.venue == "a" ? atSourceA : atSourceB;
    const auto ep = r.probe->packets();
    const int64_t from = PacketAnalysis::ofKind(ep, MediaKind::Video).front().arrivalUs + 1'000'000;
    const int64_t to = from + 30'000'000;
    for (auto kind : {MediaKind::Video, MediaKind::Audio}) {
      const auto count = countOverSpan(src, ep, kind, from, to);
      const std::string what = r.id + " " + toString(kind);
      ASSERT_TRUE(count.found) << what << ": endpoint packets could not be aligned on the source";
      std::cout << "[ figures  ] " << what << ": " << count.describe() << "\n";
      const double perSecond = kind == MediaKind::Video ? 30.0 : 48000.0 / 1024;
      EXPECT_GE(static_cast<double>(count.source), 29.5 * perSecond) << what << ": the span must cover ~30 s";
      EXPECT_LE(std::abs(static_cast<double>(count.endpoint) - static_cast<double>(count.source)),
                0.01 * static_cast<double>(count.source))
          << what << ": " << count.describe();
    }
    // Codec parameters as libavformat sees them at both ends, extradata byte for byte.
    ASSERT_EQ(r.probe->connectCount(), 1) << r.id << ": the endpoint stream was interrupted";
    const auto srcSession = srcProbe.sessions().front();
    const auto epSession = r.probe->sessions().front();
    expectSameStream(srcSession.stream(MediaKind::Video), epSession.stream(MediaKind::Video), r.id + " video");
    expectSameStream(srcSession.stream(MediaKind::Audio), epSession.stream(MediaKind::Audio), r.id + " audio");
    // Parameters stay unchanged throughout: no sequence header the source did not send.
    auto headers = [](const std::vector<ProbePacket>& ps) {
      return std::count_if(ps.begin(), ps.end(), [](const auto& p) { return p.newExtradata; });
    };
    std::cout << "[ figures  ] " << r.id << ": in-band sequence headers: source " << headers(src) << ", endpoint "
              << headers(ep) << "\n";
    EXPECT_LE(headers(ep), headers(src)) << r.id << ": in-band sequence headers the source never sent";
  }

  const auto stopped = relay.terminate();
  EXPECT_TRUE(stopped.ok()) << stopped.describe();
  for (auto& r : routes) r.probe->stop();

  // The recordings (nginx `record all`) against the clip files: same codec, profile, size, rate, extradata hash.
  const auto probeA = FfprobeReader::read(clipA.path);
  const auto probeB = FfprobeReader::read(clipB.path);
  ASSERT_TRUE(probeA.ok && probeB.ok) << probeA.error << probeB.error;
  for (auto& r : routes) {
    const auto file = r.endpoint->recordPath("forum", r.venue);
    ASSERT_TRUE(pollUntil([&] { return std::filesystem::exists(file); }, 5s)) << file;
    const auto rec = FfprobeReader::read(file);
    ASSERT_TRUE(rec.ok) << r.id << ": " << rec.error;
    const auto& clip = r.venue == "a" ? probeA : probeB;
    expectSameFfprobeStream(clip.stream("video"), rec.stream("video"), r.id + " recorded video");
    expectSameFfprobeStream(clip.stream("audio"), rec.stream("audio"), r.id + " recorded audio");
  }
}

// ==============================================================================================================
// 4. Fast start from the venue's GOP cache
// ==============================================================================================================

// How an output's endpoint stream began, relative to a reference moment (a venuecast log line).
struct StartFigures {
  bool aligned = false;           // the endpoint's first video frame was found at the source
  bool firstIsVideoKey = false;   // the very first packet the endpoint got is a video keyframe
  int64_t firstVideoDtsMs = -1;   // 0: the probe saw the publish from its start
  int64_t firstAfterRefMs = 0;    // endpoint arrival of its first packet - reference
  bool sourceFrameIsKey = false;
  int64_t keyAgeAtRefMs = 0;      // reference - arrival at the source of the keyframe it started from
  int64_t nextKeyAfterRefMs = 0;  // arrival at the source of the keyframe after that one - reference
  int64_t burstPackets = 0;       // endpoint packets that arrived within 500 ms of its first one
  static constexpr int64_t kNone = INT64_MAX / 1000;
  std::string describe() const {
    std::ostringstream o;
    o << "first packet " << firstAfterRefMs << " ms after the log line, keyframe " << keyAgeAtRefMs
      << " ms old at the log line, next source keyframe "
      << (nextKeyAfterRefMs == kNone ? std::string("not yet there") : "at " + std::to_string(nextKeyAfterRefMs) + " ms")
      << ", " << burstPackets << " packets in the first 500 ms";
    return o.str();
  }
};

StartFigures analyseStart(const std::vector<ProbePacket>& source, const std::vector<ProbePacket>& endpoint, int64_t refUs) {
  StartFigures f;
  if (endpoint.empty()) return f;
  f.firstIsVideoKey = endpoint.front().kind == MediaKind::Video && endpoint.front().key;
  f.firstAfterRefMs = (endpoint.front().arrivalUs - refUs) / 1000;
  for (const auto& p : endpoint) f.burstPackets += p.arrivalUs - endpoint.front().arrivalUs <= 500'000;
  const auto epVideo = PacketAnalysis::ofKind(endpoint, MediaKind::Video);
  const auto srcVideo = PacketAnalysis::ofKind(source, MediaKind::Video);
  if (epVideo.empty()) return f;
  f.firstVideoDtsMs = epVideo.front().dtsMs;
  const auto matches = PacketMatcher::match(source, endpoint, MediaKind::Video, 8);
  if (matches.empty() || matches.front().endpointIndex != 0) return f;
  f.aligned = true;
  const auto k = matches.front().sourceIndex;
  f.sourceFrameIsKey = srcVideo[k].key;
  f.keyAgeAtRefMs = (refUs - srcVideo[k].arrivalUs) / 1000;
  f.nextKeyAfterRefMs = StartFigures::kNone;
  for (auto i = k + 1; i < srcVideo.size(); ++i) {
    if (srcVideo[i].key) {
      f.nextKeyAfterRefMs = (srcVideo[i].arrivalUs - refUs) / 1000;
      break;
    }
  }
  return f;
}

constexpr int64_t kGopMs = 2000;  // ClipSpec{gopFrames = 60} at 30 fps

ClipSpec twoSecondGop() {
  ClipSpec spec;
  spec.gopFrames = 60;
  return spec;
}

// The endpoint got the venue's latest keyframe from the cache, headers first, at once after `publishLine`.
void expectCachedStart(const std::string& what, const std::vector<ProbePacket>& source, const StreamProbe& endpoint,
                       const std::string& publishLine) {
  const auto session = PacketAnalysis::ofSession(endpoint.packets(), 0);
  const auto f = analyseStart(source, session, logLineSteadyUs(publishLine));
  std::cout << "[ figures  ] " << what << ": " << f.describe() << "\n";
  ASSERT_GE(f.firstVideoDtsMs, 0) << what;
  ASSERT_LE(f.firstVideoDtsMs, 40) << what << ": precondition: the probe must be playing before the relay publishes";
  EXPECT_TRUE(f.firstIsVideoKey) << what << ": the first packet must be a video keyframe";
  ASSERT_TRUE(f.aligned) << what << ": the first frame was not found at the source";
  EXPECT_TRUE(f.sourceFrameIsKey) << what;
  EXPECT_LT(f.firstAfterRefMs, kGopMs / 2) << what << ": must start at once, not a GOP later. " << f.describe();
  EXPECT_GE(f.keyAgeAtRefMs, -100) << what << ": started on a keyframe that came after it published. " << f.describe();
  EXPECT_LE(f.keyAgeAtRefMs, kGopMs + 500) << what << ": the cached keyframe is stale. " << f.describe();
  EXPECT_GT(f.nextKeyAfterRefMs, -500) << what << ": a newer keyframe was available. " << f.describe();

  std::smatch m;
  static const std::regex cachedRe(R"(starting from the cached keyframe \((\d+) packets, (\d+) ms old\))");
  ASSERT_TRUE(std::regex_search(publishLine, m, cachedRe)) << what << ": " << publishLine;
  const int cachedPackets = std::stoi(m[1]);
  const int cachedAgeMs = std::stoi(m[2]);
  EXPECT_GE(cachedPackets, 1) << publishLine;
  EXPECT_NEAR(cachedAgeMs, f.keyAgeAtRefMs, 300) << what << ": the logged age disagrees with the source. " << publishLine;
  // The cached GOP goes out in one burst (not paced), so the endpoint catches up with live at once.
  EXPECT_GE(f.burstPackets, cachedPackets * 9 / 10) << what << ": " << f.describe();

  // Codec headers first: libavformat found every parameter before the first frame.
  const auto sessions = endpoint.sessions();
  ASSERT_FALSE(sessions.empty());
  const auto* v = sessions.front().stream(MediaKind::Video);
  const auto* a = sessions.front().stream(MediaKind::Audio);
  ASSERT_TRUE(v && a) << what;
  EXPECT_EQ(v->codecName, "h264");
  EXPECT_EQ(v->width, 640);
  EXPECT_FALSE(v->extradata.empty()) << what << ": no AVC sequence header before the frames";
  EXPECT_EQ(a->sampleRate, 48000);
  EXPECT_FALSE(a->extradata.empty()) << what << ": no AAC sequence header before the frames";
}

TEST(RelayFastStart, ReconnectedOutputStartsAtOnceFromTheCachedKeyframeWithCodecHeadersFirst) {
  const auto clip = TestClip::get(twoSecondGop());
  NginxRtmp source({NginxApp{"venue"}});
  source.start();
  NginxRtmp endpoint({recordingApp("forum")});
  endpoint.start();
  StreamProbe atSource(source.rtmpUrl("venue", "a"));
  atSource.start();
  FfmpegPublisher publisher(clip.path, source.rtmpUrl("venue", "a"));
  VenuecastConfig config;
  config.venues = {{"a", source.rtmpUrl("venue", "a")}};
  config.outputs = {{"forum-a", "a", endpoint.rtmpUrl("forum"), "a"}};
  VenuecastProcess relay(config);
  relay.start();
  FailureDump dump;
  dump.add(source, "source nginx").add(endpoint, "endpoint nginx").add(publisher.process(), "ffmpeg");
  dump.add(relay.process(), "venuecast");

  ASSERT_TRUE(relay.waitForLog(literal("output forum-a: live: publishing"), 20s));
  ASSERT_TRUE(atSource.waitForPackets(120, 15s, MediaKind::Video));

  // The endpoint goes away and comes back on the same port; a player is waiting there before the relay returns
  // (the relay's first retry is >= 0.4 s away), so it sees the new publish from its first packet.
  const auto offset = relay.process().logSize();
  endpoint.restart();
  StreamProbe::Options o{endpoint.rtmpUrl("forum", "a")};
  o.retryDelay = 20ms;
  o.rwTimeout = 10s;
  StreamProbe atEndpoint(o);
  atEndpoint.start();
  EXPECT_TRUE(relay.waitForLog(literal("output forum-a: ", ".*; retrying"), 10s, offset)) << "the output never noticed";
  // The debug line marks the moment the endpoint accepted the publish ("live" follows once it holds).
  const auto line = relay.waitForLog(literal("output forum-a: publish accepted"), 15s, offset);
  ASSERT_TRUE(line) << "the output did not reconnect";
  ASSERT_TRUE(atEndpoint.waitForPackets(90, 15s, MediaKind::Video));
  expectCachedStart("reconnected forum-a", atSource.packets(), atEndpoint, *line);

  const auto stopped = relay.terminate();
  EXPECT_TRUE(stopped.ok()) << stopped.describe();
  atEndpoint.stop();
  // The recording of the new session (record_unique off: the restart truncated it) starts with the headers and a
  // keyframe, and decodes without a single error.
  const auto file = endpoint.recordPath("forum", "a");
  ASSERT_TRUE(pollUntil([&] { return !endpoint.accessLog().empty(); }, 5s));
  const auto tags = flvVideoTags(file);
  ASSERT_GE(tags.size(), 2u) << file;
  EXPECT_EQ(tags[0].avcPacketType, 0) << "the first video tag must be the AVC sequence header";
  EXPECT_EQ(tags[1].frameType, 1) << "the first frame must be a keyframe";
  EXPECT_EQ(tags[1].avcPacketType, 1);
  const auto rec = FfprobeReader::read(file);
  ASSERT_TRUE(rec.ok) << rec.error;
  ASSERT_NE(rec.stream("video"), nullptr);
  EXPECT_EQ(rec.stream("video")->extradataHash, clip.videoExtradataHash);
  const auto decode = FfprobeReader::decodeCheck(file);
  EXPECT_TRUE(decode.ok()) << decode.exitCode << ": " << decode.stderrText;
}

TEST(RelayFastStart, OutputsOfAnAlreadyLiveVenueStartOnItsLatestKeyframeAsSoonAsTheyConnect) {
  const auto clip = TestClip::get(twoSecondGop());
  NginxRtmp source({NginxApp{"venue"}});
  source.start();
  StreamProbe atSource(source.rtmpUrl("venue", "a"));
  atSource.start();
  FfmpegPublisher publisher(clip.path, source.rtmpUrl("venue", "a"));
  ASSERT_TRUE(atSource.waitForPackets(45, 15s, MediaKind::Video)) << "the venue must be live before venuecast starts";

  NginxRtmp early({NginxApp{"forum"}});
  early.start();
  NginxRtmp late({NginxApp{"forum"}});
  late.start();
  late.stop();  // its port is known; it comes up while the venue is being relayed
  StreamProbe::Options o{early.rtmpUrl("forum", "a")};
  o.rwTimeout = 15s;
  StreamProbe atEarly(o);
  atEarly.start();

  VenuecastConfig config;
  config.venues = {{"a", source.rtmpUrl("venue", "a")}};
  config.outputs = {{"early-a", "a", early.rtmpUrl("forum"), "a"}, {"late-a", "a", late.rtmpUrl("forum"), "a"}};
  VenuecastProcess relay(config);
  relay.start();
  FailureDump dump;
  dump.add(source, "source nginx").add(early, "early nginx").add(late, "late nginx");
  dump.add(publisher.process(), "ffmpeg").add(relay.process(), "venuecast");

  // early-a: subscribed before the source was up, so it starts on the keyframe the venue came up with.
  const auto venueLine = relay.waitForLog(literal("venue a: live"), 20s);
  ASSERT_TRUE(venueLine);
  ASSERT_TRUE(relay.waitForLog(literal("output early-a: live: publishing"), 10s));
  ASSERT_TRUE(atEarly.waitForPackets(30, 10s, MediaKind::Video));
  const auto f = analyseStart(atSource.packets(), PacketAnalysis::ofSession(atEarly.packets(), 0),
                              logLineSteadyUs(*venueLine));
  std::cout << "[ figures  ] early-a vs the venue's live line: " << f.describe() << "\n";
  EXPECT_TRUE(f.firstIsVideoKey);
  EXPECT_LE(f.firstVideoDtsMs, 40);
  ASSERT_TRUE(f.aligned);
  EXPECT_TRUE(f.sourceFrameIsKey);
  EXPECT_LT(f.firstAfterRefMs, kGopMs / 2) << "the output must start as soon as the venue is up: " << f.describe();
  EXPECT_GE(f.keyAgeAtRefMs, -100) << "the output skipped the keyframe the venue came up with: " << f.describe();

  // late-a: its endpoint appears while the venue is live; its next attempt must start from the cached keyframe.
  std::this_thread::sleep_for(1000ms);
  const auto offset = relay.process().logSize();
  late.restart();
  StreamProbe::Options lo{late.rtmpUrl("forum", "a")};
  lo.retryDelay = 20ms;
  lo.rwTimeout = 15s;
  StreamProbe atLate(lo);
  atLate.start();
  const auto lateLine = relay.waitForLog(literal("output late-a: publish accepted"), 15s, offset);
  ASSERT_TRUE(lateLine) << "late-a never connected";
  ASSERT_TRUE(atLate.waitForPackets(60, 10s, MediaKind::Video));
  expectCachedStart("late-a", atSource.packets(), atLate, *lateLine);
  const auto stopped = relay.terminate();
  EXPECT_TRUE(stopped.ok()) << stopped.describe();
}

// ==============================================================================================================
// 6. Push URLs as OBS builds them; rtmps://
// ==============================================================================================================

TEST(RelayUrls, BilibiliKeysPlainKeysAndFullUrlsReachNginxExactlyAsObsWouldPublishThem) {
  const auto clip = TestClip::standard();
  NginxRtmp source({NginxApp{"venue"}});
  source.start();
  NginxRtmp one({NginxApp{"live-bvc"}, NginxApp{"forum"}});
  NginxRtmp two({NginxApp{"live-bvc"}, NginxApp{"forum"}});
  one.start();
  two.start();
  FfmpegPublisher publisher(clip.path, source.rtmpUrl("venue", "a"));
  const std::string keyOne = "?streamname=live_123_456&key=0123abcd&schedule=rtmp&pflag=1";
  const std::string keyTwo = "?streamname=live_123_789&key=4567cdef&schedule=rtmp&pflag=1";
  VenuecastConfig config;
  config.venues = {{"a", source.rtmpUrl("venue", "a")}};
  config.outputs = {
      {"bili-slash", "a", hostPort(one.rtmpPort()) + "/live-bvc/", keyOne},   // as Bilibili shows the server
      {"bili-no-slash", "a", hostPort(two.rtmpPort()) + "/live-bvc", keyTwo},  // trailing '/' left out
      {"forum-key", "a", hostPort(one.rtmpPort()) + "/forum", "chengdu"},      // plain server + key
      {"forum-url", "a", hostPort(two.rtmpPort()) + "/forum/shenzhen", std::nullopt},  // full URL, no key
  };
  VenuecastProcess relay(config);
  relay.start();
  FailureDump dump;
  dump.add(source, "source nginx").add(one, "nginx one").add(two, "nginx two");
  dump.add(publisher.process(), "ffmpeg").add(relay.process(), "venuecast");

  for (const auto& out : config.outputs) {
    ASSERT_TRUE(relay.waitForLog(literal("output " + out.id + ": live: publishing"), 20s)) << out.id;
  }
  ASSERT_TRUE(one.waitForPublishing("forum", "chengdu", 5s));
  ASSERT_TRUE(two.waitForPublishing("forum", "shenzhen", 5s));
  std::this_thread::sleep_for(1500ms);  // some media through every output
  const auto stopped = relay.terminate();
  EXPECT_TRUE(stopped.ok()) << stopped.describe();

  // nginx-rtmp writes an access-log line when a session ends: app, name, args and tcUrl exactly as received.
  struct Expected {
    NginxRtmp* nginx;
    std::string app, name, args;
  };
  const std::vector<Expected> expected = {
      {&one, "live-bvc", "", keyOne.substr(1)},
      {&two, "live-bvc", "", keyTwo.substr(1)},
      {&one, "forum", "chengdu", ""},
      {&two, "forum", "shenzhen", ""},
  };
  for (const auto& e : expected) {
    const std::string what = e.app + "/" + e.name + " on port " + std::to_string(e.nginx->rtmpPort());
    std::vector<NginxAccessEntry> found;
    pollUntil([&] {
      found.clear();
      for (const auto& a : e.nginx->accessLog())
        if (a.command == "PUBLISH" && a.app == e.app) found.push_back(a);
      return !found.empty();
    }, 5s);
    ASSERT_EQ(found.size(), 1u) << what << ": exactly one publish session expected\n" << e.nginx->accessLogText();
    EXPECT_EQ(found[0].name, e.name) << what;
    EXPECT_EQ(found[0].args, e.args) << what;
    EXPECT_EQ(found[0].tcurl, hostPort(e.nginx->rtmpPort()) + "/" + e.app) << what;
    EXPECT_GT(found[0].bytesReceived, 100'000) << what << ": media must have flowed";
    // The publish command itself, from the info log (while the session was live).
    int publishes = 0;
    for (const auto& p : e.nginx->publishEvents()) {
      if (p.app != e.app) continue;
      ++publishes;
      EXPECT_EQ(p.name, e.name) << what;
      EXPECT_EQ(p.args, e.args) << what;
    }
    EXPECT_EQ(publishes, 1) << what;
  }
}

// A self-signed endpoint certificate: rejected by default (system CA store), accepted with ca_file, or unchecked
// with tls_verify: false. socat terminates TLS in front of nginx.
TEST(RelayUrls, RtmpsVerifiesTheCertificateByDefaultTrustsCaFileAndSkipsVerificationOnlyWhenTlsVerifyIsFalse) {
  const auto clip = TestClip::standard();
  NginxRtmp source({NginxApp{"venue"}});
  source.start();
  NginxRtmp endpoint({NginxApp{"forum"}});
  endpoint.start();
  TlsProxy tls(endpoint.rtmpPort());
  tls.start();
  FfmpegPublisher publisher(clip.path, source.rtmpUrl("venue", "a"));
  const std::string server = "rtmps://127.0.0.1:" + std::to_string(tls.port()) + "/forum";
  const std::string yaml =
      "venues:\n"
      "  - id: a\n"
      "    url: \"" + source.rtmpUrl("venue", "a") + "\"\n"
      "outputs:\n"
      "  - id: tls-default\n"
      "    venue: a\n"
      "    url: \"" + server + "\"\n"
      "    key: verify-default\n"
      "  - id: tls-ca-file\n"
      "    venue: a\n"
      "    url: \"" + server + "\"\n"
      "    key: with-ca-file\n"
      "    ca_file: endpoint-ca.pem\n"
      "  - id: tls-no-verify\n"
      "    venue: a\n"
      "    url: \"" + server + "\"\n"
      "    key: no-verify\n"
      "    tls_verify: false\n";
  VenuecastProcess relay(yaml);
  std::filesystem::copy_file(tls.certFile(), relay.dir() / "endpoint-ca.pem");  // relative to the config file
  relay.start();
  FailureDump dump;
  dump.add(source, "source nginx").add(endpoint, "endpoint nginx").add(publisher.process(), "ffmpeg");
  dump.add("socat", [&] { return tls.logText(); }).add(relay.process(), "venuecast");

  EXPECT_TRUE(relay.waitForLog(literal("output tls-ca-file: live: publishing"), 20s));
  EXPECT_TRUE(relay.waitForLog(literal("output tls-no-verify: live: publishing"), 20s));
  EXPECT_TRUE(endpoint.waitForPublishing("forum", "with-ca-file", 5s));
  EXPECT_TRUE(endpoint.waitForPublishing("forum", "no-verify", 5s));
  const auto failure = relay.waitForLog(literal("output tls-default: ", ".*; retrying"), 10s);
  ASSERT_TRUE(failure) << "the unverifiable endpoint was not reported";
  std::cout << "[ figures  ] " << *failure << "\n";
  // libav's own line (debug level) names the cause...
  EXPECT_GE(relay.process().countLogLines(std::regex("libav: .*certificate", std::regex::icase)), 1u);
  // ...but the output's error line is what an operator sees at the default level (info): it must name it too.
  EXPECT_TRUE(std::regex_search(*failure, std::regex("certificate", std::regex::icase)))
      << "the output's error must say that the certificate failed verification: " << *failure;
  std::this_thread::sleep_for(2500ms);  // a few more attempts (0.5 s, 1 s backoff) must fail the same way
  EXPECT_EQ(relay.process().countLogLines(literal("output tls-default: live")), 0u);
  EXPECT_EQ(endpoint.publishCount("forum", "verify-default"), 0) << "an unverified endpoint got the stream";
  EXPECT_FALSE(endpoint.streamStats("forum", "verify-default").publishing);
  const auto ca = endpoint.streamStats("forum", "with-ca-file");
  const auto noVerify = endpoint.streamStats("forum", "no-verify");
  EXPECT_GT(ca.bytesIn, 100'000);
  EXPECT_GT(noVerify.bytesIn, 100'000);
  const auto stopped = relay.terminate();
  EXPECT_TRUE(stopped.ok()) << stopped.describe();
  ASSERT_TRUE(pollUntil([&] { return endpoint.accessLog().size() >= 2; }, 5s));
  for (const auto& a : endpoint.accessLog()) {
    EXPECT_EQ(a.tcurl, server) << a.line;
    EXPECT_NE(a.name, "verify-default") << a.line;
  }
}

// ==============================================================================================================
// 7. Keys stay secret
// ==============================================================================================================

// Whole key, key without '?', and each secret name=value pair and value.
std::vector<std::string> secretPieces(const std::string& key) {
  std::vector<std::string> out{key};
  const std::string body = key.front() == '?' ? key.substr(1) : key;
  out.push_back(body);
  std::size_t start = 0;
  while (start < body.size()) {
    const auto end = std::min(body.find('&', start), body.size());
    const auto pair = body.substr(start, end - start);
    const auto eq = pair.find('=');
    if (eq != std::string::npos) {
      const auto name = pair.substr(0, eq);
      if (name == "streamname" || name == "key") {
        out.push_back(pair);
        out.push_back(pair.substr(eq + 1));
      }
    }
    start = end + 1;
  }
  return out;
}

void expectNoSecret(const std::string& text, const std::vector<std::string>& secrets, const std::string& where) {
  for (const auto& s : secrets) {
    const auto pos = text.find(s);
    if (pos == std::string::npos) continue;
    const auto lineStart = text.rfind('\n', pos) == std::string::npos ? 0 : text.rfind('\n', pos) + 1;
    const auto lineEnd = std::min(text.find('\n', pos), text.size());
    ADD_FAILURE() << where << ": '" << s << "' appears " << countOf(text, s) << " time(s), e.g.\n  "
                  << text.substr(lineStart, lineEnd - lineStart);
  }
}

TEST(RelaySecrets, NoKeyPieceInTraceOrDebugLogsWhetherOutputsPublishAreRefusedCannotConnectOrDrop) {
  const auto clip = TestClip::standard();
  NginxRtmp source({NginxApp{"venue"}});
  source.start();
  FfmpegPublisher publisher(clip.path, source.rtmpUrl("venue", "a"));
  const uint16_t nobody = freePort();  // nothing listens here: connection refused
  NginxRtmp behindTls({NginxApp{"live-bvc"}});
  behindTls.start();
  TlsProxy tls(behindTls.rtmpPort());  // self-signed: fails verification (default tls_verify, no ca_file)
  tls.start();

  struct Run {
    std::string level;
    std::unique_ptr<NginxRtmp> endpoint;
    std::string okKey, refusedKey, unreachableKey, plainKey, urlName, busyKey, venueSecret, inUrlKey, tlsKey;
    std::unique_ptr<FfmpegPublisher> squatter;  // already publishing the stream busy-key pushes to
    std::unique_ptr<VenuecastProcess> relay;
  };
  std::vector<Run> runs(2);
  runs[0].level = "trace";
  runs[1].level = "debug";
  for (std::size_t i = 0; i < runs.size(); ++i) {
    auto& r = runs[i];
    const std::string n = std::to_string(i);
    r.endpoint = std::make_unique<NginxRtmp>(std::vector<NginxApp>{NginxApp{"live-bvc"}, NginxApp{"forum"}});
    r.endpoint->start();
    r.okKey = "?streamname=live_10" + n + "_456&key=0a1b2c3d" + n + "&schedule=rtmp&pflag=1";
    r.refusedKey = "?streamname=live_20" + n + "_456&key=4e5f6a7b" + n + "&schedule=rtmp&pflag=1";
    r.unreachableKey = "?streamname=live_30" + n + "_456&key=8c9d0e1f" + n + "&schedule=rtmp&pflag=1";
    r.plainKey = "plainsecret" + n + "x7q";
    r.urlName = "urlsecret" + n + "k4z";
    r.busyKey = "busysecret" + n + "m2w";
    r.venueSecret = "venuetoken" + n + "p9v";
    r.inUrlKey = "?streamname=live_40" + n + "_456&key=2b3c4d5e" + n + "&schedule=rtmp&pflag=1";
    r.tlsKey = "?streamname=live_50" + n + "_456&key=6f7a8b9c" + n + "&schedule=rtmp&pflag=1";
    const std::string ep = hostPort(r.endpoint->rtmpPort());
    r.squatter = std::make_unique<FfmpegPublisher>(clip.path, r.endpoint->rtmpUrl("forum", r.busyKey));
    ASSERT_TRUE(r.endpoint->waitForPublishing("forum", r.busyKey, 10s));
    VenuecastConfig config;
    // Venue b's pull URL carries a token and names an app nginx does not have: it fails on every attempt.
    config.venues = {{"a", source.rtmpUrl("venue", "a")},
                     {"b", source.rtmpUrl("no-such-app", "b?token=" + r.venueSecret)}};
    config.outputs = {
        {"bili-ok", "a", ep + "/live-bvc/", r.okKey},
        {"bili-refused", "a", ep + "/no-such-app/", r.refusedKey},  // nginx: application not found
        {"bili-unreachable", "a", hostPort(nobody) + "/live-bvc/", r.unreachableKey},
        {"forum-ok", "a", ep + "/forum", r.plainKey},
        {"url-refused", "a", ep + "/no-such-app/" + r.urlName, std::nullopt},
        {"busy-key", "a", ep + "/forum", r.busyKey},  // nginx: "Already publishing"
        {"key-in-url", "a", ep + "/no-such-app/" + r.inUrlKey, std::nullopt},  // a key pasted into the URL
        {"bili-tls", "a", "rtmps://127.0.0.1:" + std::to_string(tls.port()) + "/live-bvc/", r.tlsKey},
    };
    r.relay = std::make_unique<VenuecastProcess>(config);
    r.relay->start({}, r.level);
  }
  FailureDump dump;
  dump.add(source, "source nginx").add(publisher.process(), "ffmpeg").add("socat", [&] { return tls.logText(); });
  for (auto& r : runs) {
    dump.add(*r.endpoint, r.level + " endpoint").add(r.squatter->process(), "squatter " + r.level);
    dump.add(r.relay->process(), "venuecast " + r.level);
  }

  for (auto& r : runs) {
    for (const char* id : {"bili-ok", "forum-ok"})
      ASSERT_TRUE(r.relay->waitForLog(literal("output " + std::string(id) + ": live: publishing"), 20s)) << id;
    for (const char* id : {"output bili-refused", "output bili-unreachable", "output url-refused", "output busy-key",
                           "output key-in-url", "output bili-tls", "venue b"})
      ASSERT_TRUE(r.relay->waitForLog(literal(std::string(id) + ": ", ".*; retrying"), 10s)) << id;
  }
  // The publishing outputs fail too: their endpoint goes away under them, and comes back.
  std::vector<std::size_t> offsets;
  for (auto& r : runs) offsets.push_back(r.relay->process().logSize());
  for (auto& r : runs) r.endpoint->restart();
  for (std::size_t i = 0; i < runs.size(); ++i) {
    auto& r = runs[i];
    EXPECT_TRUE(r.relay->waitForLog(literal("output bili-ok: ", ".*; retrying"), 10s, offsets[i]));
    EXPECT_TRUE(r.relay->waitForLog(literal("output bili-ok: live: publishing"), 15s, offsets[i]));
    EXPECT_TRUE(r.relay->waitForLog(literal("output forum-ok: live: publishing"), 15s, offsets[i]));
  }
  for (auto& r : runs) {
    const auto st = r.relay->terminate();
    EXPECT_TRUE(st.ok()) << r.level << ": " << st.describe();
  }

  for (auto& r : runs) {
    // The keys were really used: nginx saw them.
    bool okSeen = false, plainSeen = false;
    for (const auto& p : r.endpoint->publishEvents()) {
      okSeen |= p.app == "live-bvc" && p.args == r.okKey.substr(1);
      plainSeen |= p.app == "forum" && p.name == r.plainKey;
    }
    EXPECT_TRUE(okSeen && plainSeen) << r.level << ": the test keys did not reach nginx";
    const auto log = r.relay->logText();
    EXPECT_GT(countOf(log, "libav:"), 0u) << r.level << ": libav's own lines must be in a " << r.level << " log";
    std::vector<std::string> secrets;
    for (const auto* key : {&r.okKey, &r.refusedKey, &r.unreachableKey, &r.inUrlKey, &r.tlsKey}) {
      auto pieces = secretPieces(*key);
      secrets.insert(secrets.end(), pieces.begin(), pieces.end());
    }
    secrets.push_back(r.plainKey);
    secrets.push_back(r.urlName);
    secrets.push_back(r.busyKey);
    secrets.push_back(r.venueSecret);
    expectNoSecret(log, secrets, "venuecast --log-level " + r.level);
  }
}

TEST(RelaySecrets, CheckPrintsNoKeyPieceForAValidConfigNorForErrorsInFieldsHoldingAKey) {
  ASSERT_TRUE(VenuecastProcess::binaryAvailable());
  TempDir dir("venuecast-check");
  const std::string envKey = "?streamname=live_555_666&key=c0ffee99&schedule=rtmp&pflag=1";
  const std::string literalKey = "?streamname=live_777_888&key=feedface&schedule=rtmp&pflag=1";
  const std::string plainKey = "forumsecret42";
  const std::string urlName = "urlsecret42";
  const std::vector<std::pair<std::string, std::string>> env = {
      {"VC_BILI_KEY", envKey}, {"VC_BILI_KEY_NEWLINE", envKey + "\n"}};
  auto check = [&](const std::string& name, const std::string& yaml, std::vector<std::string> extraArgs = {}) {
    const auto file = dir.file(name + ".yaml");
    writeFile(file, yaml);
    std::vector<std::string> argv{VenuecastProcess::binary().string(), "check", file.string()};
    argv.insert(argv.begin() + 1, extraArgs.begin(), extraArgs.end());
    ChildProcess p({argv, env, dir.file(name + ".out"), {}, dir.path()});
    auto st = p.waitExit(10s);
    if (!st) st = p.terminate();
    return std::make_pair(*st, p.logText());
  };
  std::vector<std::string> secrets = secretPieces(envKey);
  for (auto& s : secretPieces(literalKey)) secrets.push_back(s);
  secrets.push_back(plainKey);
  secrets.push_back(urlName);

  const std::string valid =
      "venues:\n"
      "  - id: chengdu\n"
      "    url: rtmp://127.0.0.1:1935/venue/chengdu\n"
      "outputs:\n"
      "  - id: bili-env\n"
      "    venue: chengdu\n"
      "    url: rtmp://live-push.bilivideo.com/live-bvc/\n"
      "    key: ${VC_BILI_KEY}\n"
      "  - id: bili-literal\n"
      "    venue: chengdu\n"
      "    url: rtmps://live-push.bilivideo.com:443/live-bvc\n"
      "    key: \"" + literalKey + "\"\n"
      "  - id: forum-key\n"
      "    venue: chengdu\n"
      "    url: rtmp://127.0.0.1:1936/forum\n"
      "    key: " + plainKey + "\n"
      "  - id: forum-url\n"
      "    venue: chengdu\n"
      "    url: rtmp://127.0.0.1:1937/forum/" + urlName + "\n";
  const auto [validStatus, validOut] = check("valid", valid);
  std::cout << "[ figures  ] check of a valid config:\n" << validOut;
  EXPECT_TRUE(validStatus.ok()) << validStatus.describe() << "\n" << validOut;
  EXPECT_NE(validOut.find("bili-literal"), std::string::npos) << "the plan must list the outputs";
  EXPECT_GE(countOf(validOut, "****"), 4u) << "keys are shown as ****";
  expectNoSecret(validOut, secrets, "check (valid config)");

  // Every output below has a key in a field that fails validation (or a key that is itself invalid).
  const std::string invalid =
      "venues:\n"
      "  - id: chengdu\n"
      "    url: rtmp://127.0.0.1:1935/venue/chengdu\n"
      "outputs:\n"
      "  - id: key-in-venue\n"                      // unknown venue '<key>'
      "    venue: ${VC_BILI_KEY}\n"
      "    url: rtmp://127.0.0.1:1936/forum\n"
      "    key: a\n"
      "  - id: ${VC_BILI_KEY}\n"                    // bad output id '<key>'
      "    venue: chengdu\n"
      "    url: rtmp://127.0.0.1:1936/forum\n"
      "    key: b\n"
      "  - id: key-with-newline\n"                  // stream key contains whitespace
      "    venue: chengdu\n"
      "    url: rtmp://live-push.bilivideo.com/live-bvc/\n"
      "    key: ${VC_BILI_KEY_NEWLINE}\n"
      "  - id: key-in-url\n"                        // not a URL
      "    venue: chengdu\n"
      "    url: ${VC_BILI_KEY}\n"
      "  - id: literal-key\n"
      "    venue: chengdu\n"
      "    url: rtmp://live-push.bilivideo.com/live-bvc/\n"
      "    key: \"" + literalKey + "\"\n"
      "    tls_verify: \"" + literalKey + "\"\n"  // bool expected, got '<key>'
      "  - id: literal-in-venue\n"                  // unknown venue '<the same literal key>'
      "    venue: \"" + literalKey + "\"\n"
      "    url: rtmp://127.0.0.1:1936/forum\n"
      "    key: c\n"
      "  - id: bad-scheme-url\n"                    // unsupported scheme, URL with the stream name in it
      "    venue: chengdu\n"
      "    url: rtmpx://127.0.0.1:1937/forum/" + urlName + "\n"
      "  - id: plain-key-tls-on-rtmp\n"             // tls_verify on rtmp://
      "    venue: chengdu\n"
      "    url: rtmp://127.0.0.1:1936/forum\n"
      "    key: " + plainKey + "\n"
      "    tls_verify: true\n";
  const auto [invalidStatus, invalidOut] = check("invalid", invalid);
  std::cout << "[ figures  ] check of an invalid config:\n" << invalidOut;
  EXPECT_TRUE(invalidStatus.exited && invalidStatus.exitCode == 1) << invalidStatus.describe();
  for (const char* field : {"outputs[0].venue", "outputs[1].id", "outputs[2].key", "outputs[3].url",
                            "outputs[4].tls_verify", "outputs[5].venue", "outputs[6].url", "outputs[7].tls_verify"}) {
    EXPECT_NE(invalidOut.find(field), std::string::npos) << "no error reported for " << field;
  }
  expectNoSecret(invalidOut, secrets, "check (invalid config)");
  const auto [traceStatus, traceOut] = check("invalid-trace", invalid, {"--log-level", "trace"});
  EXPECT_EQ(traceStatus.exitCode, 1);
  expectNoSecret(traceOut, secrets, "check --log-level trace (invalid config)");

  // `run` refuses the same file before connecting anywhere, with the same discretion.
  const auto runFile = dir.file("invalid.yaml");
  ChildProcess run({{VenuecastProcess::binary().string(), "--log-level", "trace", "run", runFile.string()}, env,
                    dir.file("run.out"), {}, dir.path()});
  auto runStatus = run.waitExit(10s);
  if (!runStatus) runStatus = run.terminate();
  EXPECT_TRUE(runStatus->exited && runStatus->exitCode == 1) << runStatus->describe();
  expectNoSecret(run.logText(), secrets, "run (invalid config)");
}

// ==============================================================================================================
// 9. Graceful stop
// ==============================================================================================================

// Two venues x three outputs over two endpoint nginx (all recording), plus optional venues that never come up.
// A TCP port that accepts connections (kernel backlog) but never answers: an RTMP peer that hangs mid-handshake.
class SilentListener {
 public:
  SilentListener() {
    for (int attempt = 0; attempt < 20 && fd_ < 0; ++attempt) {
      port_ = freePort();
      int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(port_);
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(fd, 16) == 0) {
        fd_ = fd;
      } else {
        ::close(fd);
      }
    }
    if (fd_ < 0) throw std::runtime_error("SilentListener: cannot bind");
  }
  ~SilentListener() { ::close(fd_); }
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

// The largest send queue (bytes not yet acknowledged, /proc/net/tcp tx_queue) among established IPv4 connections to
// 127.0.0.1:port: a sender whose queue is large and does not move is blocked in a write.
int64_t sendQueueTo(uint16_t port) {
  char suffix[8];
  std::snprintf(suffix, sizeof suffix, ":%04X", port);
  std::ifstream in("/proc/net/tcp");
  std::string line;
  std::getline(in, line);  // header
  int64_t largest = -1;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state, queues;
    fields >> slot >> local >> remote >> state >> queues;
    if (state != "01" || remote.size() < 5 || remote.compare(remote.size() - 5, 5, suffix) != 0) continue;
    largest = std::max<int64_t>(largest, std::stoll(queues.substr(0, queues.find(':')), nullptr, 16));
  }
  return largest;
}

// Waits until a connection to `port` has >= 64 KB unacknowledged that stays put for 300 ms; returns that size, or 0.
int64_t waitForBlockedSender(uint16_t port, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  int64_t last = -1;
  int steady = 0;
  while (Clock::now() < deadline) {
    const int64_t q = sendQueueTo(port);
    steady = q >= 65536 && q == last ? steady + 1 : 0;
    if (steady >= 3) return q;
    last = q;
    std::this_thread::sleep_for(100ms);
  }
  return 0;
}

class StopRig {
 public:
  struct Output {
    std::string id, venue;
    NginxRtmp* endpoint;
    std::string app;
  };

  StopRig() {
    source.start();
    one.start();
    two.start();
    publisherA = std::make_unique<FfmpegPublisher>(clipA.path, source.rtmpUrl("venue", "a"));
    publisherB = std::make_unique<FfmpegPublisher>(clipB.path, source.rtmpUrl("venue", "b"));
    outputs = {{"a-forum", "a", &one, "forum"}, {"a-backup", "a", &one, "backup"}, {"a-two", "a", &two, "forum"},
               {"b-forum", "b", &one, "forum"}, {"b-backup", "b", &one, "backup"}, {"b-two", "b", &two, "forum"}};
    config.venues = {{"a", source.rtmpUrl("venue", "a")}, {"b", source.rtmpUrl("venue", "b")}};
    for (const auto& o : outputs) config.outputs.push_back({o.id, o.venue, o.endpoint->rtmpUrl(o.app), o.venue});
  }

  void startRelay() {
    relay = std::make_unique<VenuecastProcess>(config);
    relay->start();
    dump.add(source, "source nginx").add(one, "nginx one").add(two, "nginx two");
    dump.add(publisherA->process(), "ffmpeg a").add(publisherB->process(), "ffmpeg b");
    dump.add(relay->process(), "venuecast");
  }

  // Every output publishing and at least `flowing` of media recorded on each.
  bool waitAllFlowing(std::chrono::milliseconds flowing) {
    for (const auto& o : outputs) {
      if (!relay->waitForLog(literal("output " + o.id + ": live: publishing"), 20s)) {
        ADD_FAILURE() << o.id << " never went live";
        return false;
      }
    }
    std::this_thread::sleep_for(flowing);
    for (const auto& o : outputs) {
      if (!o.endpoint->streamStats(o.app, o.venue).publishing) {
        ADD_FAILURE() << o.id << ": nginx does not show it publishing";
        return false;
      }
    }
    return true;
  }

  // Sends `sig`, waits up to 5 s; returns the status and how long the exit took.
  std::pair<std::optional<ExitStatus>, std::chrono::milliseconds> signalAndWait(int sig) {
    const auto t0 = Clock::now();
    relay->process().signal(sig);
    auto st = relay->waitExit(5s);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0);
    if (!st) relay->terminate(1s);
    return {st, took};
  }

  void expectExitedCleanly(const std::pair<std::optional<ExitStatus>, std::chrono::milliseconds>& r, const char* what) {
    ASSERT_TRUE(r.first) << what << ": still running 5 s after the signal";
    EXPECT_TRUE(r.first->ok()) << what << ": " << r.first->describe();
    EXPECT_LT(r.second, 3000ms) << what << ": exit took " << r.second.count() << " ms";
    std::cout << "[ figures  ] " << what << ": exit " << (r.first->ok() ? "0" : r.first->describe()) << " after "
              << r.second.count() << " ms\n";
    const auto log = relay->logText();
    EXPECT_NE(log.find("closing every output"), std::string::npos) << what;
    EXPECT_NE(log.rfind("stopped\n"), std::string::npos) << what << ": no final 'stopped' line";
  }

  // nginx saw the publisher close the RTMP stream itself (deleteStream before the TCP close), the access log has the
  // session, /stat no longer lists it as publishing, and the recording ends with flvenc's trailer (AVC end of
  // sequence) and decodes without an error.
  void expectClosedCleanly(const Output& o) {
    const std::string what = o.id + " (" + o.app + "/" + o.venue + ")";
    std::vector<PublisherSession> sessions;
    const bool ended = pollUntil([&] {
      sessions.clear();
      for (const auto& s : publisherSessions(o.endpoint->errorLogText()))
        if (s.app == o.app && s.name == o.venue) sessions.push_back(s);
      return !sessions.empty() && sessions.back().disconnected;
    }, 5s);
    ASSERT_TRUE(ended) << what << ": nginx never saw the publisher disconnect";
    EXPECT_EQ(sessions.size(), 1u) << what << ": the output reconnected during the run";
    EXPECT_TRUE(sessions.back().closedByClient) << what << ": no RTMP deleteStream before the connection closed";
    EXPECT_TRUE(pollUntil([&] {
      for (const auto& a : o.endpoint->accessLog())
        if (a.command == "PUBLISH" && a.app == o.app && a.name == o.venue) return true;
      return false;
    }, 3s)) << what << ": no access-log entry for the publish session";
    EXPECT_FALSE(o.endpoint->streamStats(o.app, o.venue).publishing) << what;
    const auto file = o.endpoint->recordPath(o.app, o.venue);
    const auto tags = flvVideoTags(file);
    ASSERT_FALSE(tags.empty()) << what << ": nothing recorded";
    EXPECT_EQ(tags.back().avcPacketType, 2) << what << ": the recording does not end with the FLV trailer's AVC "
                                            << "end-of-sequence tag (" << tags.size() << " video tags)";
    const auto decode = FfprobeReader::decodeCheck(file);
    EXPECT_TRUE(decode.ok()) << what << ": " << decode.exitCode << " " << decode.stderrText;
  }

  TestClip clipA = TestClip::standard();
  TestClip clipB = TestClip::hd720();
  NginxRtmp source{{NginxApp{"venue"}}};
  NginxRtmp one{{recordingApp("forum"), recordingApp("backup")}};
  NginxRtmp two{{recordingApp("forum")}};
  std::unique_ptr<FfmpegPublisher> publisherA, publisherB;
  std::vector<Output> outputs;
  VenuecastConfig config;
  std::unique_ptr<VenuecastProcess> relay;
  FailureDump dump;  // last: dumps before the rest goes away
};

TEST(RelayStop, SigtermDuringFullFlowExitsZeroWithin3sAndClosesAllSixOutputsCleanly) {
  StopRig rig;
  rig.startRelay();
  ASSERT_TRUE(rig.waitAllFlowing(2s));
  rig.expectExitedCleanly(rig.signalAndWait(SIGTERM), "SIGTERM");
  for (const auto& o : rig.outputs) rig.expectClosedCleanly(o);
}

TEST(RelayStop, SigintDuringFullFlowExitsZeroWithin3sAndClosesAllSixOutputsCleanly) {
  StopRig rig;
  rig.startRelay();
  ASSERT_TRUE(rig.waitAllFlowing(2s));
  rig.expectExitedCleanly(rig.signalAndWait(SIGINT), "SIGINT");
  for (const auto& o : rig.outputs) rig.expectClosedCleanly(o);
}

// nginx two is frozen (SIGSTOP); the signal arrives while an output's write to it is blocked (its send queue is full
// and nothing is acknowledged), before the output's own 3 s stall watchdog would end that write.
TEST(RelayStop, SigtermWithAStalledEndpointStillExitsZeroWithin3sAndClosesTheOtherOutputsCleanly) {
  StopRig rig;
  rig.startRelay();
  ASSERT_TRUE(rig.waitAllFlowing(0s));
  // Frozen at once, before TCP autotuning has grown nginx's receive buffer (tcp_rmem allows 32 MB here, which would
  // absorb a minute of media): the faster output's send buffer fills within seconds and its write blocks.
  ASSERT_TRUE(rig.two.suspend());
  const auto t0 = Clock::now();
  const auto blocked = waitForBlockedSender(rig.two.rtmpPort(), 30s);
  ASSERT_GT(blocked, 0) << "precondition: no output to the frozen nginx got blocked in a write within 30 s";
  std::cout << "[ figures  ] a write to the frozen endpoint blocked after "
            << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count() << " ms with "
            << blocked << " bytes unacknowledged\n";
  const auto exit = rig.signalAndWait(SIGTERM);
  rig.two.resume();
  rig.expectExitedCleanly(exit, "SIGTERM with a stalled endpoint");
  for (const auto& o : rig.outputs)
    if (o.endpoint != &rig.two) rig.expectClosedCleanly(o);
}

// Venue c is published by nobody (the RTMP play waits in nginx); venue d's server accepts TCP and never answers the
// handshake. Both are opening when the signal arrives; their outputs are waiting for them.
TEST(RelayStop, SigintWhileTwoVenueSourcesAreStillOpeningExitsZeroWithin3s) {
  StopRig rig;
  SilentListener silent;
  rig.config.venues.push_back({"c", rig.source.rtmpUrl("venue", "c")});
  rig.config.venues.push_back({"d", hostPort(silent.port()) + "/venue/d"});
  rig.config.outputs.push_back({"c-forum", "c", rig.one.rtmpUrl("forum"), "c"});
  rig.config.outputs.push_back({"d-forum", "d", rig.one.rtmpUrl("forum"), "d"});
  rig.startRelay();
  ASSERT_TRUE(rig.waitAllFlowing(1500ms));
  EXPECT_TRUE(rig.relay->waitForLog(literal("output c-forum: waiting for venue c"), 1s));
  EXPECT_TRUE(rig.relay->waitForLog(literal("output d-forum: waiting for venue d"), 1s));
  EXPECT_EQ(rig.relay->process().countLogLines(std::regex("venue [cd]: (live|.*retrying)")), 0u)
      << "venues c and d must still be opening";
  rig.expectExitedCleanly(rig.signalAndWait(SIGINT), "SIGINT with two venues opening");
  for (const auto& o : rig.outputs) rig.expectClosedCleanly(o);
}

}  // namespace
}  // namespace venuecast::testing
