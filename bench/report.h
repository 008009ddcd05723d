#pragma once
// `venuecast-bench-probe report`: tables (one per scenario, candidates side by side, venuecast's ratios to each
// peer) and the targets as PASS/FAIL lines, as Markdown, from the JSON files `measure` wrote.
#include <filesystem>
#include <string>
#include <vector>

namespace venuecast::bench {

struct ReportOptions {
  std::filesystem::path results;       // <results>/<scenario>/<candidate>.json
  std::vector<std::string> scenarios;  // directory names, in order, e.g. 4x3 16x4 stall-4x3
  std::string command;                 // the exact command that produced the run
  std::string date;                    // when the run started ("" = now)
  std::vector<std::string> notes;      // extra "machine / versions / settings" lines
  std::filesystem::path out;           // also write the document here ("" = stdout only)
  std::string heading = "Run";         // e.g. "Latest full run", "Quick run"
  bool document = false;               // the whole BENCHMARKS.md: title and the "How it is measured" section
  std::filesystem::path append;        // a hand-written section (the profiling log) added to the document
};

// Prints the report to stdout (and `out`); returns 0 if every target passed, 3 if one failed, 1 on error.
int runReport(const ReportOptions& options);

}  // namespace venuecast::bench
