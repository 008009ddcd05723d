#pragma once
// Synthetic A/V clips made once with the ffmpeg CLI and cached in VENUECAST_TEST_CACHE (or $VENUECAST_TEST_CACHE).
// Race-safe: written to a unique temporary name, then rename()d into place, so concurrent test processes never
// see a partial file. Default: 640x360 30 fps H.264 High, 2 B-frames, closed 1 s GOP (keyint 30, no scenecut),
// testsrc2 (every frame differs), ~800 kbit/s; AAC-LC 48 kHz stereo 128 kbit/s sine; 10 s; FLV.
#include <cstdint>
#include <filesystem>
#include <string>

namespace venuecast::testing {

struct ClipSpec {
  int width = 640;
  int height = 360;
  int fps = 30;
  int gopFrames = 30;       // keyint = min-keyint, scenecut off, closed GOP
  int bFrames = 2;
  int videoKbps = 800;
  int audioKbps = 128;
  int sampleRate = 48000;
  int channels = 2;
  int sineHz = 440;
  int seconds = 10;
  std::string pattern = "testsrc2";
  std::string cacheName() const;  // file name that encodes every field
};

struct TestClip {
  std::filesystem::path path;
  ClipSpec spec;
  // Facts read back from the generated file with ffprobe.
  int videoFrames = 0;           // == fps * seconds
  int audioFrames = 0;           // AAC frames (1024 samples each)
  int keyframes = 0;             // == seconds * fps / gopFrames
  int64_t durationMs = 0;        // end of the last video frame (dts-based)
  int64_t firstVideoDtsMs = 0;   // FLV shifts the B-frame delay: video dts starts at 0, pts at 2 frames
  int64_t firstAudioDtsMs = 0;
  int videoExtradataSize = 0;
  int audioExtradataSize = 0;
  std::string videoExtradataHash;
  double fps() const { return spec.fps; }
  int gopFrames() const { return spec.gopFrames; }
  int64_t frameDurationMs() const { return 1000 / spec.fps; }

  // The clip for `spec`, generating it on first use (throws std::runtime_error if ffmpeg fails).
  static TestClip get(const ClipSpec& spec = {});
  static TestClip standard() { return get(); }  // 640x360
  static TestClip hd720();                      // 1280x720 @ 1500 kbit/s: different SPS, same AAC config
  static std::filesystem::path cacheDir();
};

}  // namespace venuecast::testing
