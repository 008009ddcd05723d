#pragma once
// A child process started by the harness and only ever signalled by its own PID.
// stdout and stderr go to a log file (stderr optionally to a second file). The child gets its own process
// group (so a terminal ^C does not reach it mid-test), default signal dispositions, no inherited fds beyond
// 0-2, and PR_SET_PDEATHSIG=SIGKILL: if the test process dies (crash, ctest timeout), the child dies too.
// (All children are forked by one internal thread that lives as long as the process, because that signal is
// tied to the forking thread; so any thread may create a ChildProcess.) The destructor SIGKILLs and reaps a
// child that is still running.
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <utility>
#include <vector>

namespace venuecast::testing {

struct ExitStatus {
  bool exited = false;     // exited normally (then exitCode is valid)
  int exitCode = -1;
  int termSignal = 0;      // signal that ended it, 0 if it exited
  bool killed = false;     // terminate() had to escalate to SIGKILL
  std::chrono::milliseconds elapsed{0};  // how long terminate()/waitExit() waited
  bool ok() const { return exited && exitCode == 0; }
  std::string describe() const;
};

class ChildProcess {
 public:
  struct Options {
    std::vector<std::string> argv;  // argv[0] is looked up in PATH if it has no '/'
    std::vector<std::pair<std::string, std::string>> env;  // added to / overriding the test's environment
    std::filesystem::path logFile;   // stdout (and stderr unless stderrFile is set); appended to
    std::filesystem::path stderrFile;
    std::filesystem::path workDir;   // empty = inherit
  };

  explicit ChildProcess(Options options);  // spawns now; throws std::runtime_error if exec fails
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  bool signal(int sig);  // false if it has already been reaped
  bool suspend();        // SIGSTOP
  bool resume();         // SIGCONT
  // SIGTERM, wait up to `timeout`, then SIGKILL and wait (bounded, 5 s). Idempotent.
  ExitStatus terminate(std::chrono::milliseconds timeout = std::chrono::seconds(3));
  // Waits for the child to exit on its own; nullopt on timeout (child left running).
  std::optional<ExitStatus> waitExit(std::chrono::milliseconds timeout);
  std::optional<ExitStatus> exitStatus() const;  // set once reaped

  const std::filesystem::path& logPath() const { return options_.logFile; }
  std::string logText() const;
  std::size_t logSize() const;  // bytes written so far (use as `fromOffset` to wait for new lines only)
  // Polls the log (every 20 ms) for a *line* matching `re` (std::regex_search) at or after byte `fromOffset`.
  // Returns the matching line, or nullopt after `timeout` or once the child has exited with no match.
  std::optional<std::string> waitForLog(const std::regex& re, std::chrono::milliseconds timeout,
                                        std::size_t fromOffset = 0) const;
  std::size_t countLogLines(const std::regex& re) const;
  std::string commandLine() const;

 private:
  bool reapLocked(bool block) const;
  Options options_;
  pid_t pid_ = -1;
  mutable std::mutex mutex_;
  mutable std::optional<ExitStatus> status_;
};

}  // namespace venuecast::testing
