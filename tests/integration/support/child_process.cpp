#include "support/child_process.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "support/temp_dir.h"

extern char** environ;

namespace venuecast::testing {
namespace {

using Clock = std::chrono::steady_clock;

std::vector<std::string> mergedEnvironment(const std::vector<std::pair<std::string, std::string>>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    bool overridden = false;
    for (const auto& [k, v] : extra) overridden |= eq != std::string::npos && kv.compare(0, eq, k) == 0 && k.size() == eq;
    if (!overridden) env.push_back(std::move(kv));
  }
  for (const auto& [k, v] : extra) env.push_back(k + "=" + v);
  return env;
}

std::vector<char*> cArray(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Runs in the forked child: only async-signal-safe calls until execvp.
[[noreturn]] void execChild(int errWrite, int logFd, int errFd, const char* workDir, char** argv, char** envp,
                            pid_t parent) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);
  ::setpgid(0, 0);
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int s = 1; s < NSIG; ++s) {
    if (s != SIGKILL && s != SIGSTOP) ::signal(s, SIG_DFL);
  }
  int devnull = ::open("/dev/null", O_RDONLY);
  if (devnull < 0 || ::dup2(devnull, 0) < 0 || ::dup2(logFd, 1) < 0 || ::dup2(errFd, 2) < 0) goto fail;
  if (workDir && ::chdir(workDir) != 0) goto fail;
  ::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
  ::environ = envp;
  ::execvp(argv[0], argv);
fail:
  int err = errno;
  [[maybe_unused]] auto n = ::write(errWrite, &err, sizeof err);
  ::_exit(127);
}

// PR_SET_PDEATHSIG fires when the *thread* that forked the child ends, so all children are forked by one
// thread that lives as long as the test process (never joined; intentionally not destroyed).
class Spawner {
 public:
  static Spawner& instance() {
    static Spawner* spawner = new Spawner;
    return *spawner;
  }
  pid_t run(std::function<pid_t()> job) {
    std::packaged_task<pid_t()> task(std::move(job));
    auto result = task.get_future();
    {
      std::lock_guard lock(mutex_);
      jobs_.push_back(std::move(task));
    }
    cv_.notify_one();
    return result.get();
  }

 private:
  Spawner() {
    std::thread([this] {
      for (;;) {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [this] { return !jobs_.empty(); });
        auto task = std::move(jobs_.front());
        jobs_.pop_front();
        lock.unlock();
        task();
      }
    }).detach();
  }
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::packaged_task<pid_t()>> jobs_;
};

ExitStatus decode(int status) {
  ExitStatus s;
  if (WIFEXITED(status)) {
    s.exited = true;
    s.exitCode = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    s.termSignal = WTERMSIG(status);
  }
  return s;
}

}  // namespace

std::string ExitStatus::describe() const {
  std::ostringstream os;
  if (exited) os << "exit code " << exitCode;
  else if (termSignal) os << "signal " << termSignal << " (" << ::strsignal(termSignal) << ")";
  else os << "not exited";
  if (killed) os << ", needed SIGKILL";
  os << ", after " << elapsed.count() << " ms";
  return os.str();
}

