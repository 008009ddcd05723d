#pragma once
// Where a source's sessions go: a venue with one source delivers straight to the venue (SourceDelivery); a venue
// with a backup delivers through a SourceSwitch input, which passes on the active source only.
#include <string>

#include "ingest/av_ptr.h"
#include "ingest/flv_packet_reader.h"
#include "ingest/stream_set.h"
#include "rtmp/rtmp_chunk_reader.h"

namespace venuecast::ingest {

class SourceOutput {
 public:
  virtual ~SourceOutput() = default;
  // A session with these codecs starts; returns the streams its packets belong to.
  virtual StreamSetPtr beginSession(const StreamSet& streams) = 0;
  // The session ended.
  virtual void endSession() = 0;
  virtual StreamSetPtr current() const = 0;
  // One packet (timestamps in `tb`): `pkt` is then null (taken), or unreferenced and reusable (dropped).
  virtual void deliver(MediaKind kind, AvPacketPtr& pkt, AVRational tb) = 0;
  // An RTMP audio/video message of a session whose codecs FlvPacketReader supports: "" or why it cannot be read.
  std::string deliver(FlvPacketReader& reader, rtmp::RtmpChunkReader::Message& m);
};

// A copy of `base` whose `kind` stream carries new extradata (an in-band sequence header change).
StreamSetPtr withExtradata(const StreamSet& base, MediaKind kind, const uint8_t* data, size_t size, uint64_t generation);

}  // namespace venuecast::ingest
