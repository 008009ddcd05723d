#pragma once
// The standby slate a venue's outputs carry while the venue has no live source: a short clip held in memory
// (rendered for the venue's format, or the operator's own file) that StandbySlate plays in a loop.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ingest/av_ptr.h"
#include "ingest/stream_set.h"

namespace venuecast::ingest {

// What the platform saw last from the venue, which the slate matches so that it sees no format change.
struct SlateFormat {
  int width = 0, height = 0;           // 0: the venue had no video
  int frameRateNum = 0, frameRateDen = 1;
  int sampleRate = 0, channels = 0;    // 0: the venue had no audio

  bool video() const { return width > 0 && height > 0; }
  bool audio() const { return sampleRate > 0 && channels > 0; }
  bool operator==(const SlateFormat&) const = default;
  // "1920x1080 30 fps, 48000 Hz 2ch"
  std::string describe() const;

  // From a session's codec parameters and its measured frame duration (µs; 0 or less: unknown, 30 fps assumed).
  static SlateFormat of(const StreamSet& streams, double frameUs);
};

struct SlateClip {
  struct Item {
    MediaKind kind;
    AvPacketPtr packet;  // dts/pts/duration in µs from the clip's start; dts order across both streams
  };
  StreamSetPtr streams;
  std::vector<Item> items;
  int64_t loopUs = 0;  // each further loop is shifted by this much
  std::string origin;  // "rendered for 1920x1080 30 fps, 48000 Hz 2ch" or the file name, for logs
};

using SlateClipPtr = std::shared_ptr<const SlateClip>;

}  // namespace venuecast::ingest
