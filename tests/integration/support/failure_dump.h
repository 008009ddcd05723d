#pragma once
// Prints the tail of registered logs (nginx error/access logs, ffmpeg or relay output...) when a test fails.
// The sources are read at the moment of every failing assertion (a gtest listener calls in while the test body,
// and so every object it reads, is still alive) and the last snapshot is printed when the FailureDump is
// destroyed. So the order in which the dump and the objects it reads are destroyed does not matter, as long as
// they are alive at the failing assertion (a source that reads a unique_ptr should check it for null).
//   NginxRtmp nginx(...); FfmpegPublisher pub(...); FailureDump dump; dump.add(nginx).add(pub.process(), "ffmpeg");
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace venuecast::testing {

class ChildProcess;
class NginxRtmp;

class FailureDump {
 public:
  FailureDump();
  ~FailureDump();  // prints the snapshot taken at the last failing assertion, if any
  FailureDump(const FailureDump&) = delete;
  FailureDump& operator=(const FailureDump&) = delete;

  FailureDump& add(std::string label, std::function<std::string()> text);
  FailureDump& add(const NginxRtmp& nginx, std::string label = "nginx");
  FailureDump& add(const ChildProcess& process, std::string label);

  void capture();  // reads every source now (called by the listener on each failure)
  static constexpr std::size_t kTailBytes = 6000;

 private:
  std::mutex mutex_;
  std::vector<std::pair<std::string, std::function<std::string()>>> sources_;
  std::string snapshot_;
};

}  // namespace venuecast::testing
