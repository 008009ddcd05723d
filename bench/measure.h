#pragma once
// `venuecast-bench-probe measure`: runs one candidate relay and measures it (see bench_probe.cpp for the flow).
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace venuecast::bench {

struct Endpoint {
  uint16_t rtmpPort = 0;
  uint16_t httpPort = 0;
  pid_t pid = 0;  // the endpoint nginx (for --stall)
};

struct MeasureOptions {
  std::string candidate;                 // label, e.g. "venuecast"
  std::filesystem::path out;             // JSON result
  std::filesystem::path logDir;          // candidate-<i>.log per command
  uint16_t sourceRtmp = 0, sourceHttp = 0;
  std::string sourceApp = "venue";
  std::string endpointApp = "live";
  std::vector<std::string> venues;       // stream names, the same at the source and at every endpoint
  std::vector<Endpoint> endpoints;
  double warmupS = 10, windowS = 60;
  int stallEndpoint = -1;                // index into endpoints; -1: no stall
  double stallAtS = 15, stallForS = 15;  // relative to the window start
  int ttfkVenues = 4;                    // first-keyframe probes: the first K venues at every endpoint
  int latencyVenue = 0;                  // the venue probed for latency (at the source x2 and every endpoint)
  uint16_t candidateHttp = 0;            // a candidate's own nginx /stat (the nginx relay), 0: none
  std::string dropRegex;                 // candidate log lines "(output id) ... (cumulative count)", "" = none
  double startPhaseMs = 0;               // start the candidate this long after a keyframe of the latency venue
  std::vector<std::vector<std::string>> commands;  // the candidate: one or more processes
};

// Runs the measurement; returns the process exit code (0 ok, 1 failed, 130 interrupted).
int runMeasure(const MeasureOptions& options, const std::atomic<bool>& stop);

}  // namespace venuecast::bench
