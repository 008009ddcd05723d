#pragma once
// What a source feeds. Implemented downstream (the relay's hub); ingest knows nothing of outputs.
#include "ingest/packet.h"

namespace venuecast::ingest {

class PacketSink {
 public:
  virtual ~PacketSink() = default;
  // A source session started (or its extradata changed in-band). Packets that follow belong to `streams`.
  virtual void onStreams(StreamSetPtr streams) = 0;
  // Called on the source's thread; must not block.
  virtual void onPacket(PacketPtr packet) = 0;
  // The source session ended; packets from a later session continue the same timeline.
  virtual void onSourceLost() = 0;
};

}  // namespace venuecast::ingest
