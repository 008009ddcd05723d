#include "ingest/slate_clip.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace venuecast::ingest {

std::string SlateFormat::describe() const {
  std::string s;
  if (video()) {
    char fps[32];
    std::snprintf(fps, sizeof fps, "%.4g", static_cast<double>(frameRateNum) / frameRateDen);
    s = std::to_string(width) + "x" + std::to_string(height) + " " + fps + " fps";
  }
  if (audio()) s += (s.empty() ? "" : ", ") + std::to_string(sampleRate) + " Hz " + std::to_string(channels) + "ch";
  return s.empty() ? "no streams" : s;
}

SlateFormat SlateFormat::of(const StreamSet& streams, double frameUs) {
  SlateFormat f;
  if (const AVCodecParameters* v = streams.video.get(); v && v->width > 0 && v->height > 0) {
    f.width = v->width;
    f.height = v->height;
    // Measured from millisecond timestamps: snap to the nearer of the rates encoders use (integer, or NTSC's
    // n*1000/1001), else keep it to a thousandth.
    const double fps = frameUs > 0 ? 1e6 / frameUs : 30.0;
    const double whole = std::round(fps), ntsc = std::round(fps * 1.001);
    const double offWhole = std::fabs(fps - whole), offNtsc = std::fabs(fps * 1.001 - ntsc);
    if (std::min(offWhole, offNtsc) > 0.01 * fps) {
      f.frameRateNum = static_cast<int>(std::lround(fps * 1000));
      f.frameRateDen = 1000;
    } else if (offWhole <= offNtsc) {
      f.frameRateNum = static_cast<int>(whole);
    } else {
      f.frameRateNum = static_cast<int>(ntsc) * 1000;
      f.frameRateDen = 1001;
    }
    if (f.frameRateNum <= 0 || f.frameRateNum / f.frameRateDen > 240) f = {v->width, v->height, 30, 1};
  }
  if (const AVCodecParameters* a = streams.audio.get(); a && a->sample_rate > 0 && a->ch_layout.nb_channels > 0) {
    f.sampleRate = a->sample_rate;
    f.channels = a->ch_layout.nb_channels;
  }
  return f;
}

}  // namespace venuecast::ingest
