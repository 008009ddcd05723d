#pragma once
// One demuxed frame, shared read-only by every output of a venue (payload refcounted, never copied).
#include <cstdint>
#include <memory>

#include "ingest/av_ptr.h"
#include "ingest/stream_set.h"

namespace venuecast::ingest {

struct Packet {
  AvPacketPtr av;           // dts/pts/duration in microseconds (AV_TIME_BASE_Q), on the venue's continuous timeline
  MediaKind kind = MediaKind::Video;
  bool key = false;         // a point an output may start from (video keyframe, or any audio-only frame)
  StreamSetPtr streams;     // the codec parameters this packet belongs to
  int64_t receivedUs = 0;   // steady-clock time it was read from the source, for latency figures

  int64_t dts() const { return av->dts; }
  int64_t pts() const { return av->pts; }
  int size() const { return av->size; }
};

using PacketPtr = std::shared_ptr<const Packet>;

}  // namespace venuecast::ingest
