#include "measure.h"

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "nginx_stat.h"
#include "proc_stats.h"
#include "support/child_process.h"
#include "support/packet_analysis.h"
#include "support/packet_matcher.h"
#include "support/stream_probe.h"
#include "support/temp_dir.h"

namespace venuecast::bench {
namespace {

using testing::ChildProcess;
using testing::MediaKind;
using testing::PacketAnalysis;
using testing::PacketMatcher;
using testing::ProbePacket;
using testing::StreamProbe;
using json = nlohmann::json;

int64_t now() { return StreamProbe::nowUs(); }

bool sleepUntil(int64_t us, const std::atomic<bool>& stop) {
  while (!stop) {
    int64_t left = us - now();
    if (left <= 0) return true;
    std::this_thread::sleep_for(std::chrono::microseconds(std::min<int64_t>(left, 20'000)));
  }
  return false;
}

void say(const MeasureOptions& o, const std::string& what) {
  std::cerr << "bench-probe[" << o.candidate << "]: " << what << std::endl;
}

double round3(double v) { return std::round(v * 1000) / 1000; }
double round4(double v) { return std::round(v * 10000) / 10000; }

// Nearest-rank percentiles of delays (µs) in ms; null when there are none.
json percentiles(std::vector<int64_t> us) {
  if (us.empty()) return nullptr;
  std::sort(us.begin(), us.end());
  auto at = [&](double q) {
    auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(us.size())));
    return us[std::min(us.size() - 1, rank == 0 ? 0 : rank - 1)] / 1000.0;
  };
  double sum = 0;
  for (auto v : us) sum += v;
  return json{{"n", us.size()},        {"minMs", round3(us.front() / 1000.0)},
              {"medianMs", round3(at(0.5))}, {"p95Ms", round3(at(0.95))},
              {"p99Ms", round3(at(0.99))},   {"maxMs", round3(us.back() / 1000.0)},
              {"meanMs", round3(sum / us.size() / 1000.0)}};
}

json ratioStats(std::vector<double> v) {
  if (v.empty()) return nullptr;
  std::sort(v.begin(), v.end());
  return json{{"min", round4(v.front())}, {"median", round4(v[v.size() / 2])}, {"max", round4(v.back())}};
}

struct MemSample {
  int64_t tUs = 0;
  TreeMemory mem;
};

// Samples the candidate tree's memory every 200 ms (PSS every second: smaps_rollup walks the page tables).
class MemorySampler {
 public:
  explicit MemorySampler(std::vector<pid_t> roots) : roots_(std::move(roots)) {
    thread_ = std::thread([this] {
      for (int i = 0; !stop_; ++i) {
        MemSample s;
        s.mem = ProcStats::memory(roots_, i % 5 == 0);
        s.tUs = now();
        {
          std::lock_guard lock(mutex_);
          samples_.push_back(s);
        }
        std::unique_lock lock(mutex_);
        cv_.wait_for(lock, std::chrono::milliseconds(200), [this] { return stop_.load(); });
      }
    });
  }
  ~MemorySampler() { stop(); }
  void stop() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  std::vector<MemSample> samples() const {
    std::lock_guard lock(mutex_);
    return samples_;
  }

 private:
  std::vector<pid_t> roots_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<MemSample> samples_;
  std::thread thread_;
};

// Per output id, the largest cumulative drop count any log line reported so far.
std::map<std::string, int64_t> logDrops(const std::vector<std::filesystem::path>& logs, const std::string& re) {
  std::map<std::string, int64_t> out;
  if (re.empty()) return out;
  std::regex rx(re);
  for (const auto& f : logs) {
    std::istringstream in(testing::readFile(f));
    for (std::string line; std::getline(in, line);) {
      std::smatch m;
      if (!std::regex_search(line, m, rx) || m.size() < 3) continue;
      auto& v = out[m[1]];
      v = std::max<int64_t>(v, std::stoll(m[2]));
    }
  }
  return out;
}

struct Probe {
  int endpoint = -1;  // -1: at the source
  int venue = 0;
  bool latency = false;  // kept running through the window
  std::unique_ptr<StreamProbe> probe;
  bool stopped = false;
};

std::unique_ptr<StreamProbe> makeProbe(const std::string& url) {
  StreamProbe::Options po;
  po.url = url;
  po.rwTimeout = std::chrono::seconds(30);  // endpoints wait for the candidate, and one may be SIGSTOPped 15 s
  po.analyzeDuration = std::chrono::milliseconds(1000);
  po.retryDelay = std::chrono::milliseconds(100);
  po.maxAttempts = 1000;
  return std::make_unique<StreamProbe>(po);
}

std::optional<int64_t> firstKeyUs(const std::vector<ProbePacket>& ps) {
  for (const auto& p : ps)
    if (p.kind == MediaKind::Video && p.key) return p.arrivalUs;
  return std::nullopt;
}

struct MatchResult {
  std::vector<int64_t> delaysUs;
  std::vector<int64_t> arrivalsUs;  // endpoint arrival of each matched packet
  std::size_t endpointPackets = 0, unmatched = 0, missing = 0;
};

// Matches `endpoint` packets (already cut to the window) against everything the source probe saw.
MatchResult matchKind(const std::vector<ProbePacket>& source, const std::vector<ProbePacket>& endpoint, MediaKind kind,
                      int window) {
  MatchResult r;
  auto e = PacketAnalysis::ofKind(endpoint, kind);
  auto m = PacketMatcher::match(source, endpoint, kind, window);
  r.endpointPackets = e.size();
  r.unmatched = e.size() - m.size();
  for (const auto& x : m) {
    r.delaysUs.push_back(x.delayUs);
    r.arrivalsUs.push_back(e[x.endpointIndex].arrivalUs);
  }
  if (!m.empty()) r.missing = (m.back().sourceIndex - m.front().sourceIndex + 1) - m.size();
  return r;
}

// Busy and total jiffies of the whole machine (first line of /proc/stat).
std::pair<int64_t, int64_t> machineJiffies() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  in >> cpu;
  int64_t v[8] = {0}, total = 0;
  for (auto& x : v) {
    in >> x;
    total += x;
  }
  return {total - v[3] - v[4], total};  // minus idle and iowait
}

struct Snapshot {
  int64_t tUs = 0;
  std::pair<int64_t, int64_t> machine;
  double selfCpuS = 0;  // this tool (the probes), without its children
  TreeTimes times;
  StatPage source;
  std::vector<StatPage> endpoints;
  StatPage candidate;
  std::map<std::string, int64_t> drops;
};

}  // namespace

int runMeasure(const MeasureOptions& o, const std::atomic<bool>& stop) {
  json out;
  std::vector<std::string> errors;
  const int N = static_cast<int>(o.venues.size()), M = static_cast<int>(o.endpoints.size());
  out["candidate"] = o.candidate;
  out["venues"] = N;
  out["endpoints"] = M;
  out["outputs"] = N * M;
  out["warmupS"] = o.warmupS;
  out["windowS"] = o.windowS;
  out["commands"] = o.commands;
  auto write = [&](bool ok) {
    out["ok"] = ok && errors.empty();
    out["errors"] = errors;
    std::ofstream f(o.out);
    f << out.dump(2) << "\n";
  };
  auto srcUrl = [&](int v) {
    return "rtmp://127.0.0.1:" + std::to_string(o.sourceRtmp) + "/" + o.sourceApp + "/" + o.venues[v];
  };
  auto epUrl = [&](int k, int v) {
    return "rtmp://127.0.0.1:" + std::to_string(o.endpoints[k].rtmpPort) + "/" + o.endpointApp + "/" + o.venues[v];
  };

  // ---- 0. the feeds are up at the source, nothing is published at the endpoints yet
  for (int64_t deadline = now() + 15'000'000;;) {
    auto page = fetchStatPage(o.sourceHttp);
    int live = 0;
    for (const auto& v : o.venues) {
      auto* s = page.find(o.sourceApp, v);
      live += s && s->publishing;
    }
    if (live == N) break;
    if (now() > deadline || stop) {
      errors.push_back("only " + std::to_string(live) + " of " + std::to_string(N) + " feeds publish at the source");
      write(false);
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  for (int k = 0; k < M; ++k) {
    for (int64_t deadline = now() + 15'000'000;;) {
      auto page = fetchStatPage(o.endpoints[k].httpPort);
      bool any = false;
      for (const auto& v : o.venues)
        if (auto* s = page.find(o.endpointApp, v); s && s->publishing) any = true;
      if (page.ok && !any) break;
      if (now() > deadline || stop) {
        errors.push_back("endpoint " + std::to_string(k) + ": still published (or no /stat) before the start");
        write(false);
        return 1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  // ---- 1. probes: the latency venue twice at the source, the first K venues at every endpoint
  const int lv = o.latencyVenue;
  auto srcA = makeProbe(srcUrl(lv));
  auto srcB = makeProbe(srcUrl(lv));
  srcA->start();
  srcB->start();
  std::vector<Probe> probes;
  const int K = std::clamp(o.ttfkVenues, 1, N);
  for (int k = 0; k < M; ++k) {
    std::set<int> vs;
    for (int v = 0; v < K; ++v) vs.insert(v);
    vs.insert(lv);
    for (int v : vs) {
      Probe p;
      p.endpoint = k;
      p.venue = v;
      p.latency = v == lv;
      p.probe = makeProbe(epUrl(k, v));
      p.probe->start();
      probes.push_back(std::move(p));
    }
  }
  // Each endpoint probe is waiting as a player (idle stream) before the candidate starts.
  for (int64_t deadline = now() + 10'000'000;;) {
    int waiting = 0;
    for (int k = 0; k < M; ++k) {
      auto page = fetchStatPage(o.endpoints[k].httpPort);
      for (const auto& p : probes)
        if (p.endpoint == k)
          if (auto* s = page.find(o.endpointApp, o.venues[p.venue]); s && s->players >= 1) ++waiting;
    }
    if (waiting == static_cast<int>(probes.size())) break;
    if (now() > deadline || stop) {
      errors.push_back("endpoint probes did not get to play within 10 s (" + std::to_string(waiting) + " of " +
                       std::to_string(probes.size()) + ")");
      write(false);
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!srcA->waitForConnects(1, std::chrono::seconds(15)) || !srcB->waitForConnects(1, std::chrono::seconds(15))) {
    errors.push_back("source probes could not play " + srcUrl(lv));
    write(false);
    return 1;
  }
  // Start right after a keyframe of the latency venue arrived at the source, so every candidate starts at the
  // same point of the GOP (the feeds keep their phases for the whole run): time to first keyframe is comparable.
  // By arrival time, not by count: packets buffered while the probe opened arrive in the list late, with their
  // true (earlier) arrival times.
  const int64_t syncFrom = now();
  auto freshKey = [&](const std::vector<ProbePacket>& ps) {
    for (auto it = ps.rbegin(); it != ps.rend() && it->arrivalUs > syncFrom; ++it)
      if (it->kind == MediaKind::Video && it->key) return true;
    return false;
  };
  if (!srcA->waitUntil(freshKey, std::chrono::seconds(10))) {
    errors.push_back("no keyframe from the source within 10 s");
    write(false);
    return 1;
  }
  if (o.startPhaseMs > 0 && !sleepUntil(now() + static_cast<int64_t>(o.startPhaseMs * 1000), stop)) {
    write(false);
    return 130;
  }

  // ---- 2. the candidate
  const int64_t t0 = now();
  {
    int64_t key = 0;
    for (const auto& p : srcA->packets(MediaKind::Video))
      if (p.key && p.arrivalUs > syncFrom) key = p.arrivalUs;
    out["startAfterSourceKeyframeMs"] = round3((t0 - key) / 1000.0);
  }
  std::vector<std::unique_ptr<ChildProcess>> procs;
  std::vector<std::filesystem::path> logs;
  std::vector<pid_t> roots;
  try {
    for (std::size_t i = 0; i < o.commands.size(); ++i) {
      logs.push_back(o.logDir / (o.candidate + "-" + std::to_string(i) + ".log"));
      procs.push_back(std::make_unique<ChildProcess>(ChildProcess::Options{o.commands[i], {}, logs.back(), {}, {}}));
      roots.push_back(procs.back()->pid());
    }
  } catch (const std::exception& e) {
    errors.push_back(std::string("starting the candidate: ") + e.what());
    write(false);
    return 1;
  }
  out["spawnMs"] = round3((now() - t0) / 1000.0);
  out["pids"] = roots;
  say(o, "started " + std::to_string(procs.size()) + " process(es), pid " + std::to_string(roots.front()));
  MemorySampler sampler(roots);

  // A SIGSTOPped endpoint is continued on every way out.
  pid_t stalled = 0;
  struct Continue {
    pid_t& pid;
    ~Continue() {
      if (pid > 0) ::kill(pid, SIGCONT);
    }
  } continueGuard{stalled};

  auto alive = [&](const char* when) {
    for (std::size_t i = 0; i < procs.size(); ++i)
      if (!procs[i]->running())
        errors.push_back("candidate process " + std::to_string(i) + " exited " + when + " (" +
                         procs[i]->exitStatus()->describe() + "): " + procs[i]->commandLine());
  };
  auto snapshot = [&] {
    Snapshot s;
    s.times = ProcStats::times(roots);
    s.tUs = now();
    s.machine = machineJiffies();
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    s.selfCpuS = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    s.source = fetchStatPage(o.sourceHttp);
    for (const auto& e : o.endpoints) s.endpoints.push_back(fetchStatPage(e.httpPort));
    if (o.candidateHttp) s.candidate = fetchStatPage(o.candidateHttp);
    s.drops = logDrops(logs, o.dropRegex);
    return s;
  };

  // ---- 3. warm-up. The first-keyframe probes close once they have their keyframe (they cost CPU on a small
  // machine); one that has none 30 s after the start gives up.
  std::atomic<bool> reaperDone{false};
  std::thread reaper([&] {
    const int64_t giveUp = t0 + 30'000'000;
    for (;;) {
      bool open = false;
      for (auto& p : probes) {
        if (p.latency || p.stopped) continue;
        if (firstKeyUs(p.probe->packets(MediaKind::Video)) || now() > giveUp || reaperDone) {
          p.probe->stop();
          p.stopped = true;
        } else {
          open = true;
        }
      }
      if (!open) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  struct Join {
    std::thread& t;
    std::atomic<bool>& done;
    ~Join() {
      done = true;
      if (t.joinable()) t.join();
    }
  } joinReaper{reaper, reaperDone};
  if (!sleepUntil(t0 + static_cast<int64_t>(o.warmupS * 1e6), stop)) {
    write(false);
    return 130;
  }
  alive("during the warm-up");

  // ---- 4. the window
  Snapshot s0 = snapshot();
  const int64_t ws = s0.tUs;
  int64_t stallStart = 0, stallEnd = 0;
  if (o.stallEndpoint >= 0 && o.stallEndpoint < M) {
    if (sleepUntil(ws + static_cast<int64_t>(o.stallAtS * 1e6), stop)) {
      stalled = o.endpoints[o.stallEndpoint].pid;
      stallStart = now();
      if (::kill(stalled, SIGSTOP) != 0) errors.push_back("SIGSTOP endpoint failed");
      say(o, "endpoint " + std::to_string(o.stallEndpoint) + " (pid " + std::to_string(stalled) + ") SIGSTOPped");
      if (sleepUntil(stallStart + static_cast<int64_t>(o.stallForS * 1e6), stop)) {
        ::kill(stalled, SIGCONT);
        stallEnd = now();
        stalled = 0;
        say(o, "endpoint " + std::to_string(o.stallEndpoint) + " continued");
      }
    }
  }
  sleepUntil(ws + static_cast<int64_t>(o.windowS * 1e6), stop);
  if (stop) {
    write(false);
    return 130;
  }
  Snapshot s1 = snapshot();
  const int64_t we = s1.tUs;
  alive("during the window");
  sampler.stop();

  // ---- 5. stop the probes and the candidate
  reaperDone = true;
  reaper.join();
  for (auto& p : probes) p.probe->stop();
  srcA->stop();
  srcB->stop();
  for (auto& p : procs) p->signal(SIGTERM);
  json exits = json::array();
  int64_t stopStart = now();
  for (auto& p : procs) exits.push_back(p->terminate(std::chrono::seconds(5)).describe());
  out["exit"] = exits;
  out["stopMs"] = (now() - stopStart) / 1000;

  // ---- 6. results
  const double windowS = (we - ws) / 1e6;
  out["windowActualS"] = round3(windowS);

  // CPU
  int lost = 0;
  double cpu = ProcStats::cpuSeconds(s0.times, s1.times, roots, &lost);
  out["cpu"] = {{"seconds", round3(cpu)},
                {"pctOfCore", round3(100 * cpu / windowS)},
                {"perInputPct", round3(100 * cpu / windowS / N)},
                {"perOutputPct", round3(100 * cpu / windowS / (N * M))},
                {"processes", s1.times.size()},
                {"exitedDuringWindow", lost}};
  {
    auto self = s1.selfCpuS - s0.selfCpuS;
    auto busy = s1.machine.first - s0.machine.first, total = s1.machine.second - s0.machine.second;
    out["machine"] = {{"busyPctOfAllCores", total > 0 ? round3(100.0 * busy / total) : 0.0},
                      {"cores", std::thread::hardware_concurrency()},
                      {"probeToolPctOfCore", round3(100 * self / windowS)}};
  }

  // Memory
  auto samples = sampler.samples();
  int64_t peakRss = 0, peakPss = 0, hwm = 0;
  json series = json::array();
  int64_t nextSeries = 0;
  for (const auto& s : samples) {
    peakRss = std::max(peakRss, s.mem.rssKiB);
    peakPss = std::max(peakPss, s.mem.pssKiB);
    if (s.mem.processes > 0) hwm = s.mem.hwmKiB;  // the last reading: each process's peak so far
    if (s.tUs >= nextSeries && s.mem.pssKiB >= 0) {
      series.push_back({round3((s.tUs - t0) / 1e6), s.mem.rssKiB, s.mem.pssKiB});
      nextSeries = s.tUs + 900'000;
    }
  }
  out["memory"] = {{"peakRssKiB", std::max(peakRss, hwm)},
                   {"sampledPeakRssKiB", peakRss},
                   {"hwmSumKiB", hwm},
                   {"peakPssKiB", peakPss},
                   {"samples", samples.size()},
                   {"series", series}};

  // Delivery, from the stat pages: bytes and media time at every endpoint against the source.
  auto rate = [](int64_t b0, int64_t b1, int64_t t0us, int64_t t1us) {
    return t1us > t0us ? (b1 - b0) / ((t1us - t0us) / 1e6) : 0.0;
  };
  std::vector<double> srcRate(N, 0);
  json srcJson = json::array();
  int64_t srcDropped = 0;
  for (int v = 0; v < N; ++v) {
    auto* a = s0.source.find(o.sourceApp, o.venues[v]);
    auto* b = s1.source.find(o.sourceApp, o.venues[v]);
    if (!a || !b) {
      errors.push_back("source stat: no stream " + o.venues[v]);
      continue;
    }
    srcRate[v] = rate(a->bytesIn, b->bytesIn, s0.source.fetchedUs, s1.source.fetchedUs);
    srcDropped += b->playersDropped - a->playersDropped;
    double media = (b->publisherTimestampMs - a->publisherTimestampMs) / ((s1.source.fetchedUs - s0.source.fetchedUs) / 1e3);
    srcJson.push_back({{"venue", o.venues[v]}, {"bytesPerS", std::llround(srcRate[v])}, {"mediaRate", round3(media)}});
  }
  json outputs = json::array();
  std::vector<double> ratios, mediaRates, ratiosOther, mediaOther;
  for (int k = 0; k < M; ++k) {
    for (int v = 0; v < N; ++v) {
      auto* a = s0.endpoints[k].find(o.endpointApp, o.venues[v]);
      auto* b = s1.endpoints[k].find(o.endpointApp, o.venues[v]);
      double r = 0, media = 0, bps = 0;
      if (a && b) {
        bps = rate(a->bytesIn, b->bytesIn, s0.endpoints[k].fetchedUs, s1.endpoints[k].fetchedUs);
        r = srcRate[v] > 0 ? bps / srcRate[v] : 0;
        if (a->publisherTimestampMs >= 0 && b->publisherTimestampMs >= 0)
          media = (b->publisherTimestampMs - a->publisherTimestampMs) /
                  ((s1.endpoints[k].fetchedUs - s0.endpoints[k].fetchedUs) / 1e3);
      }
      outputs.push_back({{"endpoint", k}, {"venue", o.venues[v]}, {"bytesPerS", std::llround(bps)},
                         {"ratio", round4(r)}, {"mediaRate", round3(media)},
                         {"publishingAtEnd", b && b->publishing}});
      ratios.push_back(r);
      mediaRates.push_back(media);
      if (k != o.stallEndpoint) {
        ratiosOther.push_back(r);
        mediaOther.push_back(media);
      }
    }
  }
  out["delivery"] = {{"source", srcJson},
                     {"outputs", outputs},
                     {"ratio", ratioStats(ratios)},
                     {"mediaRate", ratioStats(mediaRates)},
                     {"ratioOther", ratioStats(ratiosOther)},
                     {"mediaRateOther", ratioStats(mediaOther)}};

  // Drops: the candidate's own reports (log), its own nginx (relay), the source's drops for its players.
  json logDelta = json::object();
  int64_t logTotal = 0;
  for (const auto& [id, n] : s1.drops) {
    int64_t d = n - (s0.drops.count(id) ? s0.drops.at(id) : 0);
    if (d) logDelta[id] = d;
    logTotal += d;
  }
  int64_t candDropped = 0;
  if (o.candidateHttp)
    for (const auto& [name, b] : s1.candidate.streams) {
      auto it = s0.candidate.streams.find(name);
      candDropped += b.playersDropped - (it == s0.candidate.streams.end() ? 0 : it->second.playersDropped);
    }
  json logEnd = json::object();
  for (const auto& [id, n] : s1.drops) logEnd[id] = n;
  out["drops"] = {{"candidateLog", logTotal},
                  {"candidateLogByOutput", logDelta},
                  {"candidateLogTotalAtEnd", logEnd},
                  {"candidateStat", o.candidateHttp ? json(candDropped) : json(nullptr)},
                  {"sourcePlayers", srcDropped}};

  // Latency, frame rate and missing frames at the probed outputs; the second source probe is the noise floor.
  auto srcPackets = srcA->packets();
  auto srcWin = PacketAnalysis::arrivedBetween(srcPackets, ws, we);
  const double srcFps = PacketAnalysis::ofKind(srcWin, MediaKind::Video).size() / windowS;
  auto noise = matchKind(srcPackets, PacketAnalysis::arrivedBetween(srcB->packets(), ws, we), MediaKind::Video, 4);
  std::vector<int64_t> all, other, otherStall, audioAll;
  json perEndpoint = json::array();
  int64_t missingOther = 0, missingAll = 0;
  for (const auto& p : probes) {
    if (!p.latency) continue;
    auto win = PacketAnalysis::arrivedBetween(p.probe->packets(), ws, we);
    auto v = matchKind(srcPackets, win, MediaKind::Video, 4);
    auto a = matchKind(srcPackets, win, MediaKind::Audio, 8);
    const bool isOther = p.endpoint != o.stallEndpoint;
    all.insert(all.end(), v.delaysUs.begin(), v.delaysUs.end());
    audioAll.insert(audioAll.end(), a.delaysUs.begin(), a.delaysUs.end());
    missingAll += static_cast<int64_t>(v.missing);
    if (isOther) {
      other.insert(other.end(), v.delaysUs.begin(), v.delaysUs.end());
      missingOther += static_cast<int64_t>(v.missing);
      for (std::size_t i = 0; i < v.delaysUs.size(); ++i)
        if (stallStart && v.arrivalsUs[i] >= stallStart && v.arrivalsUs[i] < stallEnd + 2'000'000)
          otherStall.push_back(v.delaysUs[i]);
    }
    perEndpoint.push_back({{"endpoint", p.endpoint},
                           {"venue", o.venues[p.venue]},
                           {"video", percentiles(v.delaysUs)},
                           {"audio", percentiles(a.delaysUs)},
                           {"videoPackets", v.endpointPackets},
                           {"unmatched", v.unmatched},
                           {"missingFrames", v.missing},
                           {"fps", round3(v.endpointPackets / windowS)},
                           {"sessions", p.probe->sessions().size()}});
  }
  out["latency"] = {{"venue", o.venues[lv]},
                    {"video", percentiles(all)},
                    {"audio", percentiles(audioAll)},
                    {"videoOther", percentiles(other)},
                    {"videoOtherDuringStall", percentiles(otherStall)},
                    {"noiseFloor", percentiles(noise.delaysUs)},
                    {"perEndpoint", perEndpoint}};
  out["frames"] = {{"sourceFps", round3(srcFps)}, {"missingAll", missingAll}, {"missingOther", missingOther}};
  if (all.empty()) errors.push_back("no packet of the probed venue could be matched at any endpoint");

  // Time to first keyframe, from the candidate's start.
  json ttfk = json::array();
  std::vector<int64_t> ttfkUs;
  int missingKeys = 0;
  for (const auto& p : probes) {
    auto first = firstKeyUs(p.probe->packets(MediaKind::Video));
    if (first) ttfkUs.push_back(*first - t0);
    else ++missingKeys;
    ttfk.push_back({{"endpoint", p.endpoint}, {"venue", o.venues[p.venue]},
                    {"ms", first ? json(round3((*first - t0) / 1000.0)) : json(nullptr)}});
  }
  // Where the start goes (diagnostic): for the latency venue, the first keyframe at each endpoint against the
  // source keyframe it most likely is (the last one the source probe saw before it), and that keyframe's arrival
  // at the source from the candidate's start.
  json firstKeyPath = json::array();
  {
    const auto src = srcA->packets(MediaKind::Video);
    for (const auto& p : probes) {
      if (!p.latency) continue;
      auto first = firstKeyUs(p.probe->packets(MediaKind::Video));
      if (!first) continue;
      std::optional<int64_t> atSource;
      for (const auto& q : src)
        if (q.key && q.arrivalUs <= *first) atSource = q.arrivalUs;
      if (!atSource) continue;
      firstKeyPath.push_back({{"endpoint", p.endpoint},
                              {"sourceKeyFromStartMs", round3((*atSource - t0) / 1000.0)},
                              {"sourceToEndpointMs", round3((*first - *atSource) / 1000.0)}});
    }
  }
  out["ttfk"] = {{"probes", ttfk}, {"stats", percentiles(ttfkUs)}, {"missing", missingKeys}, {"firstKeyPath", firstKeyPath}};
  if (missingKeys) errors.push_back(std::to_string(missingKeys) + " endpoint probe(s) got no keyframe within 30 s of the start");

  // Stall
  if (o.stallEndpoint >= 0) {
    int64_t before = 0, during = 0, after = 0;
    for (const auto& s : samples) {
      if (!stallStart || s.tUs < stallStart) before = s.mem.rssKiB;
      else if (s.tUs <= stallEnd) during = std::max(during, s.mem.rssKiB);
      else after = std::max(after, s.mem.rssKiB);
    }
    out["stall"] = {{"endpoint", o.stallEndpoint},
                    {"startS", round3((stallStart - ws) / 1e6)},
                    {"durationS", round3((stallEnd - stallStart) / 1e6)},
                    {"rssBeforeKiB", before},
                    {"rssPeakDuringKiB", during},
                    {"rssPeakAfterKiB", after}};
  }

  write(true);
  say(o, std::string(out["ok"].get<bool>() ? "done" : "done, with errors") + ": cpu " +
             std::to_string(out["cpu"]["pctOfCore"].get<double>()) + "% of a core");
  return out["ok"].get<bool>() ? 0 : 1;
}

}  // namespace venuecast::bench
