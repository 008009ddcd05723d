#pragma once
// RAII: when destroyed inside a test that has failed, prints the tail of every registered log (nginx error and
// access logs, ffmpeg/relay output...). Declare it *after* the objects it reads, so it runs before they go away:
//   NginxRtmp nginx(...); FfmpegPublisher pub(...); FailureDump dump; dump.add(nginx).add(pub.process(), "ffmpeg");
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace venuecast::testing {

class ChildProcess;
class NginxRtmp;

class FailureDump {
 public:
  FailureDump() = default;
  ~FailureDump();
  FailureDump(const FailureDump&) = delete;
  FailureDump& operator=(const FailureDump&) = delete;

  FailureDump& add(std::string label, std::function<std::string()> text);
  FailureDump& add(const NginxRtmp& nginx, std::string label = "nginx");
  FailureDump& add(const ChildProcess& process, std::string label);

  static constexpr std::size_t kTailBytes = 6000;

 private:
  std::vector<std::pair<std::string, std::function<std::string()>>> sources_;
};

}  // namespace venuecast::testing
