// Resilience of the relay against real peers (nginx-rtmp, ffmpeg, raw RTMP publishers, junk TCP servers):
//   RelayIndependence  one endpoint that refuses, dies, is dropped or stalls (SIGSTOP) never delays or drops a
//                      packet of any other output; memory stays bounded while an endpoint stalls; the stalled
//                      output comes back on a keyframe.
//   RelayReconnect     sources and endpoints are retried forever with growing (jittered exponential) backoff and
//                      one log line per state change; a venue that is not up yet is waited for; SIGTERM while a
//                      source and an endpoint are stalled exits 0 within 3 s.
//   RelayBadInput      junk TCP sources, corrupt FLV, codecs FLV cannot carry and a missing endpoint app: one clear
//                      line each, retried, nothing else disturbed, no crash.
// Healthy flows are judged against a StreamProbe on the *source*: the same packets (matched by size sequence) must
// reach the healthy endpoint, with no arrival gap > 1 s and the same delay as before the trouble. A starved output
// (what ffmpeg's tee does when one output stalls) stops for 5-10 s, so these margins are wide on a loaded machine
// and still catch the real failure.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/failure_dump.h"
#include "support/ffmpeg_publisher.h"
#include "support/free_port.h"
#include "support/nginx_rtmp.h"
#include "support/packet_analysis.h"
#include "support/packet_matcher.h"
#include "support/poll_until.h"
#include "support/raw_rtmp_publisher.h"
#include "support/stream_probe.h"
#include "support/test_clip.h"
#include "support/venuecast_process.h"

namespace venuecast::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// ---- venuecast's log ---------------------------------------------------------------------------------------------

// "2024-05-01 14:00:00.123 warn  output x: ..." (spdlog pattern "%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %v").
struct LogLine {
  int64_t ms = 0;     // wall clock of the line, ms (only differences are meaningful)
  std::string level;  // trace, debug, info, warning, error, critical
  std::string text;   // the message
  bool quiet() const { return level == "debug" || level == "trace"; }
};

int64_t daysFromCivil(int y, unsigned m, unsigned d) {  // H. Hinnant's algorithm
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097LL + static_cast<int64_t>(doe) - 719468;
}

// The log lines in text[from, to).
std::vector<LogLine> parseLog(const std::string& text, std::size_t from = 0, std::size_t to = std::string::npos) {
  static const std::regex re(R"(^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{3}) (\w+) +(.*)$)");
  std::vector<LogLine> out;
  std::istringstream in(text.substr(std::min(from, text.size()), to == std::string::npos ? std::string::npos : to - from));
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (!std::regex_match(line, m, re)) continue;
    LogLine l;
    const int64_t days = daysFromCivil(std::stoi(m[1]), std::stoul(m[2]), std::stoul(m[3]));
    l.ms = (((days * 24 + std::stoll(m[4])) * 60 + std::stoll(m[5])) * 60 + std::stoll(m[6])) * 1000 + std::stoll(m[7]);
    l.level = m[8];
    l.text = m[9];
    out.push_back(std::move(l));
  }
  return out;
}

// Lines whose message starts with `subject` ("venue a:", "output a-live:"); debug/trace only if asked.
std::vector<LogLine> linesAbout(const std::vector<LogLine>& lines, const std::string& subject, bool withQuiet = false) {
  std::vector<LogLine> out;
  for (const auto& l : lines)
    if (l.text.rfind(subject + ":", 0) == 0 && (withQuiet || !l.quiet())) out.push_back(l);
  return out;
}

std::string joinLines(const std::vector<LogLine>& lines) {
  std::string s;
  for (const auto& l : lines) s += "    " + l.level + " " + l.text + "\n";
  return s.empty() ? "    (none)\n" : s;
}

// A debug-level retry line: "<subject>: <error> (attempt N, retry in M ms)".
struct RetryLine {
  int64_t ms = 0;
  int attempt = 0;
  int64_t retryInMs = 0;
};

std::vector<RetryLine> retryLines(const std::vector<LogLine>& lines, const std::string& subject) {
  static const std::regex re(R"(\(attempt (\d+), retry in (\d+) ms\)$)");
  std::vector<RetryLine> out;
  for (const auto& l : linesAbout(lines, subject, true)) {
    std::smatch m;
    if (l.quiet() && std::regex_search(l.text, m, re)) out.push_back({l.ms, std::stoi(m[1]), std::stoll(m[2])});
  }
  return out;
}

std::string describeRetries(const std::vector<RetryLine>& r) {
  std::ostringstream s;
  for (std::size_t i = 0; i < r.size(); ++i) {
    s << "#" << r[i].attempt << " retry-in " << r[i].retryInMs << " ms";
    if (i > 0) s << " (" << r[i].ms - r[i - 1].ms << " ms after the previous)";
    s << "; ";
  }
  return s.str();
}

// ---- process figures ---------------------------------------------------------------------------------------------

