#pragma once
// Publishes a clip to an RTMP URL in real time with the ffmpeg CLI (stream copy):
//   ffmpeg -hide_banner -loglevel warning -re [-stream_loop -1] -i CLIP [-t SECONDS] -c copy -f flv [extra] URL
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/child_process.h"
#include "support/temp_dir.h"

namespace venuecast::testing {

class FfmpegPublisher {
 public:
  struct Options {
    std::filesystem::path clip;
    std::string url;
    bool loop = true;                           // -stream_loop -1 (continuous timestamps across loops)
    std::optional<double> durationSeconds;      // -t: stop by itself after this much media time
    std::vector<std::string> outputArgs;        // before the URL, e.g. {"-rtmp_app", "live-bvc"}
    std::vector<std::string> inputArgs;         // before -i
    std::string logLevel = "warning";
  };

  FfmpegPublisher(std::filesystem::path clip, std::string url);  // loops until stopped
  explicit FfmpegPublisher(Options options);
  ~FfmpegPublisher();  // kills ffmpeg by PID if still running

  ChildProcess& process() { return *process_; }
  bool running() { return process_->running(); }
  ExitStatus stop(std::chrono::milliseconds timeout = std::chrono::seconds(3)) { return process_->terminate(timeout); }
  std::optional<ExitStatus> waitExit(std::chrono::milliseconds timeout) { return process_->waitExit(timeout); }
  std::string logText() const { return process_->logText(); }
  const Options& options() const { return options_; }

 private:
  Options options_;
  TempDir dir_{"venuecast-ffmpeg"};
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace venuecast::testing
