#include "report.h"

#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <algorithm>
#include <cstdlib>
#include <functional>
#include <map>
#include <iostream>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

namespace venuecast::bench {
namespace {

using json = nlohmann::json;
using Value = std::optional<double>;

struct Candidate {
  std::string id, title;
};
const std::vector<Candidate> kCandidates = {
    {"venuecast", "venuecast"}, {"nginx", "nginx-rtmp relay"}, {"ffmpeg", "ffmpeg tee"}};

const json* at(const json& j, std::initializer_list<const char*> path) {
  const json* p = &j;
  for (const char* k : path) {
    if (!p->is_object() || !p->contains(k)) return nullptr;
    p = &(*p)[k];
  }
  return p->is_null() ? nullptr : p;
}

Value num(const json& j, std::initializer_list<const char*> path) {
  const json* p = at(j, path);
  if (!p || !p->is_number()) return std::nullopt;
  return p->get<double>();
}

std::string fmt(Value v, int decimals) {
  if (!v) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, *v);
  return buf;
}

std::string ratio(Value a, Value b) {
  if (!a || !b || *b == 0) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f×", *a / *b);
  return buf;
}

struct Scenario {
  std::string id;
  std::map<std::string, json> runs;  // candidate id -> its JSON (missing = not run / not readable)
  int venues = 0, endpoints = 0;
  bool stall = false;
  bool push = false;  // the venues publish to the candidate (venuecast's push ingest) instead of being pulled
  int stallEndpoint = -1;
  const json* of(const std::string& c) const {
    auto it = runs.find(c);
    return it == runs.end() ? nullptr : &it->second;
  }
};

struct Row {
  std::string label;
  std::function<Value(const json&)> value;  // numeric rows
  int decimals = 1;
  bool ratios = true;
  std::function<std::string(const json&)> text;  // or a text cell
};

Value mib(const json& j, std::initializer_list<const char*> path) {
  auto v = num(j, path);
  return v ? Value(*v / 1024.0) : std::nullopt;
}

Value pct(const json& j, std::initializer_list<const char*> path) {
  auto v = num(j, path);
  return v ? Value(*v * 100.0) : std::nullopt;
}

Value minFps(const json& j, bool othersOnly, int stalled) {
  const json* pe = at(j, {"latency", "perEndpoint"});
  if (!pe) return std::nullopt;
  Value m;
  for (const auto& e : *pe) {
    if (othersOnly && e.value("endpoint", -1) == stalled) continue;
    double f = e.value("fps", 0.0);
    if (!m || f < *m) m = f;
  }
  return m;
}

// Delivered/source over the outputs to one endpoint (the stalled one), the minimum.
Value endpointRatio(const json& j, int endpoint) {
  const json* outs = at(j, {"delivery", "outputs"});
  if (!outs) return std::nullopt;
  Value m;
  for (const auto& o : *outs)
    if (o.value("endpoint", -1) == endpoint) {
      double r = o.value("ratio", 0.0);
      if (!m || r < *m) m = r;
    }
  return m ? Value(*m * 100) : std::nullopt;
}

// Drops the candidate itself reported (log for venuecast, its stat page for the nginx relay).
Value ownDrops(const json& j) {
  if (auto v = num(j, {"drops", "candidateStat"})) return v;
  if (j.value("candidate", "") == "venuecast") return num(j, {"drops", "candidateLog"});
  return std::nullopt;
}

// venuecast's drops on outputs that do not go to the stalled endpoint (output ids end in -e<k>).
int64_t otherLogDrops(const json& j, int stalled) {
  const json* by = at(j, {"drops", "candidateLogByOutput"});
  if (!by) return 0;
  int64_t n = 0;
  const std::string suffix = "-e" + std::to_string(stalled);
  for (auto it = by->begin(); it != by->end(); ++it) {
    const std::string& id = it.key();
    bool toStalled = id.size() >= suffix.size() && id.compare(id.size() - suffix.size(), suffix.size(), suffix) == 0;
    if (!toStalled) n += it.value().get<int64_t>();
  }
  return n;
}

// "v0 / v1 / ...": time to first keyframe per venue, median over the endpoints.
std::string ttfkPerVenue(const json& j) {
  const json* probes = at(j, {"ttfk", "probes"});
  if (!probes) return "n/a";
  std::map<std::string, std::vector<double>> byVenue;
  for (const auto& p : *probes)
    if (p.contains("ms") && p["ms"].is_number()) byVenue[p.value("venue", "?")].push_back(p["ms"].get<double>());
  std::vector<std::pair<int, std::string>> order;
  for (const auto& [venue, ms] : byVenue) order.push_back({std::atoi(venue.c_str() + 1), venue});
  std::sort(order.begin(), order.end());
  std::string out;
  for (const auto& [n, venue] : order) {
    auto ms = byVenue[venue];
    std::sort(ms.begin(), ms.end());
    out += (out.empty() ? "" : " / ") + fmt(ms[ms.size() / 2], 0);
  }
  return out;
}

std::vector<Row> rowsFor(const Scenario& s) {
  std::vector<Row> r;
  r.push_back({"CPU, % of one core (process tree, utime+stime)", [](const json& j) { return num(j, {"cpu", "pctOfCore"}); }, 1});
  r.push_back({"CPU per input (venue), % of one core", [](const json& j) { return num(j, {"cpu", "perInputPct"}); }, 2});
  r.push_back({"CPU per output, % of one core", [](const json& j) { return num(j, {"cpu", "perOutputPct"}); }, 2});
  r.push_back({"Machine busy during the window, % of all cores (everything)", [](const json& j) { return num(j, {"machine", "busyPctOfAllCores"}); }, 1, false});
  r.push_back({"Probe tool's own CPU, % of one core (not counted above)", [](const json& j) { return num(j, {"machine", "probeToolPctOfCore"}); }, 1, false});
  r.push_back({"Peak RSS, MiB", [](const json& j) { return mib(j, {"memory", "peakRssKiB"}); }, 1});
  r.push_back({"Peak PSS, MiB", [](const json& j) { return mib(j, {"memory", "peakPssKiB"}); }, 1});
  r.push_back({"Outputs being published at the window's end", nullptr, 0, false, [](const json& j) {
                 const json* outs = at(j, {"delivery", "outputs"});
                 if (!outs) return std::string("n/a");
                 int live = 0;
                 for (const auto& o : *outs) live += o.value("publishingAtEnd", false);
                 return std::to_string(live) + " of " + std::to_string(outs->size());
               }});
  r.push_back({"Delivered ÷ source bytes/s, worst output, %", [](const json& j) { return pct(j, {"delivery", "ratio", "min"}); }, 2, false});
  r.push_back({"Delivered ÷ source bytes/s, median output, %", [](const json& j) { return pct(j, {"delivery", "ratio", "median"}); }, 2, false});
  r.push_back({"Media time ÷ wall time at the endpoints, worst output", [](const json& j) { return num(j, {"delivery", "mediaRate", "min"}); }, 3, false});
  r.push_back({"Video fps at the probed outputs, worst (source fps in the next row)", [](const json& j) { return minFps(j, false, -1); }, 2, false});
  r.push_back({"Video fps at the source (same venue)", [](const json& j) { return num(j, {"frames", "sourceFps"}); }, 2, false});
  r.push_back({"Drops reported by the candidate in the window", ownDrops, 0, false});
  r.push_back({"Drops by the source for its players (the candidate, the probes)", [](const json& j) { return num(j, {"drops", "sourcePlayers"}); }, 0, false});
  r.push_back({"Frames missing at the probed outputs", [](const json& j) { return num(j, {"frames", "missingAll"}); }, 0, false});
  r.push_back({"Added latency, median, ms", [](const json& j) { return num(j, {"latency", "video", "medianMs"}); }, 2});
  r.push_back({"Added latency, p95, ms", [](const json& j) { return num(j, {"latency", "video", "p95Ms"}); }, 2});
  r.push_back({"Added latency, p99, ms", [](const json& j) { return num(j, {"latency", "video", "p99Ms"}); }, 2});
  r.push_back({"Added latency, max, ms", [](const json& j) { return num(j, {"latency", "video", "maxMs"}); }, 2});
  r.push_back({"Latency samples (matched video packets)", [](const json& j) { return num(j, {"latency", "video", "n"}); }, 0, false});
  r.push_back({"Noise floor (2nd source probe), median / p99, ms", nullptr, 0, false, [](const json& j) {
                 return fmt(num(j, {"latency", "noiseFloor", "medianMs"}), 2) + " / " +
                        fmt(num(j, {"latency", "noiseFloor", "p99Ms"}), 2);
               }});
  r.push_back({"Time to first keyframe, median over probes, ms", [](const json& j) { return num(j, {"ttfk", "stats", "medianMs"}); }, 0});
  r.push_back({"Time to first keyframe, worst probe, ms", [](const json& j) { return num(j, {"ttfk", "stats", "maxMs"}); }, 0});
  r.push_back({"Time to first keyframe per venue (v0 / v1 / …; median over endpoints), ms", nullptr, 0, false, ttfkPerVenue});
  r.push_back({"Candidate started after a v0 keyframe at the source, ms", [](const json& j) { return num(j, {"startAfterSourceKeyframeMs"}); }, 1, false});
  if (s.stall) {
    const int k = s.stallEndpoint;
    r.push_back({"Other outputs: added latency, median, ms", [](const json& j) { return num(j, {"latency", "videoOther", "medianMs"}); }, 2});
    r.push_back({"Other outputs: added latency, p99, ms", [](const json& j) { return num(j, {"latency", "videoOther", "p99Ms"}); }, 2});
    r.push_back({"Other outputs: added latency, max, ms", [](const json& j) { return num(j, {"latency", "videoOther", "maxMs"}); }, 2});
    r.push_back({"Other outputs, during the stall (+2 s): p99, ms", [](const json& j) { return num(j, {"latency", "videoOtherDuringStall", "p99Ms"}); }, 2});
    r.push_back({"Other outputs, during the stall (+2 s): max, ms", [](const json& j) { return num(j, {"latency", "videoOtherDuringStall", "maxMs"}); }, 2});
    r.push_back({"Other outputs: delivered ÷ source, worst, %", [](const json& j) { return pct(j, {"delivery", "ratioOther", "min"}); }, 2, false});
    r.push_back({"Other outputs: media time ÷ wall time, worst", [](const json& j) { return num(j, {"delivery", "mediaRateOther", "min"}); }, 3, false});
    r.push_back({"Other outputs: frames missing (probed)", [](const json& j) { return num(j, {"frames", "missingOther"}); }, 0, false});
    r.push_back({"Stalled endpoint's outputs: delivered ÷ source over the window, worst, %", [k](const json& j) { return endpointRatio(j, k); }, 1, false});
    r.push_back({"RSS before the stall / peak during / peak after, MiB", nullptr, 0, false, [](const json& j) {
                   return fmt(mib(j, {"stall", "rssBeforeKiB"}), 1) + " / " + fmt(mib(j, {"stall", "rssPeakDuringKiB"}), 1) +
                          " / " + fmt(mib(j, {"stall", "rssPeakAfterKiB"}), 1);
                 }});
  }
  return r;
}

std::string table(const Scenario& s) {
  std::ostringstream t;
  t << "| |";
  for (const auto& c : kCandidates) t << " " << c.title << " |";
  for (std::size_t i = 1; i < kCandidates.size(); ++i) t << " venuecast ÷ " << kCandidates[i].title << " |";
  t << "\n|---|";
  for (std::size_t i = 0; i < kCandidates.size() * 2 - 1; ++i) t << "--:|";
  t << "\n";
  for (const auto& row : rowsFor(s)) {
    t << "| " << row.label << " |";
    std::vector<Value> vals;
    for (const auto& c : kCandidates) {
      const json* j = s.of(c.id);
      if (!j) {
        t << " n/a |";
        vals.push_back(std::nullopt);
        continue;
      }
      if (row.text) {
        t << " " << row.text(*j) << " |";
        vals.push_back(std::nullopt);
      } else {
        auto v = row.value(*j);
        vals.push_back(v);
        t << " " << fmt(v, row.decimals) << " |";
      }
    }
    for (std::size_t i = 1; i < kCandidates.size(); ++i)
      t << " " << (row.ratios && !row.text ? ratio(vals[0], vals[i]) : "") << " |";
    t << "\n";
  }
  return t.str();
}

struct Verdict {
  std::vector<std::string> lines;
  bool failed = false;
  void add(std::optional<bool> pass, const std::string& text) {
    if (!pass) {
      lines.push_back("- **n/a** " + text + " (not measured)");
      failed = true;
      return;
    }
    lines.push_back(std::string("- ") + (*pass ? "**PASS** " : "**FAIL** ") + text);
    failed |= !*pass;
  }
};

std::optional<bool> le(Value a, Value b) {
  if (!a || !b) return std::nullopt;
  return *a <= *b;
}

void targets(const Scenario& s, const Scenario* baseline, Verdict& v) {
  const json* vc = s.of("venuecast");
  const json* ng = s.of("nginx");
  const json* ff = s.of("ffmpeg");
  static const json empty = json::object();
  const json& V = vc ? *vc : empty;
  const json& G = ng ? *ng : empty;
  const json& F = ff ? *ff : empty;
  const std::string tag = "[" + s.id + "] ";
  const double rssLimit = s.venues * s.endpoints <= 12 ? 64 : 128;
  if (s.push) {
    // Push ingest: what receiving the publishes costs, against nginx-rtmp receiving the same publishes.
    auto inV = num(V, {"cpu", "perInputPct"}), inG = num(G, {"cpu", "perInputPct"});
    v.add(inV && inG ? std::optional<bool>(*inV <= 1.5 * *inG) : std::nullopt,
          tag + "push ingest: CPU per input ≤ 1.5× nginx-rtmp's: " + fmt(inV, 2) + "% vs " + fmt(inG, 2) + "% (" +
              ratio(inV, inG) + ")");
    auto rss = mib(V, {"memory", "peakRssKiB"});
    v.add(le(rss, rssLimit), tag + "peak RSS ≤ " + fmt(rssLimit, 0) + " MiB: " + fmt(rss, 1) + " MiB");
    auto med = num(V, {"latency", "video", "medianMs"});
    v.add(le(med, 5.0), tag + "added latency median ≤ 5 ms: " + fmt(med, 2) + " ms");
    return;
  }
  if (!s.stall) {
    auto cpuV = num(V, {"cpu", "perOutputPct"}), cpuG = num(G, {"cpu", "perOutputPct"}), cpuF = num(F, {"cpu", "perOutputPct"});
    v.add(cpuV && cpuG ? std::optional<bool>(*cpuV <= 1.0 * *cpuG) : std::nullopt,
          tag + "CPU per output ≤ 1.0× nginx-rtmp's: " + fmt(cpuV, 2) + "% vs " + fmt(cpuG, 2) + "% (" + ratio(cpuV, cpuG) + ")");
    v.add(cpuV && cpuF ? std::optional<bool>(*cpuV <= 0.35 * *cpuF) : std::nullopt,
          tag + "CPU per output ≤ 0.35× ffmpeg tee's: " + fmt(cpuV, 2) + "% vs " + fmt(cpuF, 2) + "% (" + ratio(cpuV, cpuF) + ")");
    auto rss = mib(V, {"memory", "peakRssKiB"});
    v.add(le(rss, rssLimit), tag + "peak RSS ≤ " + fmt(rssLimit, 0) + " MiB: " + fmt(rss, 1) + " MiB");
    auto med = num(V, {"latency", "video", "medianMs"});
    v.add(le(med, 5.0), tag + "added latency median ≤ 5 ms: " + fmt(med, 2) + " ms");
    auto p99V = num(V, {"latency", "video", "p99Ms"}), p99G = num(G, {"latency", "video", "p99Ms"});
    v.add(le(p99V, p99G), tag + "added latency p99 no worse than nginx-rtmp's: " + fmt(p99V, 2) + " ms vs " + fmt(p99G, 2) + " ms");
    auto kV = num(V, {"ttfk", "stats", "medianMs"}), kG = num(G, {"ttfk", "stats", "medianMs"});
    v.add(le(kV, kG), tag + "time to first keyframe (median over probes) no worse than nginx-rtmp's: " + fmt(kV, 0) +
                          " ms vs " + fmt(kG, 0) + " ms");
    auto rMin = num(V, {"delivery", "ratio", "min"}), rMax = num(V, {"delivery", "ratio", "max"});
    auto mMin = num(V, {"delivery", "mediaRate", "min"}), mMax = num(V, {"delivery", "mediaRate", "max"});
    auto drops = num(V, {"drops", "candidateLog"}), miss = num(V, {"frames", "missingAll"}),
         srcDrops = num(V, {"drops", "sourcePlayers"});
    std::optional<bool> ok;
    if (rMin && rMax && mMin && mMax && drops && miss && srcDrops)
      ok = *rMin >= 0.98 && *rMax <= 1.02 && *mMin >= 0.98 && *mMax <= 1.02 && *drops == 0 && *miss == 0 && *srcDrops == 0;
    v.add(ok, tag + "every output delivered at the source's rate (within 2%) with no drops: bytes " +
                  fmt(rMin ? Value(*rMin * 100) : std::nullopt, 2) + "–" + fmt(rMax ? Value(*rMax * 100) : std::nullopt, 2) +
                  "% of the source, media time " + fmt(mMin, 3) + "–" + fmt(mMax, 3) + "× wall time, drops " +
                  fmt(drops, 0) + " (venuecast) + " + fmt(srcDrops, 0) + " (source) , frames missing " + fmt(miss, 0) +
                  (s.venues * s.endpoints > 12 ? "" : " (the target is for 16×4; checked here too)"));
    return;
  }
  // A stalled endpoint: the other outputs must not notice, and venuecast's memory must stay bounded.
  auto rMin = num(V, {"delivery", "ratioOther", "min"}), rMax = num(V, {"delivery", "ratioOther", "max"});
  auto mMin = num(V, {"delivery", "mediaRateOther", "min"});
  auto miss = num(V, {"frames", "missingOther"});
  int64_t drops = vc ? otherLogDrops(V, s.stallEndpoint) : 0;
  std::optional<bool> ok;
  if (rMin && rMax && mMin && miss) ok = *rMin >= 0.98 && *rMax <= 1.02 && *mMin >= 0.98 && *miss == 0 && drops == 0;
  v.add(ok, tag + "the other outputs' delivery does not change: bytes " + fmt(rMin ? Value(*rMin * 100) : std::nullopt, 2) +
                "–" + fmt(rMax ? Value(*rMax * 100) : std::nullopt, 2) + "% of the source, media time ≥ " + fmt(mMin, 3) +
                "× wall time, drops " + std::to_string(drops) + ", frames missing " + fmt(miss, 0));
  auto med = num(V, {"latency", "videoOther", "medianMs"});
  auto p99 = num(V, {"latency", "videoOther", "p99Ms"});
  Value base = baseline && baseline->of("venuecast") ? num(*baseline->of("venuecast"), {"latency", "video", "p99Ms"}) : std::nullopt;
  v.add(le(med, 5.0), tag + "the other outputs' added latency median ≤ 5 ms: " + fmt(med, 2) + " ms");
  v.add(base ? le(p99, *base + 5.0) : std::nullopt,
        tag + "the other outputs' latency p99 does not change (≤ the unstalled " + (baseline ? baseline->id : "?") +
            " run's p99 + 5 ms): " + fmt(p99, 2) + " ms vs " + fmt(base, 2) + " ms");
  auto p99G = num(G, {"latency", "videoOther", "p99Ms"});
  v.add(le(p99, p99G), tag + "the other outputs' latency p99 no worse than nginx-rtmp's: " + fmt(p99, 2) + " ms vs " +
                           fmt(p99G, 2) + " ms");
  // Bounded: what the stall adds stays within the queues' design limit (5 s of media per output to the stalled
  // endpoint), and the whole process stays within the scenario's RSS target.
  auto rss = mib(V, {"memory", "peakRssKiB"});
  auto during = mib(V, {"stall", "rssPeakDuringKiB"}), after = mib(V, {"stall", "rssPeakAfterKiB"}),
       before = mib(V, {"stall", "rssBeforeKiB"});
  Value queues;
  if (const json* src = at(V, {"delivery", "source"})) {
    double bps = 0;
    for (const auto& x : *src) bps += x.value("bytesPerS", 0.0);
    queues = 5.0 * bps / (1024 * 1024);
  }
  Value growth = during && after && before ? Value(std::max(*during, *after) - *before) : std::nullopt;
  v.add(growth && queues ? std::optional<bool>(*growth <= *queues) : std::nullopt,
        tag + "venuecast's memory stays bounded during the stall (RSS growth ≤ the queues' limit, 5 s of media per " +
            "output to the stalled endpoint = " + fmt(queues, 1) + " MiB): " + fmt(before, 1) + " MiB before, " +
            fmt(during, 1) + " MiB at most during, " + fmt(after, 1) + " MiB at most after (+" + fmt(growth, 1) + " MiB)");
  v.add(le(rss, rssLimit), tag + "peak RSS with a stalled endpoint ≤ " + fmt(rssLimit, 0) + " MiB (the " +
                               std::to_string(s.venues) + "×" + std::to_string(s.endpoints) + " target): " +
                               fmt(rss, 1) + " MiB");
}


std::string utcNow() {
  std::time_t t = std::time(nullptr);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", std::gmtime(&t));
  return buf;
}

std::string title(const Scenario& s) {
  std::ostringstream t;
  t << s.venues << " venues × " << s.endpoints << " endpoints (" << s.venues * s.endpoints << " outputs)";
  if (s.push) t << ", the venues publish to the candidate (the source nginx pushes each feed to it)";
  if (s.stall) {
    const json* any = s.of("venuecast") ? s.of("venuecast") : s.runs.empty() ? nullptr : &s.runs.begin()->second;
    t << ", endpoint " << s.stallEndpoint << " SIGSTOPped for "
      << (any ? fmt(num(*any, {"stall", "durationS"}), 1) : "?") << " s from "
      << (any ? fmt(num(*any, {"stall", "startS"}), 1) : "?") << " s into the window";
  }
  return t.str();
}

}  // namespace

