#pragma once
// The frame duration of a stream, averaged over its last frames: FLV's millisecond timestamps step 33 or 34 ms
// at 30 fps, so a single step misjudges the rate; a long average does not.
#include <algorithm>
#include <array>
#include <cstdint>

namespace venuecast::ingest {

class FrameRateMeter {
 public:
  static constexpr int64_t kFrames = 32;

  void add(int64_t dtsUs) { recent_[count_++ % kFrames] = dtsUs; }
  void reset() { count_ = 0; }
  // µs per frame over the frames seen since the last reset (at most kFrames); 0 before two frames.
  double frameUs() const {
    if (count_ < 2) return 0;
    const int64_t n = std::min(count_, kFrames);
    const int64_t newest = recent_[(count_ - 1) % kFrames];
    const int64_t oldest = recent_[(count_ - n) % kFrames];
    return static_cast<double>(newest - oldest) / static_cast<double>(n - 1);
  }

 private:
  std::array<int64_t, kFrames> recent_{};
  int64_t count_ = 0;
};

}  // namespace venuecast::ingest