// VmRSS of `pid` in KiB (-1 if unreadable).
long vmRssKiB(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(f, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

// ---- healthy-flow figures ----------------------------------------------------------------------------------------

struct FlowStats {
  std::size_t sourcePackets = 0;    // source packets that arrived in [from, to)
  std::size_t endpointPackets = 0;  // endpoint packets that arrived in [from, to) + the baseline delay
  std::size_t matched = 0;          // source packets of the window that reached the endpoint
  int64_t endpointMaxGapMs = 0;     // largest arrival gap at the endpoint over the window
  int64_t sourceMaxGapMs = 0;       // the same at the source (for context)
  DelayStats delay;                 // endpoint arrival - source arrival, over the matched packets of the window
  std::set<int> endpointSessions;   // probe sessions seen at the endpoint in the window
  double seconds = 0;

  std::string describe() const {
    std::ostringstream s;
    s << seconds << " s: source " << sourcePackets << " packets, endpoint " << endpointPackets << ", matched "
      << matched << "; max gap endpoint " << endpointMaxGapMs << " ms (source " << sourceMaxGapMs
      << " ms); delay median " << delay.medianUs / 1000 << " ms, p95 " << delay.p95Us / 1000 << " ms, max "
      << delay.maxUs / 1000 << " ms; endpoint sessions " << endpointSessions.size();
    return s.str();
  }
};

FlowStats measureFlow(const std::vector<ProbePacket>& source, const std::vector<ProbePacket>& endpoint, int64_t fromUs,
                      int64_t toUs, int64_t shiftUs) {
  FlowStats f;
  f.seconds = (toUs - fromUs) / 1e6;
  const auto srcNear = PacketAnalysis::arrivedBetween(source, fromUs - 3'000'000, toUs + 3'000'000);
  const auto epNear = PacketAnalysis::arrivedBetween(endpoint, fromUs - 3'000'000, toUs + 4'000'000);
  const auto srcWin = PacketAnalysis::arrivedBetween(source, fromUs, toUs);
  const auto epWin = PacketAnalysis::arrivedBetween(endpoint, fromUs + shiftUs, toUs + shiftUs);
  f.sourcePackets = srcWin.size();
  f.endpointPackets = epWin.size();
  f.sourceMaxGapMs = PacketAnalysis::maxArrivalGapMs(srcWin);
  // Gaps over [from, to + shift], including the edges (the last packet before / first after the window).
  std::vector<ProbePacket> epSpan;
  for (const auto& p : endpoint) {
    if (p.arrivalUs < fromUs) {
      epSpan.assign(1, p);
      continue;
    }
    epSpan.push_back(p);
    if (p.arrivalUs >= toUs + shiftUs) break;
  }
  f.endpointMaxGapMs = PacketAnalysis::maxArrivalGapMs(epSpan);
  if (!epSpan.empty() && epSpan.back().arrivalUs < toUs + shiftUs)  // nothing arrived at all after the last packet
    f.endpointMaxGapMs = std::max<int64_t>(f.endpointMaxGapMs, (toUs + shiftUs - epSpan.back().arrivalUs) / 1000);
  if (epSpan.empty()) f.endpointMaxGapMs = (toUs - fromUs) / 1000;
  for (const auto& p : epWin) f.endpointSessions.insert(p.session);
  std::vector<PacketMatch> inWindow;
  for (MediaKind kind : {MediaKind::Video, MediaKind::Audio}) {
    const auto s = PacketAnalysis::ofKind(srcNear, kind);
    for (const auto& m : PacketMatcher::match(srcNear, epNear, kind))
      if (s[m.sourceIndex].arrivalUs >= fromUs && s[m.sourceIndex].arrivalUs < toUs) inWindow.push_back(m);
  }
  f.matched = inWindow.size();
  f.delay = PacketMatcher::delayStats(inWindow);
  return f;
}

// The criteria of "never delays or drops a packet of any other output".
void expectUndisturbed(const FlowStats& f, const DelayStats& baseline, const std::string& what) {
  std::cout << "[ figures  ] " << what << ": " << f.describe() << " (baseline delay median "
            << baseline.medianUs / 1000 << " ms)\n";
  ASSERT_GT(f.sourcePackets, 100u) << what << ": the source itself did not flow";
  EXPECT_LT(f.endpointMaxGapMs, 1000) << what << ": an arrival gap > 1 s";
  EXPECT_GE(f.matched * 100, f.sourcePackets * 99) << what << ": source packets missing at the endpoint";
  EXPECT_LE(std::abs(static_cast<double>(f.endpointPackets) - static_cast<double>(f.sourcePackets)),
            f.sourcePackets * 0.01)
      << what << ": packet counts differ by more than 1%";
  EXPECT_LT(f.delay.medianUs, baseline.medianUs + 150'000) << what << ": delay behind the source grew";
  EXPECT_LT(f.delay.maxUs, 1'000'000) << what << ": a packet was held up for a second or more";
  EXPECT_EQ(f.endpointSessions.size(), 1u) << what << ": the healthy output was republished";
}

DelayStats baselineDelay(const StreamProbe& source, const StreamProbe& endpoint, int64_t fromUs, int64_t toUs) {
  return measureFlow(source.packets(), endpoint.packets(), fromUs, toUs, 0).delay;
}

// ---- peers -------------------------------------------------------------------------------------------------------

OutputSpec outputTo(const std::string& id, const std::string& venue, const NginxRtmp& nginx,
                    const std::string& app = "forum") {
  return {id, venue, "rtmp://127.0.0.1:" + std::to_string(nginx.rtmpPort()) + "/" + app, id};
}

StreamProbe::Options probeOptions(std::string url, std::chrono::milliseconds rwTimeout = 5000ms) {
  StreamProbe::Options o;
  o.url = std::move(url);
  o.rwTimeout = rwTimeout;
  o.maxAttempts = 1000;
  return o;
}

ClipSpec highRateSpec() {
  ClipSpec s;
  s.videoKbps = 4000;  // fills an endpoint's socket buffers within a second or two once it stops reading
  return s;
}

int64_t nowUs() { return StreamProbe::nowUs(); }

void sleepUntilUs(int64_t us) {
  const int64_t d = us - nowUs();
  if (d > 0) std::this_thread::sleep_for(std::chrono::microseconds(d));
}

// A TCP server on 127.0.0.1 that speaks no RTMP. Garbage: reads what the client sends first (its C0+C1), answers
// with 8 KiB of random-looking bytes (the same every time, so the relay's error is the same every time), holds the
// connection for a second and closes. CloseAtOnce: accepts and resets the connection at once.
class JunkServer {
 public:
  enum class Mode { Garbage, CloseAtOnce };

  explicit JunkServer(Mode mode) : mode_(mode) {
    for (int attempt = 0; attempt < 20 && fd_ < 0; ++attempt) {
      const uint16_t port = freePort();
      const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd < 0) continue;
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(port);
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(fd, 16) == 0) {
        fd_ = fd;
        port_ = port;
      } else {
        ::close(fd);
      }
    }
    if (fd_ < 0) throw std::runtime_error("JunkServer: cannot bind a free port");
    std::mt19937 rng(20211023);
    junk_.resize(8192);
    for (auto& b : junk_) b = static_cast<uint8_t>(rng());
    junk_[0] = 0x47;  // not 3 (RTMP), nor 6/8 (RTMPE)
    thread_ = std::thread([this] { run(); });
  }
  ~JunkServer() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  JunkServer(const JunkServer&) = delete;
  JunkServer& operator=(const JunkServer&) = delete;

  uint16_t port() const { return port_; }
  int accepted() const { return accepted_.load(); }
  std::string url(const std::string& name) const {
    return "rtmp://127.0.0.1:" + std::to_string(port_) + "/venue/" + name;
  }

 private:
  void run() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (c < 0) continue;
      ++accepted_;
      if (mode_ == Mode::CloseAtOnce) {
        linger l{1, 0};
        ::setsockopt(c, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        ::close(c);
        continue;
      }
      readFor(c, 1537, 1000ms);
      std::size_t sent = 0;
      const auto deadline = Clock::now() + 1s;
      while (sent < junk_.size() && Clock::now() < deadline && !stop_) {
        const ssize_t n = ::send(c, junk_.data() + sent, junk_.size() - sent, MSG_NOSIGNAL);
        if (n > 0) sent += static_cast<std::size_t>(n);
        else if (n < 0 && errno != EAGAIN && errno != EINTR) break;
        else std::this_thread::sleep_for(5ms);
      }
      readFor(c, SIZE_MAX, 1000ms);  // hold the connection (until the client gives up, at most 1 s)
      ::close(c);
    }
  }
  // Reads up to `want` bytes or until EOF / `limit`.
  void readFor(int c, std::size_t want, std::chrono::milliseconds limit) {
    const auto deadline = Clock::now() + limit;
    std::size_t got = 0;
    char buf[4096];
    while (got < want && !stop_) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return;
      pollfd p{c, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 100))) <= 0) continue;
      const ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) return;
      got += static_cast<std::size_t>(n);
    }
  }

  Mode mode_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::vector<uint8_t> junk_;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

// A RawRtmpPublisher on its own thread, re-publishing (after a short pause) whenever a session ends, until
// destroyed. `session` runs one connected session and returns when it is over (or *stop).
class RawPublisherLoop {
 public:
  using Session = std::function<void(RawRtmpPublisher&, std::atomic<bool>& stop)>;
  RawPublisherLoop(RawRtmpPublisher::Options options, Session session)
      : options_(std::move(options)), session_(std::move(session)) {
    thread_ = std::thread([this] { run(); });
  }
  ~RawPublisherLoop() {
    stop_ = true;
    thread_.join();
  }
  int sessions() const { return sessions_.load(); }
  std::string lastError() const {
    std::lock_guard lock(mu_);
    return lastError_;
  }

