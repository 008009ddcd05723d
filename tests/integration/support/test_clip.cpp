#include "support/test_clip.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>

#include "support/child_process.h"
#include "support/ffprobe_reader.h"
#include "support/temp_dir.h"

#ifndef VENUECAST_TEST_CACHE
#define VENUECAST_TEST_CACHE "/tmp/venuecast-test-cache"
#endif

namespace venuecast::testing {
namespace {

void generate(const ClipSpec& s, const std::filesystem::path& target) {
  std::mt19937_64 rng(std::random_device{}());
  auto tmp = target;
  tmp += ".tmp." + std::to_string(::getpid()) + "." + std::to_string(rng() % 1000000) + ".flv";
  auto log = target.parent_path() / (target.filename().string() + ".log");
  const std::string gop = std::to_string(s.gopFrames);
  std::ostringstream video, audio, x264;
  video << s.pattern << "=size=" << s.width << "x" << s.height << ":rate=" << s.fps;
  audio << "sine=frequency=" << s.sineHz << ":sample_rate=" << s.sampleRate;
  x264 << "keyint=" << s.gopFrames << ":min-keyint=" << s.gopFrames << ":scenecut=0:open-gop=0:bframes=" << s.bFrames;
  const std::string vk = std::to_string(s.videoKbps) + "k";
  ChildProcess ffmpeg({{"ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
                        "-f", "lavfi", "-i", video.str(), "-f", "lavfi", "-i", audio.str(),
                        "-t", std::to_string(s.seconds),
                        "-c:v", "libx264", "-profile:v", "high", "-preset", "veryfast", "-pix_fmt", "yuv420p",
                        "-g", gop, "-keyint_min", gop, "-sc_threshold", "0", "-bf", std::to_string(s.bFrames),
                        "-flags", "+cgop", "-x264-params", x264.str(),
                        "-b:v", vk, "-maxrate", vk, "-bufsize", std::to_string(s.videoKbps * 2) + "k",
                        "-c:a", "aac", "-b:a", std::to_string(s.audioKbps) + "k",
                        "-ar", std::to_string(s.sampleRate), "-ac", std::to_string(s.channels),
                        "-f", "flv", tmp.string()},
                       {}, log, {}, {}});
  auto st = ffmpeg.waitExit(std::chrono::seconds(120));
  if (!st) st = ffmpeg.terminate();
  if (!st->ok()) {
    std::filesystem::remove(tmp);
    throw std::runtime_error("clip generation failed (" + st->describe() + "): " + readFile(log));
  }
  std::filesystem::rename(tmp, target);  // atomic: a concurrent generator just replaces it with an equal file
  std::filesystem::remove(log);
}

}  // namespace

std::string ClipSpec::cacheName() const {
  std::ostringstream n;
  n << "clip-v1-" << pattern << "-" << width << "x" << height << "-" << fps << "fps-g" << gopFrames << "-bf" << bFrames
    << "-" << videoKbps << "k-aac" << audioKbps << "k-" << sampleRate << "-" << channels << "ch-" << sineHz << "hz-"
    << seconds << "s.flv";
  return n.str();
}

std::filesystem::path TestClip::cacheDir() {
  const char* env = std::getenv("VENUECAST_TEST_CACHE");
  std::filesystem::path dir = env && *env ? env : VENUECAST_TEST_CACHE;
  std::filesystem::create_directories(dir);
  return dir;
}

TestClip TestClip::hd720() {
  ClipSpec s;
  s.width = 1280;
  s.height = 720;
  s.videoKbps = 1500;
  return get(s);
}

TestClip TestClip::get(const ClipSpec& spec) {
  static std::mutex mutex;  // one generator per process; other processes are handled by rename()
  static std::map<std::string, TestClip> known;  // facts probed once per process
  std::lock_guard lock(mutex);
  if (auto it = known.find(spec.cacheName()); it != known.end() && std::filesystem::exists(it->second.path))
    return it->second;
  TestClip clip;
  clip.spec = spec;
  clip.path = cacheDir() / spec.cacheName();
  if (!std::filesystem::exists(clip.path)) generate(spec, clip.path);
  auto probe = FfprobeReader::read(clip.path);
  if (!probe.ok) throw std::runtime_error("cannot probe clip " + clip.path.string() + ": " + probe.error);
  for (const auto& p : probe.packets) {
    if (p.kind == "video") {
      if (clip.videoFrames++ == 0) clip.firstVideoDtsMs = p.dtsMs.value_or(0);
      clip.keyframes += p.key;
      clip.durationMs = p.dtsMs.value_or(0) + 1000 / spec.fps;
    } else if (p.kind == "audio") {
      if (clip.audioFrames++ == 0) clip.firstAudioDtsMs = p.dtsMs.value_or(0);
    }
  }
  if (const auto* v = probe.stream("video")) {
    clip.videoExtradataSize = v->extradataSize;
    clip.videoExtradataHash = v->extradataHash;
  }
  if (const auto* a = probe.stream("audio")) clip.audioExtradataSize = a->extradataSize;
  known[spec.cacheName()] = clip;
  return clip;
}

}  // namespace venuecast::testing
