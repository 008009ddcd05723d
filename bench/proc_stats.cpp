#include "proc_stats.h"

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace venuecast::bench {
namespace {

bool readStat(pid_t pid, ProcTimes& out) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return false;
  auto close = line.rfind(')');  // comm may contain spaces and parentheses
  if (close == std::string::npos) return false;
  std::istringstream rest(line.substr(close + 2));
  // Fields from 3 (state) on; we want 4 ppid, 14 utime, 15 stime, 16 cutime, 17 cstime, 22 starttime.
  std::vector<std::string> f;
  for (std::string tok; rest >> tok && f.size() < 20;) f.push_back(tok);
  if (f.size() < 20) return false;
  auto at = [&](int field) { return std::strtoll(f[field - 3].c_str(), nullptr, 10); };
  out.ppid = static_cast<pid_t>(at(4));
  out.ticks = at(14) + at(15);
  out.childTicks = at(16) + at(17);
  out.startTicks = at(22);
  return true;
}

int64_t statusKiB(const std::string& text, const char* key) {
  auto p = text.find(key);
  if (p == std::string::npos) return 0;
  return std::strtoll(text.c_str() + p + std::strlen(key), nullptr, 10);
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

long ProcStats::ticksPerSecond() {
  static long t = ::sysconf(_SC_CLK_TCK);
  return t;
}

std::vector<pid_t> ProcStats::tree(const std::vector<pid_t>& roots) {
  std::multimap<pid_t, pid_t> children;  // ppid -> pid
  if (DIR* d = ::opendir("/proc")) {
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
      pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
      ProcTimes t;
      if (readStat(pid, t)) children.emplace(t.ppid, pid);
    }
    ::closedir(d);
  }
  std::vector<pid_t> out;
  std::set<pid_t> seen;
  std::vector<pid_t> todo;
  for (pid_t r : roots)
    if (r > 0 && ::kill(r, 0) == 0) todo.push_back(r);
  while (!todo.empty()) {
    pid_t p = todo.back();
    todo.pop_back();
    if (!seen.insert(p).second) continue;
    out.push_back(p);
    auto [b, e] = children.equal_range(p);
    for (auto it = b; it != e; ++it) todo.push_back(it->second);
  }
  return out;
}

TreeTimes ProcStats::times(const std::vector<pid_t>& roots) {
  TreeTimes out;
  for (pid_t p : tree(roots)) {
    ProcTimes t;
    if (readStat(p, t)) out[{p, t.startTicks}] = t;
  }
  return out;
}

double ProcStats::cpuSeconds(const TreeTimes& begin, const TreeTimes& end, const std::vector<pid_t>& roots,
                             int* lost) {
  int64_t ticks = 0;
  for (const auto& [key, t] : end) {
    auto it = begin.find(key);
    ticks += t.ticks - (it == begin.end() ? 0 : it->second.ticks);
    if (std::find(roots.begin(), roots.end(), key.first) != roots.end())
      ticks += t.childTicks - (it == begin.end() ? 0 : it->second.childTicks);
  }
  int gone = 0;
  for (const auto& [key, t] : begin) gone += end.count(key) == 0;
  if (lost) *lost = gone;
  return static_cast<double>(ticks) / ticksPerSecond();
}

TreeMemory ProcStats::memory(const std::vector<pid_t>& roots, bool withPss) {
  TreeMemory m;
  if (withPss) m.pssKiB = 0;
  for (pid_t p : tree(roots)) {
    std::string base = "/proc/" + std::to_string(p);
    std::string status = slurp(base + "/status");
    if (status.empty()) continue;
    ++m.processes;
    m.rssKiB += statusKiB(status, "VmRSS:");
    m.hwmKiB += statusKiB(status, "VmHWM:");
    if (withPss) m.pssKiB += statusKiB(slurp(base + "/smaps_rollup"), "\nPss:");
  }
  return m;
}

}  // namespace venuecast::bench
