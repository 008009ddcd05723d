// venuecast-bench-probe: the measuring half of scripts/bench.sh.
//
//   venuecast-bench-probe measure --candidate NAME --out FILE.json --log-dir DIR
//       --source RTMP_PORT:HTTP_PORT --endpoint RTMP_PORT:HTTP_PORT:PID [--endpoint ...] --venues v0,v1,...
//       [--source-app venue] [--endpoint-app live] [--warmup S] [--window S]
//       [--stall K --stall-at S --stall-for S] [--ttfk-venues K] [--candidate-http PORT]
//       [--drop-regex RE] [--start-phase-ms MS]
//       -- COMMAND ARGS... [::: COMMAND ARGS...]...
//     Probes the latency venue (the first) twice at the source and the first K venues at every endpoint, waits for a
//     keyframe at the source, starts the candidate's processes (each in its own process group, killed if this
//     tool dies), and after the warm-up measures over the window: CPU and memory of the candidates' process trees
//     (/proc), delivery at every endpoint against the source (nginx-rtmp /stat), latency (packets matched between
//     the source and the endpoints), time to first keyframe. Optionally SIGSTOPs endpoint K (by the PID given)
//     for a while inside the window. Then stops the candidate (SIGTERM) and writes FILE.json.
//
//   venuecast-bench-probe report --results DIR --scenario ID [--scenario ID ...] [--command CMD] [--date TEXT]
//       [--note TEXT ...] [--out FILE] [--heading TEXT] [--document] [--append FILE]
//     Markdown tables (candidates side by side, venuecast's ratios to each peer) and the targets as PASS/FAIL
//     lines from DIR/ID/{venuecast,nginx,ffmpeg}.json; --document adds the title and the methodology (the whole
//     BENCHMARKS.md). Exit status 0 if every target passed, 3 if not.
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>

#include "measure.h"
#include "report.h"

namespace {

using namespace venuecast::bench;

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "venuecast-bench-probe: " << why << "\n(see the comment at the top of bench/bench_probe.cpp)\n";
  std::exit(2);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string part; std::getline(ss, part, sep);) out.push_back(part);
  return out;
}

uint16_t port(const std::string& s) {
  long v = std::strtol(s.c_str(), nullptr, 10);
  if (v <= 0 || v > 65535) usage("bad port " + s);
  return static_cast<uint16_t>(v);
}

double number(const std::string& s) {
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (!end || *end) usage("bad number " + s);
  return v;
}

std::atomic<bool> g_stop{false};

// SIGINT/SIGTERM/SIGHUP are blocked in every thread and taken by this one, so the measurement can wind down
// (stop the candidate, continue a stopped endpoint) instead of dying half-way.
void startSignalThread() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([set] {
    int sig = 0;
    sigwait(&set, &sig);
    std::cerr << "venuecast-bench-probe: got signal " << sig << ", stopping\n";
    g_stop = true;
  }).detach();
}

int measure(int argc, char** argv) {
  MeasureOptions o;
  int i = 2;
  auto next = [&](const char* opt) -> std::string {
    if (i + 1 >= argc) usage(std::string(opt) + " needs a value");
    return argv[++i];
  };
  for (; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (a == "--candidate") o.candidate = next("--candidate");
    else if (a == "--out") o.out = next("--out");
    else if (a == "--log-dir") o.logDir = next("--log-dir");
    else if (a == "--source") {
      auto p = split(next("--source"), ':');
      if (p.size() != 2) usage("--source RTMP_PORT:HTTP_PORT");
      o.sourceRtmp = port(p[0]);
      o.sourceHttp = port(p[1]);
    } else if (a == "--endpoint") {
      auto p = split(next("--endpoint"), ':');
      if (p.size() != 3) usage("--endpoint RTMP_PORT:HTTP_PORT:PID");
      o.endpoints.push_back({port(p[0]), port(p[1]), static_cast<pid_t>(std::atol(p[2].c_str()))});
    } else if (a == "--venues") o.venues = split(next("--venues"), ',');
    else if (a == "--source-app") o.sourceApp = next("--source-app");
    else if (a == "--endpoint-app") o.endpointApp = next("--endpoint-app");
    else if (a == "--warmup") o.warmupS = number(next("--warmup"));
    else if (a == "--window") o.windowS = number(next("--window"));
    else if (a == "--stall") o.stallEndpoint = static_cast<int>(number(next("--stall")));
    else if (a == "--stall-at") o.stallAtS = number(next("--stall-at"));
    else if (a == "--stall-for") o.stallForS = number(next("--stall-for"));
    else if (a == "--ttfk-venues") o.ttfkVenues = static_cast<int>(number(next("--ttfk-venues")));
    else if (a == "--candidate-http") o.candidateHttp = port(next("--candidate-http"));
    else if (a == "--drop-regex") o.dropRegex = next("--drop-regex");
    else if (a == "--start-phase-ms") o.startPhaseMs = number(next("--start-phase-ms"));
    else usage("unknown option " + a);
  }
  std::vector<std::string> cmd;
  for (; i < argc; ++i) {
    if (std::strcmp(argv[i], ":::") == 0) {
      if (!cmd.empty()) o.commands.push_back(std::move(cmd));
      cmd.clear();
    } else {
      cmd.push_back(argv[i]);
    }
  }
  if (!cmd.empty()) o.commands.push_back(std::move(cmd));
  if (o.candidate.empty() || o.out.empty() || o.logDir.empty()) usage("--candidate, --out and --log-dir are required");
  if (!o.sourceRtmp || o.endpoints.empty() || o.venues.empty()) usage("--source, --endpoint and --venues are required");
  if (o.commands.empty()) usage("no candidate command after --");
  if (o.stallEndpoint >= static_cast<int>(o.endpoints.size())) usage("--stall: no such endpoint");
  if (o.stallEndpoint >= 0 && o.stallAtS + o.stallForS > o.windowS) usage("the stall must end inside the window");
  startSignalThread();
  return runMeasure(o, g_stop);
}

int report(int argc, char** argv) {
  ReportOptions o;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) usage(a + " needs a value");
      return argv[++i];
    };
    if (a == "--results") o.results = next();
    else if (a == "--scenario") o.scenarios.push_back(next());
    else if (a == "--command") o.command = next();
    else if (a == "--date") o.date = next();
    else if (a == "--note") o.notes.push_back(next());
    else if (a == "--out") o.out = next();
    else if (a == "--heading") o.heading = next();
    else if (a == "--document") o.document = true;
    else if (a == "--append") o.append = next();
    else usage("unknown option " + a);
  }
  if (o.results.empty() || o.scenarios.empty()) usage("--results and --scenario are required");
  return runReport(o);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) usage("measure or report?");
  std::string cmd = argv[1];
  if (cmd == "measure") return measure(argc, argv);
  if (cmd == "report") return report(argc, argv);
  if (cmd == "-h" || cmd == "--help") {
    std::cout << "venuecast-bench-probe measure|report ... (see bench/bench_probe.cpp)\n";
    return 0;
  }
  usage("unknown command " + cmd);
}