ChildProcess::ChildProcess(Options options) : options_(std::move(options)) {
  if (options_.argv.empty()) throw std::invalid_argument("ChildProcess: empty argv");
  if (options_.logFile.empty()) throw std::invalid_argument("ChildProcess: no log file");
  auto env = mergedEnvironment(options_.env);
  auto args = options_.argv;
  auto envp = cArray(env);
  auto argv = cArray(args);
  std::string workDir = options_.workDir.string();

  int logFd = ::open(options_.logFile.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (logFd < 0) throw std::runtime_error("ChildProcess: cannot open " + options_.logFile.string());
  int errFd = logFd;
  if (!options_.stderrFile.empty()) {
    errFd = ::open(options_.stderrFile.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (errFd < 0) {
      ::close(logFd);
      throw std::runtime_error("ChildProcess: cannot open " + options_.stderrFile.string());
    }
  }
  int pipeFds[2];
  if (::pipe2(pipeFds, O_CLOEXEC) != 0) throw std::runtime_error("ChildProcess: pipe2 failed");
  pid_t parent = ::getpid();
  int forkErr = 0;
  pid_t pid = Spawner::instance().run([&] {
    pid_t p = ::fork();
    if (p == 0) execChild(pipeFds[1], logFd, errFd, workDir.empty() ? nullptr : workDir.c_str(), argv.data(),
                          envp.data(), parent);
    forkErr = errno;
    return p;
  });
  ::close(pipeFds[1]);
  ::close(logFd);
  if (errFd != logFd) ::close(errFd);
  if (pid < 0) {
    ::close(pipeFds[0]);
    throw std::runtime_error(std::string("ChildProcess: fork failed: ") + std::strerror(forkErr));
  }
  pid_ = pid;
  ::setpgid(pid, pid);  // also from the parent, so the group exists before anyone signals it
  int execErr = 0;
  ssize_t n;
  do n = ::read(pipeFds[0], &execErr, sizeof execErr); while (n < 0 && errno == EINTR);
  ::close(pipeFds[0]);
  if (n > 0) {
    std::lock_guard lock(mutex_);
    reapLocked(true);
    throw std::runtime_error("ChildProcess: cannot exec " + commandLine() + ": " + std::strerror(execErr));
  }
}

ChildProcess::~ChildProcess() {
  std::lock_guard lock(mutex_);
  if (status_ || pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::kill(pid_, SIGCONT);
  reapLocked(true);
}

bool ChildProcess::reapLocked(bool block) const {
  if (status_) return true;
  int st = 0;
  pid_t r;
  do r = ::waitpid(pid_, &st, block ? 0 : WNOHANG); while (r < 0 && errno == EINTR);
  if (r == pid_) {
    status_ = decode(st);
    return true;
  }
  if (r < 0) {  // ECHILD: someone else reaped it; treat as gone
    status_ = ExitStatus{};
    return true;
  }
  return false;
}

bool ChildProcess::running() {
  std::lock_guard lock(mutex_);
  return !reapLocked(false);
}

bool ChildProcess::signal(int sig) {
  std::lock_guard lock(mutex_);
  if (reapLocked(false)) return false;
  return ::kill(pid_, sig) == 0;  // not reaped yet, so the PID is still ours (at worst a zombie)
}

bool ChildProcess::suspend() { return signal(SIGSTOP); }
bool ChildProcess::resume() { return signal(SIGCONT); }

std::optional<ExitStatus> ChildProcess::waitExit(std::chrono::milliseconds timeout) {
  auto start = Clock::now();
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (reapLocked(false)) {
        ExitStatus s = *status_;
        s.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
        return s;
      }
    }
    if (Clock::now() - start >= timeout) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

ExitStatus ChildProcess::terminate(std::chrono::milliseconds timeout) {
  auto start = Clock::now();
  {
    std::lock_guard lock(mutex_);
    if (reapLocked(false)) return *status_;
    ::kill(pid_, SIGTERM);
    ::kill(pid_, SIGCONT);  // a stopped process cannot act on SIGTERM
  }
  if (auto s = waitExit(timeout)) {
    s->elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    return *s;
  }
  signal(SIGKILL);
  auto s = waitExit(std::chrono::seconds(5)).value_or(ExitStatus{});
  s.killed = true;
  s.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  std::lock_guard lock(mutex_);
  if (status_) status_->killed = true;
  return s;
}

std::optional<ExitStatus> ChildProcess::exitStatus() const {
  std::lock_guard lock(mutex_);
  return status_;
}

std::string ChildProcess::logText() const { return readFile(options_.logFile); }

std::size_t ChildProcess::logSize() const {
  std::error_code ec;
  auto n = std::filesystem::file_size(options_.logFile, ec);
  return ec ? 0 : static_cast<std::size_t>(n);
}

std::optional<std::string> ChildProcess::waitForLog(const std::regex& re, std::chrono::milliseconds timeout,
                                                    std::size_t fromOffset) const {
  auto deadline = Clock::now() + timeout;
  std::size_t scanned = fromOffset;  // file offset of the first line not yet matched
  for (;;) {
    bool exited;
    {
      std::lock_guard lock(mutex_);
      exited = reapLocked(false);  // a crashed child ends the wait
    }
    std::string text = readFileFrom(options_.logFile, scanned);  // only what is new since the last poll
    std::size_t pos = 0;
    while (pos < text.size()) {
      auto nl = text.find('\n', pos);
      if (nl == std::string::npos) break;
      std::string line = text.substr(pos, nl - pos);
      pos = nl + 1;
      if (std::regex_search(line, re)) return line;
    }
    scanned += pos;
    if (exited || Clock::now() >= deadline) {
      std::string tail = text.substr(pos);
      if (!tail.empty() && std::regex_search(tail, re)) return tail;
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::size_t ChildProcess::countLogLines(const std::regex& re) const {
  std::istringstream in(logText());
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);) n += std::regex_search(line, re) ? 1 : 0;
  return n;
}

std::string ChildProcess::commandLine() const {
  std::string out;
  for (const auto& a : options_.argv) {
    if (!out.empty()) out += ' ';
    bool quote = a.empty() || a.find_first_of(" \t'\"?&;|*$") != std::string::npos;
    out += quote ? "'" + a + "'" : a;
  }
  return out;
}

}  // namespace venuecast::testing