 private:
  void run() {
    while (!stop_) {
      {
        RawRtmpPublisher pub(options_);
        std::string error;
        if (pub.connect(&error)) {
          ++sessions_;
          session_(pub, stop_);
          error = pub.lastError();
        }
        std::lock_guard lock(mu_);
        lastError_ = error;
      }
      for (int i = 0; i < 5 && !stop_; ++i) std::this_thread::sleep_for(100ms);
    }
  }
  RawRtmpPublisher::Options options_;
  Session session_;
  std::atomic<bool> stop_{false};
  std::atomic<int> sessions_{0};
  mutable std::mutex mu_;
  std::string lastError_;
  std::thread thread_;
};

RawRtmpPublisher::Options rawOptions(const NginxRtmp& nginx, const std::string& name) {
  RawRtmpPublisher::Options o;
  o.port = nginx.rtmpPort();
  o.app = "venue";
  o.streamName = name;
  return o;
}

std::vector<uint8_t> randomBytes(std::mt19937& rng, std::size_t n) {
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

// Waits (bounded) for the relay's process to have logged a line matching `re` after byte `from`; returns the
// steady-clock time (µs) it was seen, or nullopt.
std::optional<int64_t> waitLogged(VenuecastProcess& relay, const std::string& re, std::chrono::milliseconds timeout,
                                  std::size_t from) {
  if (relay.waitForLog(std::regex(re), timeout, from)) return nowUs();
  return std::nullopt;
}

void expectCleanStop(VenuecastProcess& relay) {
  ASSERT_TRUE(relay.running()) << "venuecast died:\n" << relay.logText();
  const ExitStatus st = relay.terminate(5s);
  std::cout << "[ figures  ] SIGTERM -> " << st.describe() << "\n";
  EXPECT_TRUE(st.ok()) << st.describe();
  EXPECT_FALSE(st.killed);
  EXPECT_LT(st.elapsed, 3s);
}

// =================================================================================================================
// RelayIndependence
// =================================================================================================================

// One endpoint stops reading (SIGSTOP of its nginx for 20 s) while carrying a 4 Mbit/s venue. The sibling output of
// the same venue, and another venue's output, must not notice; venuecast's memory must stay bounded (the stalled
// output's queue is capped at 5 s, dropping whole GOPs); the stall is reported within ~10 s, the drops are reported
// as a total, and after SIGCONT the output reconnects and starts again on a keyframe.
TEST(RelayIndependence, StalledEndpointStarvesNoOneAndMemoryStaysBounded) {
  const TestClip hi = TestClip::get(highRateSpec());
  const TestClip standard = TestClip::standard();
  NginxRtmp source({NginxApp{"venue"}});
  // The stalled endpoint keeps its player across publisher sessions (no UnpublishNotify) and sends it every frame
  // (wait_key off), so the probe sees exactly what the relay sends first after reconnecting.
  NginxApp stallApp{"forum"};
  stallApp.publishNotify = false;
  stallApp.extraDirectives = {"wait_key off;"};
  NginxRtmp stalled({stallApp});
  NginxRtmp healthyA({NginxApp{"forum"}});
  NginxRtmp healthyB({NginxApp{"forum"}});
  for (auto* n : {&source, &stalled, &healthyA, &healthyB}) n->start();

  StreamProbe srcA(probeOptions(source.rtmpUrl("venue", "a")));
  StreamProbe srcB(probeOptions(source.rtmpUrl("venue", "b")));
  StreamProbe epA(probeOptions(healthyA.rtmpUrl("forum", "a-live")));
  StreamProbe epB(probeOptions(healthyB.rtmpUrl("forum", "b-live")));
  StreamProbe epStall(probeOptions(stalled.rtmpUrl("forum", "a-stall"), 60s));  // outlives the 20 s stall
  for (auto* p : {&srcA, &srcB, &epA, &epB, &epStall}) p->start();
  FfmpegPublisher pubA(hi.path, source.rtmpUrl("venue", "a"));
  FfmpegPublisher pubB(standard.path, source.rtmpUrl("venue", "b"));

  VenuecastConfig config;
  config.venues = {{"a", source.rtmpUrl("venue", "a")}, {"b", source.rtmpUrl("venue", "b")}};
  config.outputs = {outputTo("a-stall", "a", stalled), outputTo("a-live", "a", healthyA),
                    outputTo("b-live", "b", healthyB)};
  VenuecastProcess relay(config);
  relay.start();
  FailureDump dump;
  dump.add(relay.process(), "venuecast").add(source, "source nginx").add(stalled, "stalled nginx");
  dump.add(pubA.process(), "ffmpeg a");

  for (auto* p : {&epA, &epB, &epStall})
    ASSERT_TRUE(p->waitForPackets(90, 25s, MediaKind::Video)) << "no relayed stream (" << p->packetCount() << ")";
  std::this_thread::sleep_for(3s);  // steady state, and a baseline delay
  const int64_t baselineFrom = nowUs() - 3'000'000;
  const long rssBefore = vmRssKiB(relay.process().pid());
  ASSERT_GT(rssBefore, 0);

  // ---- the stall ----
  const std::size_t logAtStall = relay.process().logSize();
  const int64_t stallAt = nowUs();
  ASSERT_TRUE(stalled.suspend());
  long rssMax = rssBefore;
  std::optional<int64_t> stallSeenAt;
  std::optional<std::string> dropLine;
  const std::regex stallRe(R"(output a-stall: .*(stall|timed out|no progress))");
  const std::regex dropRe(R"(output a-stall: endpoint too slow, dropped (\d+) packets)");
  while (nowUs() < stallAt + 20'000'000) {
    rssMax = std::max(rssMax, vmRssKiB(relay.process().pid()));
    const std::string log = relay.logText().substr(logAtStall);
    if (!stallSeenAt && std::regex_search(log, stallRe)) stallSeenAt = nowUs();
    std::this_thread::sleep_for(250ms);
  }
  const long rssStalled = vmRssKiB(relay.process().pid());
  const std::size_t logAtResume = relay.process().logSize();
  const int64_t resumeAt = nowUs();
  ASSERT_TRUE(stalled.resume());

  // ---- back: the stalled output republishes, starting on a keyframe ----
  const auto liveAgain = waitLogged(relay, R"(output a-stall: live: publishing)", 20s, logAtResume);
  EXPECT_TRUE(liveAgain) << "the stalled output did not publish again after SIGCONT";
  EXPECT_TRUE(pollUntil([&] { return stalled.publishCount("forum", "a-stall") >= 2; }, 10s))
      << "publish commands at the stalled endpoint: " << stalled.publishCount("forum", "a-stall");
  // The relay restarts its output timeline at 0, so its new session is where the endpoint's video dts falls back.
  std::optional<ProbePacket> firstOfNewSession;
  const bool resumed = epStall.waitUntil(
      [&](const std::vector<ProbePacket>& ps) {
        int64_t lastDts = kNoTimestamp;
        std::size_t after = 0;
        firstOfNewSession.reset();
        for (const auto& p : ps) {
          if (p.kind != MediaKind::Video || p.dtsMs == kNoTimestamp) continue;
          if (!firstOfNewSession && p.arrivalUs >= resumeAt && lastDts != kNoTimestamp && p.dtsMs < lastDts - 1000)
            firstOfNewSession = p;
          if (firstOfNewSession) ++after;
          lastDts = p.dtsMs;
        }
        return after >= 60;
      },
      20s);
  EXPECT_TRUE(resumed) << "the stalled endpoint got no new session's video after SIGCONT";
  if (firstOfNewSession) {
    EXPECT_TRUE(firstOfNewSession->key) << "the republished output must start on a keyframe (dts "
                                        << firstOfNewSession->dtsMs << ")";
    std::cout << "[ figures  ] stalled output: first video packet of its new session arrived "
              << (firstOfNewSession->arrivalUs - resumeAt) / 1000 << " ms after SIGCONT, key="
              << firstOfNewSession->key << ", dts " << firstOfNewSession->dtsMs << " ms\n";
  }
  sleepUntilUs(resumeAt + 4'000'000);  // the window covers the recovery too
  dropLine = relay.waitForLog(dropRe, 6s, logAtStall);

  // ---- verdicts ----
  const int64_t windowTo = nowUs() - 1'000'000;
  const auto baseA = baselineDelay(srcA, epA, baselineFrom, stallAt);
  const auto baseB = baselineDelay(srcB, epB, baselineFrom, stallAt);
  expectUndisturbed(measureFlow(srcA.packets(), epA.packets(), stallAt, windowTo, baseA.medianUs), baseA,
                    "a-live (same venue as the stalled output)");
  expectUndisturbed(measureFlow(srcB.packets(), epB.packets(), stallAt, windowTo, baseB.medianUs), baseB,
                    "b-live (other venue)");

  std::cout << "[ figures  ] VmRSS before the stall " << rssBefore / 1024.0 << " MiB, max during it "
            << rssMax / 1024.0 << " MiB (growth " << (rssMax - rssBefore) / 1024.0 << " MiB), at its end "
            << rssStalled / 1024.0 << " MiB\n";
  EXPECT_LT(rssMax - rssBefore, 40 * 1024) << "memory grew while an endpoint stalled";

  ASSERT_TRUE(stallSeenAt) << "no line reported the stall:\n" << relay.logText().substr(logAtStall);
  std::cout << "[ figures  ] stall reported " << (*stallSeenAt - stallAt) / 1000 << " ms after SIGSTOP\n";
  EXPECT_LT(*stallSeenAt - stallAt, 10'000'000) << "the stall must be reported within ~10 s";
  ASSERT_TRUE(dropLine) << "no dropped-packet total for the stalled output";
  std::smatch m;
  ASSERT_TRUE(std::regex_search(*dropLine, m, dropRe));
  EXPECT_GT(std::stoll(m[1]), 0);
  std::cout << "[ figures  ] " << *dropLine << "\n";

  const auto lines = parseLog(relay.logText(), logAtStall);
  const auto stallLines = linesAbout(lines, "output a-stall");
  std::cout << "[ figures  ] a-stall lines from SIGSTOP on:\n" << joinLines(stallLines);
  // A stall, at most a different failure while it lasts (connect timed out), live again, and the drop totals.
  std::size_t notDropTotals = 0;
  for (const auto& l : stallLines) notDropTotals += l.text.find("endpoint too slow") == std::string::npos;
  EXPECT_LE(notDropTotals, 4u) << "one line per state change, not per retry";
  for (const char* other : {"output a-live", "output b-live", "venue a", "venue b"})
    EXPECT_TRUE(linesAbout(lines, other).empty()) << other << " logged during the stall:\n"
                                                  << joinLines(linesAbout(lines, other));
  expectCleanStop(relay);
}

// Three more ways an endpoint fails, at once, next to two healthy outputs: one refuses every publish (deny publish),
// one dies (SIGKILL of its nginx) and comes back on the same port 20 s later, one has its publisher dropped by the
// server. The healthy outputs must not notice. Also RelayReconnect (b): the killed endpoint is retried with growing
// delays and only a few log lines, and republished once it is back.
TEST(RelayIndependence, RefusedKilledAndDroppedEndpointsDisturbNoOneAndRecover) {
  const TestClip clip = TestClip::standard();
  NginxRtmp source({NginxApp{"venue"}});
  NginxApp closed{"closed"};
  closed.extraDirectives = {"deny publish all;"};
  NginxRtmp shared({NginxApp{"forum"}, closed});  // healthy outputs, the dropped one and the refusing app
  NginxRtmp doomed({NginxApp{"forum"}});           // killed, restarted on the same port
  for (auto* n : {&source, &shared, &doomed}) n->start();

  StreamProbe srcA(probeOptions(source.rtmpUrl("venue", "a")));
  StreamProbe srcB(probeOptions(source.rtmpUrl("venue", "b")));
  StreamProbe epA(probeOptions(shared.rtmpUrl("forum", "a-live")));
  StreamProbe epB(probeOptions(shared.rtmpUrl("forum", "b-live")));
  StreamProbe epKilled(probeOptions(doomed.rtmpUrl("forum", "a-killed")));
  StreamProbe epDropped(probeOptions(shared.rtmpUrl("forum", "a-dropped")));
  for (auto* p : {&srcA, &srcB, &epA, &epB, &epKilled, &epDropped}) p->start();
  FfmpegPublisher pubA(clip.path, source.rtmpUrl("venue", "a"));
  FfmpegPublisher pubB(clip.path, source.rtmpUrl("venue", "b"));

  VenuecastConfig config;
  config.venues = {{"a", source.rtmpUrl("venue", "a")}, {"b", source.rtmpUrl("venue", "b")}};
  config.outputs = {outputTo("a-live", "a", shared), outputTo("b-live", "b", shared),
                    outputTo("a-refused", "a", shared, "closed"), outputTo("a-killed", "a", doomed),
                    outputTo("a-dropped", "a", shared)};
  VenuecastProcess relay(config);
  relay.start();
  FailureDump dump;
  dump.add(relay.process(), "venuecast").add(shared, "shared endpoint nginx").add(doomed, "killed endpoint nginx");

  for (auto* p : {&epA, &epB, &epKilled, &epDropped})
    ASSERT_TRUE(p->waitForPackets(60, 25s, MediaKind::Video)) << "no relayed stream (" << p->packetCount() << ")";
  std::this_thread::sleep_for(3s);
  const int64_t baselineFrom = nowUs() - 3'000'000;

  // ---- kill one endpoint; drop another's publisher 3 s later ----
  const std::size_t logAtKill = relay.process().logSize();
  const int64_t killAt = nowUs();
  ASSERT_TRUE(doomed.process()->signal(SIGKILL));
  ASSERT_TRUE(pollUntil([&] { return !doomed.running(); }, 5s));
  sleepUntilUs(killAt + 3'000'000);
  const std::size_t logAtDrop = relay.process().logSize();
  const int64_t dropAt = nowUs();
  EXPECT_EQ(shared.dropPublisher("forum", "a-dropped"), 1);
  const auto droppedBack = waitLogged(relay, R"(output a-dropped: live: publishing)", 10s, logAtDrop);
  EXPECT_TRUE(droppedBack) << "the dropped output did not republish";
  if (droppedBack) std::cout << "[ figures  ] dropped output live again " << (*droppedBack - dropAt) / 1000 << " ms after the drop\n";
  EXPECT_TRUE(pollUntil([&] { return shared.publishCount("forum", "a-dropped") >= 2; }, 5s));

  // ---- the killed endpoint returns on the same port ----
  sleepUntilUs(killAt + 20'000'000);
  const std::size_t logAtRestart = relay.process().logSize();
  const int64_t restartAt = nowUs();
  doomed.restart();
  const auto killedBack = waitLogged(relay, R"(output a-killed: live: publishing)", 16s, logAtRestart);
  EXPECT_TRUE(killedBack) << "the killed endpoint's output did not republish after the restart";
  if (killedBack) std::cout << "[ figures  ] killed endpoint's output live again " << (*killedBack - restartAt) / 1000 << " ms after the restart\n";
  const int sessionsBefore = static_cast<int>(epKilled.sessions().size());
  EXPECT_TRUE(epKilled.waitUntil(
      [&](const std::vector<ProbePacket>& ps) {
        return std::count_if(ps.begin(), ps.end(), [&](const ProbePacket& p) {
                 return p.arrivalUs > restartAt && p.kind == MediaKind::Video;
               }) >= 30;
      },
      10s))
      << "the restarted endpoint got no video (probe sessions before the restart: " << sessionsBefore << ")";
  std::this_thread::sleep_for(2s);

  // ---- verdicts ----
  const int64_t windowTo = nowUs() - 1'000'000;
  const auto baseA = baselineDelay(srcA, epA, baselineFrom, killAt);
  const auto baseB = baselineDelay(srcB, epB, baselineFrom, killAt);
  expectUndisturbed(measureFlow(srcA.packets(), epA.packets(), killAt, windowTo, baseA.medianUs), baseA,
                    "a-live (same venue as the failing outputs)");
  expectUndisturbed(measureFlow(srcB.packets(), epB.packets(), killAt, windowTo, baseB.medianUs), baseB,
                    "b-live (other venue)");

  const auto all = parseLog(relay.logText());
  // The refusing endpoint: one line naming the output and the cause, then quiet retries.
  const auto refused = linesAbout(all, "output a-refused");
  std::cout << "[ figures  ] a-refused lines:\n" << joinLines(refused);
  std::vector<LogLine> refusals;
  std::size_t refusedLive = 0;
  for (const auto& l : refused) {
    refusedLive += l.text.find(": live:") != std::string::npos;
    if (l.text.find("waiting for venue") == std::string::npos) refusals.push_back(l);
  }
  EXPECT_EQ(refusedLive, 0u) << "an output whose every publish is refused must never be reported live";
  EXPECT_EQ(refusals.size(), 1u) << "one line for a refusing endpoint, however often it is retried";
  // Retried, with backoff: every attempt is a finished PUBLISH session in the endpoint's access log.
  int refusedAttempts = 0;
  for (const auto& e : shared.accessLog()) refusedAttempts += e.command == "PUBLISH" && e.app == "closed";
  std::cout << "[ figures  ] a-refused: " << refusedAttempts << " publish attempts refused\n";
  EXPECT_GE(refusedAttempts, 4) << "the refusing endpoint must be retried";
  EXPECT_LE(refusedAttempts, 12) << "retried without backoff";

  // The killed endpoint, while it was down: a handful of lines, and attempts spaced further and further apart.
  const auto down = parseLog(relay.logText(), logAtKill, logAtRestart);
  const auto killedLines = linesAbout(down, "output a-killed");
  std::cout << "[ figures  ] a-killed lines while its endpoint was down:\n" << joinLines(killedLines);
  EXPECT_GE(killedLines.size(), 1u) << "losing the endpoint must be logged";
  EXPECT_LE(killedLines.size(), 3u) << "one line per state change, not per retry";
  const auto killedRetries = retryLines(down, "output a-killed");
  std::cout << "[ figures  ] a-killed retries: " << describeRetries(killedRetries) << "\n";
  ASSERT_GE(killedRetries.size(), 3u) << "backoff over 20 s means ~5-6 attempts";
  EXPECT_LE(killedRetries.size(), 8u) << "retried too often for a 0.5 s -> 10 s backoff";
  EXPECT_GE(killedRetries.back().retryInMs, 3 * killedRetries.front().retryInMs) << "the delay must grow";
  const int64_t firstGap = killedRetries[1].ms - killedRetries[0].ms;
  const int64_t lastGap = killedRetries.back().ms - killedRetries[killedRetries.size() - 2].ms;
  EXPECT_GE(lastGap, 2 * firstGap) << "attempts must be spaced further apart";

  const auto droppedLines = linesAbout(parseLog(relay.logText(), logAtDrop, logAtRestart), "output a-dropped");
  std::cout << "[ figures  ] a-dropped lines after the drop:\n" << joinLines(droppedLines);
  EXPECT_LE(droppedLines.size(), 2u);
  expectCleanStop(relay);
}

// =================================================================================================================
// RelayReconnect
// =================================================================================================================

// (c) venuecast starts before anyone publishes: it waits, and goes live when the publisher starts. (a) The publisher
// leaves for 25 s and returns: the output resumes within a few seconds, with at most a couple of lines meanwhile.
// Next to it, a venue on a server that refuses to play unknown streams (idle_streams off) is never published: one
// line for it in ~40 s, and the debug log shows its attempts spaced by a growing delay up to the 10 s cap.
TEST(RelayReconnect, VenueIsWaitedForAndResumesAfterAnOutageWithBackoff) {
  const TestClip clip = TestClip::standard();
  NginxApp strict{"strict"};
  strict.idleStreams = false;
  NginxRtmp source({NginxApp{"venue"}, strict});
  NginxRtmp endpoint({NginxApp{"forum"}});
  source.start();
  endpoint.start();
  StreamProbe ep(probeOptions(endpoint.rtmpUrl("forum", "a-out")));
  ep.start();

  VenuecastConfig config;
  config.venues = {{"a", source.rtmpUrl("venue", "a")}, {"ghost", source.rtmpUrl("strict", "ghost")}};
  config.outputs = {outputTo("a-out", "a", endpoint), outputTo("ghost-out", "ghost", endpoint)};
  VenuecastProcess relay(config);
  relay.start();
  FailureDump dump;
  dump.add(relay.process(), "venuecast").add(source, "source nginx");
  const int64_t relayStartedAt = nowUs();

  // ---- (c) nobody publishes yet ----
  // 8 s: a relay that polled instead of waiting would be ~8 s into its backoff by now (next try at ~15 s).
  EXPECT_TRUE(relay.waitForLog(std::regex(R"(output a-out: waiting for venue a)"), 5s));
  sleepUntilUs(relayStartedAt + 8'000'000);
  EXPECT_TRUE(relay.running());
  EXPECT_EQ(relay.process().countLogLines(std::regex(R"(venue a: live)")), 0u);
  EXPECT_EQ(ep.packetCount(), 0u);
  auto pub = std::make_unique<FfmpegPublisher>(clip.path, source.rtmpUrl("venue", "a"));
  dump.add("ffmpeg", [&pub] { return pub ? pub->logText() : std::string(); });
  const int64_t publishedAt = nowUs();
  ASSERT_TRUE(ep.waitForPackets(1, 15s)) << "the venue was not picked up once its publisher started";
  const int64_t firstArrival = ep.packets().front().arrivalUs - publishedAt;
  std::cout << "[ figures  ] first packet at the endpoint " << firstArrival / 1000 << " ms after the publisher started\n";
  EXPECT_LT(firstArrival, 5'000'000) << "a venue that is not up yet is waited for, not polled every 10 s";
  ASSERT_TRUE(ep.waitForPackets(60, 10s, MediaKind::Video));
  std::this_thread::sleep_for(2s);

  // ---- (a) the publisher leaves for 25 s ----
  const std::size_t logAtStop = relay.process().logSize();
  const int64_t stoppedAt = nowUs();
  pub->stop();
  pub.reset();
  EXPECT_TRUE(relay.waitForLog(std::regex(R"(venue a: .*retrying)"), 8s, logAtStop))
      << "the publisher leaving must be noticed (EOF, error or no data for a few seconds)";
  // Meanwhile: is the relay waiting (connected to the source server as a player of the idle stream, so that it gets
  // the stream the moment it is published again), or polling with gaps of up to 10 s? Sampled from nginx's /stat.
  int samples = 0, waiting = 0;
  while (nowUs() < stoppedAt + 25'000'000) {
    const auto st = NginxStats::parseStream(source.statXml(500ms), "venue", "a");
    ++samples;
    waiting += st.players >= 1;
    std::this_thread::sleep_for(250ms);
  }
  const std::size_t logAtReturn = relay.process().logSize();
  const int64_t returnedAt = nowUs();
  pub = std::make_unique<FfmpegPublisher>(clip.path, source.rtmpUrl("venue", "a"));
  const bool resumed = ep.waitUntil(
      [&](const std::vector<ProbePacket>& ps) {
        return std::count_if(ps.begin(), ps.end(), [&](const ProbePacket& p) {
                 return p.arrivalUs > returnedAt && p.kind == MediaKind::Video;
               }) >= 30;
      },
      15s);
  ASSERT_TRUE(resumed) << "the output did not resume after the venue's publisher came back";
  int64_t resumeUs = 0;
  for (const auto& p : ep.packets())
    if (p.arrivalUs > returnedAt) {
      resumeUs = p.arrivalUs - returnedAt;
      break;
    }
  std::cout << "[ figures  ] endpoint got packets again " << resumeUs / 1000 << " ms after the publisher returned\n";
  EXPECT_LT(resumeUs, 5'000'000) << "the output must resume within a few seconds of the venue's return";

  std::cout << "[ figures  ] during the outage the relay was waiting at the source in " << waiting << " of " << samples
            << " /stat samples\n";
  EXPECT_GE(waiting * 4, samples * 3) << "a venue that is down must be waited for, not polled with long gaps";

  const auto outage = parseLog(relay.logText(), logAtStop, logAtReturn);
  const auto venueLines = linesAbout(outage, "venue a");
  std::cout << "[ figures  ] venue a lines during the 25 s outage:\n" << joinLines(venueLines);
  EXPECT_GE(venueLines.size(), 1u);
  EXPECT_LE(venueLines.size(), 3u) << "at most a couple of lines for an outage, not one per retry";
  const auto outLines = linesAbout(outage, "output a-out");
  std::cout << "[ figures  ] output a-out lines during the outage:\n" << joinLines(outLines);
  EXPECT_LE(outLines.size(), 2u);

  // ---- the venue that never comes: one line, growing retry delays ----
  std::this_thread::sleep_for(std::chrono::microseconds(std::max<int64_t>(0, relayStartedAt + 40'000'000 - nowUs())));
  const auto all = parseLog(relay.logText());
  const auto ghost = linesAbout(all, "venue ghost");
  std::cout << "[ figures  ] venue ghost lines over " << (nowUs() - relayStartedAt) / 1000000 << " s:\n"
            << joinLines(ghost);
  EXPECT_EQ(ghost.size(), 1u) << "a venue that stays down gets one line";
  const auto retries = retryLines(all, "venue ghost");
  std::cout << "[ figures  ] venue ghost retries: " << describeRetries(retries) << "\n";
  ASSERT_GE(retries.size(), 4u) << "retried forever";
  EXPECT_LE(retries.size(), 12u) << "0.5 s doubling to 10 s allows ~7-9 attempts in 40-55 s";
  for (std::size_t i = 1; i < retries.size(); ++i) {
    EXPECT_GE(retries[i].retryInMs, retries[i - 1].retryInMs * 6 / 10) << "delays must not shrink while down";
    EXPECT_LE(retries[i].retryInMs, 12'000) << "cap ~10 s";
  }
  EXPECT_GE(retries.back().retryInMs, 6'000) << "the delay must reach the cap region (10 s)";
  const int64_t firstGap = retries[1].ms - retries[0].ms;
  const int64_t lastGap = retries.back().ms - retries[retries.size() - 2].ms;
  EXPECT_GE(lastGap, 4 * firstGap) << "attempt spacing must grow";
  EXPECT_EQ(linesAbout(all, "output ghost-out").size(), 1u) << joinLines(linesAbout(all, "output ghost-out"));
  expectCleanStop(relay);
}

// (d) SIGTERM while a source and an endpoint are stalled (their nginx SIGSTOPped): no libav call may hold up the
// stop. Two relays: one is stopped 2 s into the stall (a read and a write blocked mid-call), the other 7 s in (the
// stall detected, reconnects blocked in the handshake with a stopped server).
TEST(RelayReconnect, StopWhileSourceAndEndpointAreStalledExitsWithin3s) {
  const TestClip standard = TestClip::standard();
  const TestClip hi = TestClip::get(highRateSpec());
  NginxRtmp stalledSource({NginxApp{"venue"}});
  NginxRtmp liveSource({NginxApp{"venue"}});
  NginxRtmp stalledEndpoint({NginxApp{"forum"}});
  for (auto* n : {&stalledSource, &liveSource, &stalledEndpoint}) n->start();
  FfmpegPublisher pubA(standard.path, stalledSource.rtmpUrl("venue", "a"));
  FfmpegPublisher pubB(hi.path, liveSource.rtmpUrl("venue", "b"));

  std::vector<std::unique_ptr<VenuecastProcess>> relays;
  std::vector<std::unique_ptr<StreamProbe>> probes;
  for (const std::string n : {"1", "2"}) {
    VenuecastConfig config;
    config.venues = {{"a", stalledSource.rtmpUrl("venue", "a")}, {"b", liveSource.rtmpUrl("venue", "b")}};
    config.outputs = {outputTo("a-out" + n, "a", stalledEndpoint), outputTo("b-out" + n, "b", stalledEndpoint)};
    relays.push_back(std::make_unique<VenuecastProcess>(config));
    relays.back()->start();
    for (const std::string v : {"a", "b"}) {
      probes.push_back(std::make_unique<StreamProbe>(probeOptions(stalledEndpoint.rtmpUrl("forum", v + "-out" + n))));
      probes.back()->start();
    }
  }
  FailureDump dump;
  dump.add(relays[0]->process(), "venuecast 1").add(relays[1]->process(), "venuecast 2");
  for (auto& p : probes) ASSERT_TRUE(p->waitForPackets(60, 25s, MediaKind::Video)) << "no relayed stream";
  for (auto& p : probes) p->stop();  // keep the probes out of the stopped endpoint

  const int64_t stallAt = nowUs();
  ASSERT_TRUE(stalledSource.suspend());
  ASSERT_TRUE(stalledEndpoint.suspend());
  for (std::size_t i = 0; i < relays.size(); ++i) {
    sleepUntilUs(stallAt + (i == 0 ? 2'000'000 : 7'000'000));
    std::cout << "[ figures  ] venuecast " << i + 1 << ": SIGTERM " << (nowUs() - stallAt) / 1000
              << " ms into the stall\n";
    expectCleanStop(*relays[i]);
    EXPECT_TRUE(relays[i]->waitForLog(std::regex(R"(\bstopped$)"), 1s)) << relays[i]->logText();
  }
  stalledSource.resume();
  stalledEndpoint.resume();
}

// =================================================================================================================
// RelayBadInput
// =================================================================================================================

// Sources that speak no RTMP (junk bytes; a server that resets at once) and an output whose endpoint app does not
// exist: one line each naming the venue/output and the cause, retried quietly, while a healthy pair keeps flowing.
TEST(RelayBadInput, NonRtmpSourcesAndMissingEndpointAppAreRetriedQuietly) {
  const TestClip clip = TestClip::standard();
  NginxRtmp source({NginxApp{"venue"}});
  NginxRtmp endpoint({NginxApp{"forum"}});
  source.start();
  endpoint.start();
  JunkServer junk(JunkServer::Mode::Garbage);
  JunkServer slam(JunkServer::Mode::CloseAtOnce);
  StreamProbe src(probeOptions(source.rtmpUrl("venue", "good")));
  StreamProbe ep(probeOptions(endpoint.rtmpUrl("forum", "good-out")));
  src.start();
  ep.start();
  FfmpegPublisher pub(clip.path, source.rtmpUrl("venue", "good"));

  VenuecastConfig config;
  config.venues = {{"good", source.rtmpUrl("venue", "good")}, {"junk", junk.url("junk")}, {"slam", slam.url("slam")}};
  config.outputs = {outputTo("good-out", "good", endpoint), outputTo("good-nowhere", "good", endpoint, "nosuchapp"),
                    outputTo("junk-out", "junk", endpoint)};
  VenuecastProcess relay(config);
  relay.start();
  FailureDump dump;
  dump.add(relay.process(), "venuecast").add(endpoint, "endpoint nginx");
  ASSERT_TRUE(ep.waitForPackets(60, 20s, MediaKind::Video));
  std::this_thread::sleep_for(2s);
  const int64_t from = nowUs();
  const auto baseline = baselineDelay(src, ep, from - 2'000'000, from);
  std::this_thread::sleep_for(12s);

  EXPECT_TRUE(relay.running()) << "bad input crashed venuecast";
  const int64_t to = nowUs() - 1'000'000;
  expectUndisturbed(measureFlow(src.packets(), ep.packets(), from, to, baseline.medianUs), baseline, "good-out");
  const auto all = parseLog(relay.logText());
  for (const auto& [subject, server] : {std::pair<std::string, const JunkServer*>{"venue junk", &junk},
                                        std::pair<std::string, const JunkServer*>{"venue slam", &slam}}) {
    const auto lines = linesAbout(all, subject);
    std::cout << "[ figures  ] " << subject << ": " << server->accepted() << " connections; lines:\n"
              << joinLines(lines);
    ASSERT_EQ(lines.size(), 1u) << subject << ": one line, however often it is retried";
    EXPECT_NE(lines[0].level, "info") << lines[0].text;
    EXPECT_NE(lines[0].text.find("retrying"), std::string::npos) << lines[0].text;
    EXPECT_GT(lines[0].text.size(), subject.size() + 20) << "the line must say why: " << lines[0].text;
    EXPECT_GE(server->accepted(), 3) << subject << " must be retried";
    EXPECT_LE(server->accepted(), 12) << subject << " retried without backoff";
  }
  const auto nowhere = linesAbout(all, "output good-nowhere");
  std::cout << "[ figures  ] output good-nowhere lines:\n" << joinLines(nowhere);
  std::vector<LogLine> nowhereFailures;
  for (const auto& l : nowhere)
    if (l.text.find("waiting for venue") == std::string::npos) nowhereFailures.push_back(l);
  ASSERT_EQ(nowhereFailures.size(), 1u) << "one line for an endpoint app that does not exist";
  EXPECT_NE(nowhereFailures[0].text.find("cannot publish"), std::string::npos) << nowhereFailures[0].text;
  EXPECT_NE(nowhereFailures[0].text.find("retrying"), std::string::npos);
  EXPECT_GE(retryLines(all, "output good-nowhere").size(), 2u) << "it must be retried";
  const auto junkOut = linesAbout(all, "output junk-out");
  // (the output of a venue that never comes up only says it waits)
  EXPECT_EQ(junkOut.size(), 1u) << joinLines(junkOut);
  expectCleanStop(relay);
}

// A source that turns into corrupt FLV after a good start (garbage bodies, truncated AVC packets, random bytes
// inside real payloads, a garbage sequence header, then bytes that break the chunk stream), and two sources whose
// codec FLV cannot carry (video codec id 12, audio sound format 13): each is named in a clear line and retried,
// the process survives, and the healthy venue's output keeps flowing.
TEST(RelayBadInput, CorruptFlvAndUncarriableCodecsAreRefusedClearly) {
  const TestClip clip = TestClip::standard();
  const auto tags = RawRtmpPublisher::readFlvFile(clip.path.string());
  std::vector<RawRtmpPublisher::FlvTag> goodGops;  // metadata, sequence headers, two GOPs
  for (const auto& t : tags)
    if (t.timestampMs < 2000) goodGops.push_back(t);
  std::vector<RawRtmpPublisher::FlvTag> realVideo;
  for (const auto& t : tags)
    if (t.type == 9 && t.body.size() > 200 && t.body[1] == 1) realVideo.push_back(t);

  NginxRtmp source({NginxApp{"venue"}});
  NginxRtmp endpoint({NginxApp{"forum"}});
  source.start();
  endpoint.start();
  StreamProbe src(probeOptions(source.rtmpUrl("venue", "good")));
  StreamProbe ep(probeOptions(endpoint.rtmpUrl("forum", "good-out")));
  src.start();
  ep.start();
  FfmpegPublisher pub(clip.path, source.rtmpUrl("venue", "good"));

  const auto patched = [&tags](uint8_t tagType, uint8_t codecId) {
    return [&tags, tagType, codecId](RawRtmpPublisher& p, std::atomic<bool>& stop) {
      p.publishFile(tags, true,
                    [&](RawRtmpPublisher::FlvTag& t) {
                      if (t.type != tagType || t.body.empty()) return;
                      if (tagType == 9) t.body[0] = static_cast<uint8_t>((t.body[0] & 0xf0) | codecId);
                      else t.body[0] = static_cast<uint8_t>((t.body[0] & 0x0f) | (codecId << 4));
                    },
                    &stop, 0);
    };
  };
  RawPublisherLoop hevc(rawOptions(source, "hevc"), patched(9, 12));
  RawPublisherLoop sound13(rawOptions(source, "sound13"), patched(8, 13));
  // One corrupt publisher session: twice (two good GOPs, then 2 s of garbage), then bytes that break the
  // chunk stream, which makes nginx drop the publisher. Paced in real time.
  std::atomic<int> corruptRounds{0};
  RawPublisherLoop corrupt(rawOptions(source, "corrupt"), [&](RawRtmpPublisher& p, std::atomic<bool>& stop) {
    std::mt19937 rng(7 + corruptRounds++);
    const auto t0 = Clock::now();
    const auto send = [&](uint8_t type, uint32_t ts, const std::vector<uint8_t>& body) {
      std::this_thread::sleep_until(t0 + std::chrono::milliseconds(ts));
      return !stop && p.sendTag(type, ts, body.data(), body.size());
    };
    for (uint32_t cycle = 0; cycle < 2; ++cycle) {
      const uint32_t base = cycle * 4000;
      for (const auto& t : goodGops)
        if ((cycle == 0 || t.type != 18) && !send(t.type, base + t.timestampMs, t.body)) return;
      for (uint32_t i = 0; i < 60; ++i) {  // 2 s of garbage video, each followed by a garbage audio tag
        const uint32_t ts = base + 2000 + i * 33;
        std::vector<uint8_t> v;
        switch (i % 6) {
          case 0: v = {0x27, 0x01, 0, 0, 0}; break;  // an inter frame with a random payload
          case 1: v = {0x17}; break;                 // truncated before the AVC packet type
          case 2: v = {0x27, 0x01, 0, 0, 0, 0, 0, 0, 0x40, 0x41, 0x9a}; break;  // NALU of 64 bytes, 2 present
          case 3: v = realVideo[i % realVideo.size()].body; break;  // a real frame with random bytes inside
          case 4: v = {0x17, 0x00, 0, 0, 0}; break;  // a garbage AVC sequence header
          case 5: v = {0x27, 0x07, 0, 0, 0}; break;  // bogus AVC packet type
        }
        const auto noise = randomBytes(rng, i % 6 == 4 ? 40 : 1500);
        if (i % 6 == 3)
          std::copy(noise.begin(), noise.begin() + static_cast<std::ptrdiff_t>(std::min(noise.size(), v.size() / 2)),
                    v.begin() + static_cast<std::ptrdiff_t>(v.size() / 4));
        else if (i % 6 != 1 && i % 6 != 2)
          v.insert(v.end(), noise.begin(), noise.end());
        if (!send(9, ts, v)) return;
        auto a = randomBytes(rng, 200);
        a[0] = 0xaf;
        a[1] = 0x01;
        if (!send(8, ts + 5, a)) return;
      }
    }
    const auto garbage = randomBytes(rng, 32 * 1024);
    p.sendRaw(garbage.data(), garbage.size());
    const auto deadline = Clock::now() + 2s;
    while (!stop && p.pollIncoming(100) && Clock::now() < deadline) {
    }
  });

  VenuecastConfig config;
  config.venues = {{"good", source.rtmpUrl("venue", "good")}, {"corrupt", source.rtmpUrl("venue", "corrupt")},
                   {"hevc", source.rtmpUrl("venue", "hevc")}, {"sound13", source.rtmpUrl("venue", "sound13")}};
  config.outputs = {outputTo("good-out", "good", endpoint), outputTo("corrupt-out", "corrupt", endpoint),
                    outputTo("hevc-out", "hevc", endpoint)};
  VenuecastProcess relay(config);
  relay.start();
  FailureDump dump;
  dump.add(relay.process(), "venuecast").add(source, "source nginx");
  ASSERT_TRUE(ep.waitForPackets(60, 20s, MediaKind::Video));
  std::this_thread::sleep_for(2s);
  const int64_t from = nowUs();
  const auto baseline = baselineDelay(src, ep, from - 2'000'000, from);

  // The uncarriable codecs are only known once libavformat gave up probing them (analyzeduration, 10 s); a retry
  // shows as a debug line once the second attempt has failed the same way.
  const std::regex hevcRe(R"(venue hevc: .*video codec.*cannot be carried)");
  const std::regex soundRe(R"(venue sound13: .*audio codec.*cannot be carried)");
  EXPECT_TRUE(relay.waitForLog(hevcRe, 25s)) << "no line says venue hevc's video codec cannot be carried";
  EXPECT_TRUE(relay.waitForLog(soundRe, 5s)) << "no line says venue sound13's audio codec cannot be carried";
  EXPECT_TRUE(pollUntil(
      [&] {
        const auto l = parseLog(relay.logText());
        return !retryLines(l, "venue hevc").empty() && !retryLines(l, "venue sound13").empty();
      },
      25s, 200ms))
      << "the refused venues must be retried";
  EXPECT_TRUE(relay.running()) << "bad input crashed venuecast";
  const int64_t to = nowUs() - 1'000'000;
  expectUndisturbed(measureFlow(src.packets(), ep.packets(), from, to, baseline.medianUs), baseline, "good-out");

  const auto all = parseLog(relay.logText());
  for (const std::string subject : {"venue hevc", "venue sound13"}) {
    const auto lines = linesAbout(all, subject);
    std::cout << "[ figures  ] " << subject << " lines:\n" << joinLines(lines);
    EXPECT_EQ(lines.size(), 1u) << subject << ": one clear line";
    for (const auto& l : lines) EXPECT_NE(l.text.find("cannot be carried"), std::string::npos) << l.text;
  }
  EXPECT_EQ(linesAbout(all, "output hevc-out").size(), 1u) << joinLines(linesAbout(all, "output hevc-out"));

  const auto corruptLines = linesAbout(all, "venue corrupt");
  const auto corruptOut = linesAbout(all, "output corrupt-out");
  std::cout << "[ figures  ] corrupt publisher: " << corrupt.sessions() << " sessions; venue corrupt lines:\n"
            << joinLines(corruptLines) << "  output corrupt-out lines:\n" << joinLines(corruptOut);
  ASSERT_GE(corrupt.sessions(), 2) << corrupt.lastError();
  std::size_t live = 0, failures = 0;
  for (const auto& l : corruptLines) {
    live += l.text.find(": live:") != std::string::npos;
    failures += l.level == "warning" || l.level == "error";
  }
  EXPECT_GE(failures, 1u) << "the corrupt source's failure must be named";
  EXPECT_GE(live, 2u) << "the corrupt venue must be retried (live again with the next publisher)";
  std::size_t outLive = 0;
  for (const auto& l : corruptOut) outLive += l.text.find(": live:") != std::string::npos;
  EXPECT_GE(outLive, 1u) << "precondition: the corrupt venue's output carried its good GOPs and garbage";
  // Per publisher session: at most going live, one failure line, and the output's reaction -- never a line per
  // corrupt packet.
  EXPECT_LE(corruptLines.size(), 2u * static_cast<std::size_t>(corrupt.sessions()) + 2);
  EXPECT_LE(corruptOut.size(), 3u * static_cast<std::size_t>(corrupt.sessions()) + 2);
  expectCleanStop(relay);
}

}  // namespace
}  // namespace venuecast::testing
