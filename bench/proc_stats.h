#pragma once
// /proc readings for a candidate's process tree: CPU time (utime + stime), RSS, peak RSS (VmHWM) and PSS
// (smaps_rollup). A "tree" is the given root PIDs and all their descendants at the time of the sample.
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <utility>
#include <vector>

namespace venuecast::bench {

struct ProcTimes {
  int64_t ticks = 0;        // utime + stime of the process (all its threads)
  int64_t childTicks = 0;   // cutime + cstime (children it has reaped)
  int64_t startTicks = 0;   // starttime, so a reused PID is not mistaken for the same process
  pid_t ppid = 0;
};

// (pid, starttime) -> times, for every process in the tree.
using TreeTimes = std::map<std::pair<pid_t, int64_t>, ProcTimes>;

struct TreeMemory {
  int64_t rssKiB = 0;   // sum of VmRSS
  int64_t hwmKiB = 0;   // sum of VmHWM (each process's own peak RSS)
  int64_t pssKiB = -1;  // sum of Pss from smaps_rollup; -1 if not read
  int processes = 0;
};

class ProcStats {
 public:
  static long ticksPerSecond();
  static std::vector<pid_t> tree(const std::vector<pid_t>& roots);  // roots (alive) + descendants
  static TreeTimes times(const std::vector<pid_t>& roots);
  // CPU seconds spent by the tree between two samples: for every process in `end`, its ticks minus its ticks in
  // `begin` (0 if it is new), plus what reaped children added to the roots' cutime/cstime. Processes that exited
  // in between are lost; `lost` counts them.
  static double cpuSeconds(const TreeTimes& begin, const TreeTimes& end, const std::vector<pid_t>& roots,
                           int* lost = nullptr);
  static TreeMemory memory(const std::vector<pid_t>& roots, bool withPss);
};

}  // namespace venuecast::bench
