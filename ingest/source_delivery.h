#pragma once
// What every source does with the packets of its sessions, pull or push: a session starts on a keyframe, each
// stream's first packet carries its sequence header (so outputs that carried an earlier session send the new
// one), timestamps go onto the venue's continuous timeline (TimestampNormalizer), and the packet is handed to
// the sink. One per venue, used by one session at a time; the timeline continues across sessions.
#include <cstdint>
#include <string>

#include "ingest/av_ptr.h"
#include "ingest/flv_packet_reader.h"
#include "ingest/packet_sink.h"
#include "ingest/stream_set.h"
#include "ingest/timestamp_normalizer.h"
#include "rtmp/rtmp_chunk_reader.h"

namespace venuecast::ingest {

class SourceDelivery {
 public:
  explicit SourceDelivery(PacketSink& sink) : sink_(sink) {}

  // A session with these codecs starts (a numbered copy goes to the sink); returns it.
  StreamSetPtr beginSession(const StreamSet& streams);
  // The session ended: the sink hears that the source is lost.
  void endSession() { sink_.onSourceLost(); }
  const StreamSetPtr& current() const { return current_; }

  // Normalises `pkt` (timestamps in `tb`) onto the venue timeline and hands it to the sink: `pkt` is then null
  // (taken), or unreferenced and reusable (dropped).
  void deliver(MediaKind kind, AvPacketPtr& pkt, AVRational tb);
  // An RTMP audio/video message of a session whose codecs FlvPacketReader supports: "" or why it cannot be read.
  std::string deliver(FlvPacketReader& reader, rtmp::RtmpChunkReader::Message& m);

 private:
  PacketSink& sink_;
  TimestampNormalizer normalizer_;
  uint64_t generation_ = 0;
  StreamSetPtr current_;
  bool needHeader_[kMediaKinds] = {true, true};
  bool started_ = false;
  int64_t aacDurationMs_ = 0;
};

}  // namespace venuecast::ingest