int runReport(const ReportOptions& o) {
  std::vector<Scenario> scenarios;
  for (const auto& id : o.scenarios) {
    Scenario s;
    s.id = id;
    s.push = id.rfind("push-", 0) == 0;
    for (const auto& c : kCandidates) {
      auto f = o.results / id / (c.id + ".json");
      std::ifstream in(f);
      if (!in) continue;
      try {
        json j = json::parse(in);
        s.venues = j.value("venues", 0);
        s.endpoints = j.value("endpoints", 0);
        if (j.contains("stall")) {
          s.stall = true;
          s.stallEndpoint = j["stall"].value("endpoint", -1);
        }
        s.runs[c.id] = std::move(j);
      } catch (const std::exception& e) {
        std::cerr << "report: " << f << ": " << e.what() << "\n";
      }
    }
    scenarios.push_back(std::move(s));
  }

  std::ostringstream doc;
  Verdict verdict;
  for (const auto& s : scenarios) {
    const Scenario* baseline = nullptr;
    if (s.stall)
      for (const auto& b : scenarios)
        if (!b.stall && !b.push && b.venues == s.venues && b.endpoints == s.endpoints) baseline = &b;
    targets(s, baseline, verdict);
  }
  if (o.document) {
    doc << "# Benchmarks\n\n"
        << "Written by `scripts/bench.sh` (the latest full run replaces this file; `--quick` runs do not touch it). "
           "How each figure is measured is described at the end.\n\n";
  }
  doc << "## " << o.heading << "\n\n";
  doc << "- Date: " << (o.date.empty() ? utcNow() : o.date) << "\n";
  for (const auto& n : o.notes) doc << "- " << n << "\n";
  doc << "- Command: `" << o.command << "`\n\n";
  doc << "Absolute figures are noisy on shared machines; the ratios measured within one run are what counts.\n\n";
  doc << "### Targets (venuecast)\n\n";
  for (const auto& l : verdict.lines) doc << l << "\n";
  doc << "\n";
  for (const auto& s : scenarios) {
    doc << "### " << s.id << ": " << title(s) << "\n\n";
    if (s.runs.empty()) {
      doc << "No results.\n\n";
      continue;
    }
    doc << table(s) << "\n";
    for (const auto& c : kCandidates) {
      const json* j = s.of(c.id);
      if (!j) continue;
      if (!j->value("ok", false)) {
        doc << "- " << c.title << ": the run reported problems:";
        for (const auto& e : j->value("errors", std::vector<std::string>{})) doc << " " << e << ";";
        doc << "\n";
      }
    }
    doc << "\n";
  }
  if (o.document && !o.append.empty()) {
    std::ifstream in(o.append);
    if (!in) {
      std::cerr << "report: cannot read " << o.append << "\n";
      return 1;
    }
    doc << in.rdbuf() << "\n";
  }
  if (o.document) {
    doc << R"(## How it is measured

Everything runs on 127.0.0.1 and is started and stopped (by PID) by `scripts/bench.sh`; each scenario gets
fresh servers and feeds, and the three candidates run one after another on the same feeds and endpoints.

- **Source**: one nginx-rtmp (`daemon off; master_process off;`, so one PID). N venue feeds publish to it, each
  `ffmpeg -re -stream_loop -1 -i clip.flv -c copy -f flv`, started 2 s / N apart so their keyframes are spread
  over the GOP. The clip is generated once into `build/bench-cache/` (not committed): 20 s of 1080p30 H.264 High,
  2 B-frames, closed 2 s GOP (60 frames, no scene cuts), x264 `veryfast` at 6 Mbit/s CBR (`nal-hrd=cbr`,
  VBV 6 Mbit), from `testsrc2` with strong temporal noise so every frame differs and x264 spends the
  bitrate; AAC-LC 128 kbit/s 48 kHz stereo (pink noise).
- **Endpoints**: M nginx-rtmp instances, one PID each, application `live`, stat page on.
- **Candidates**:
  1. `build/venuecast run` with a config that pulls every venue from the source and pushes it to `live/<venue>`
     at every endpoint;
  2. nginx-rtmp as the relay: the source's application `push`es every stream to a relay nginx whose application
     `push`es to the M endpoints (`pull` would not trigger `push`). The source retries its push every 100 ms
     (`push_reconnect 100ms`) so the relay's start is picked up at once; the relay nginx is the candidate's
     only process;
  3. ffmpeg, one process per venue: `ffmpeg -i rtmp://source/venue/<v> -map 0 -c copy -f tee
     "[f=flv:onfail=ignore]rtmp://endpoint1/live/<v>|…"` (default input probing).
- **Start**: the measuring tool (`build/bench/venuecast-bench-probe measure`) connects its probes first, waits
  for a keyframe of the probed venue at the source and starts the candidate right after it, so every candidate
  starts at the same point of the GOP. It then waits for the warm-up and measures over a fixed window.
- **CPU**: utime + stime from `/proc/<pid>/stat` of the candidate's whole process tree, at the start and at the
  end of the window, as % of one core; divided by N (per input) and by N × M (per output). The probes, the
  feeds and the nginx servers are not counted.
- **Memory**: peak RSS is the sum of `VmHWM` over the candidate's processes (for a single process: the kernel's
  own peak), and never less than the largest sum of `VmRSS` sampled every 200 ms; peak PSS is the largest sum of
  `Pss` from `smaps_rollup`, sampled every second. Both cover the candidate's whole life up to the window's end.
- **Delivery**: per output, `bytes_in` of the stream at the endpoint over the window divided by `bytes_in` of
  its venue at the source (nginx-rtmp `/stat`); RTMP chunking differs slightly between libavformat and nginx
  pushes, so ~1% either way is framing, not media. Media time ÷ wall time uses the publisher's `<timestamp>`.
  Frames per second are counted by the probes.
- **Drops**: what the candidate reports (venuecast's periodic "dropped N packets" log lines; the relay nginx's
  `<dropped>` counters), the source's `<dropped>` counters for its players, and, at the probed outputs, source
  frames between the first and last matched packet that never arrived.
- **Added latency**: one venue (`v0`) is probed at the source twice and at every endpoint by in-process
  libavformat RTMP players that timestamp the bytes as they come out of the RTMP layer (the integration
  harness's `StreamProbe`). Video packets at each endpoint are matched to the source's by their sequence of
  payload sizes (`PacketMatcher`; the relays rebase timestamps), and the arrival-time differences over the
  window give median / p95 / p99 / max. The second source probe matched against the first is the noise floor.
- **Time to first keyframe**: from the candidate's start to the first video keyframe at each endpoint, for the
  first four venues at every endpoint (probes that close once they have their keyframe). The feeds start 2 s / N
  apart and the candidate starts right after a keyframe of `v0`, so venue `vk`'s next keyframe arrives about
  2k/N s after the start (and `v0`'s 2 s after). At 4×3 that is 0.5 / 1.0 / 1.5 / 2.0 s, after any candidate
  is ready: the per-venue figures are each candidate's own startup delay. At 16×4 it is 0.125 / 0.25 / 0.375 /
  2.0 s, during the startup: whether a keyframe is caught or the next one (2 s later) is awaited decides the
  figure, so the median over the probes there is bimodal; the per-venue row shows which keyframes were caught.
- **Stalled endpoint**: the last endpoint's nginx is SIGSTOPped 15 s into the window for 15 s, then continued.
  "Other outputs" are those to the other endpoints.
- **Targets**: CPU per output ≤ 1.0× nginx-rtmp's and ≤ 0.35× ffmpeg tee's; peak RSS ≤ 64 MiB at 4×3 and
  ≤ 128 MiB at 16×4; added latency median ≤ 5 ms and p99 no worse than nginx-rtmp's; time to first keyframe no
  worse than nginx-rtmp's; every output delivered at the source's rate (within 2%) with no drops. With a stalled
  endpoint: the other outputs' delivery stays within 2% with no drops, their latency median ≤ 5 ms and p99 within
  5 ms of the unstalled run's (and no worse than nginx-rtmp's); venuecast's memory is bounded: its RSS grows by no
  more than its queues' limit (5 s of media per output to the stalled endpoint) and its peak RSS stays within the
  scenario's target.
- **Push ingest** (`push-NxM`): the venues publish to the candidate instead of being pulled: the source nginx
  pushes each feed to venuecast's RTMP listener (`rtmp://…/venue/vK?key=…`), exactly as it pushes them to the
  relay nginx in every scenario. Target: CPU per input ≤ 1.5× nginx-rtmp's, with the RSS and latency-median
  targets of the pull scenarios. ffmpeg's tee, which can only pull, is not run.
- **Nagle and delayed ACKs**: nginx-rtmp does not set `TCP_NODELAY`, so a receiver that delays its ACK (up to
  40 ms on Linux) can hold back the end of a frame. The probes ACK at once (`TCP_QUICKACK` on every read), so this
  is not in the noise floor; the candidates' own connections keep their own behaviour, which is why the p95/p99
  of every candidate sit near multiples of ~40 ms.
)";
  }
  const std::string text = doc.str();
  std::cout << text;
  if (!o.out.empty()) {
    std::ofstream f(o.out);
    f << text;
    if (!f) {
      std::cerr << "report: cannot write " << o.out << "\n";
      return 1;
    }
  }
  return verdict.failed ? 3 : 0;
}

}  // namespace venuecast::bench
