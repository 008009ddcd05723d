#include "support/ffmpeg_publisher.h"

#include <sstream>

namespace venuecast::testing {

FfmpegPublisher::FfmpegPublisher(std::filesystem::path clip, std::string url)
    : FfmpegPublisher(Options{std::move(clip), std::move(url)}) {}

FfmpegPublisher::FfmpegPublisher(Options options) : options_(std::move(options)) {
  std::vector<std::string> argv{"ffmpeg", "-nostdin", "-hide_banner", "-loglevel", options_.logLevel, "-re"};
  if (options_.loop) argv.insert(argv.end(), {"-stream_loop", "-1"});
  argv.insert(argv.end(), options_.inputArgs.begin(), options_.inputArgs.end());
  argv.insert(argv.end(), {"-i", options_.clip.string()});
  if (options_.durationSeconds) {
    std::ostringstream t;
    t << *options_.durationSeconds;
    argv.insert(argv.end(), {"-t", t.str()});
  }
  argv.insert(argv.end(), {"-c", "copy", "-f", "flv"});
  argv.insert(argv.end(), options_.outputArgs.begin(), options_.outputArgs.end());
  argv.push_back(options_.url);
  process_ = std::make_unique<ChildProcess>(ChildProcess::Options{argv, {}, dir_.file("ffmpeg.log"), {}, {}});
}

FfmpegPublisher::~FfmpegPublisher() { process_.reset(); }  // before dir_ is removed

}  // namespace venuecast::testing
