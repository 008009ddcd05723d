#pragma once
// What every source does with the packets of its sessions, pull or push: a session starts on a keyframe, each
// stream's first packet carries its sequence header (so outputs that carried an earlier session send the new
// one), timestamps go onto the venue's continuous timeline (TimestampNormalizer), and the packet is handed to
// the sink. One per venue, used by one session at a time; the timeline continues across sessions.
#include <cstdint>
#include <string>
#include <vector>

#include "ingest/packet_sink.h"
#include "ingest/source_output.h"
#include "ingest/timestamp_normalizer.h"

namespace venuecast::ingest {

class SourceDelivery final : public SourceOutput {
 public:
  explicit SourceDelivery(PacketSink& sink) : sink_(sink) {}

  // A session with these codecs starts (a numbered copy goes to the sink); returns it.
  StreamSetPtr beginSession(const StreamSet& streams) override;
  // The session ended: the sink hears that the source is lost.
  void endSession() override { sink_.onSourceLost(); }
  StreamSetPtr current() const override { return current_; }

  // Normalises `pkt` (timestamps in `tb`) onto the venue timeline and hands it to the sink.
  void deliver(MediaKind kind, AvPacketPtr& pkt, AVRational tb) override;
  using SourceOutput::deliver;

 private:
  // At a session's first keyframe: the session's SPS/PPS in-band too, when they differ from the last session's.
  void inBandParameterSets(AvPacketPtr& pkt);

  PacketSink& sink_;
  TimestampNormalizer normalizer_;
  uint64_t generation_ = 0;
  StreamSetPtr current_;
  bool needHeader_[kMediaKinds] = {true, true};
  bool started_ = false;
  std::vector<uint8_t> sentVideoExtradata_;  // the H.264 extradata of the last session that sent video
};

}  // namespace venuecast::ingest
