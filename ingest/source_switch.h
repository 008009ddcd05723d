#pragma once
// A venue with a primary and a backup source: both run all the time, and the venue's outputs get the packets of
// one of them. When the primary has sent nothing for `failoverAfter` and the backup is live, the venue switches to
// the backup; once the primary has been live again for `failbackAfter`, it switches back. A switch happens on a
// keyframe of the source switched to, and is a new session for the venue's SourceDelivery: the timeline continues
// (one offset, advanced by the wall time that passed) and the outputs get the new source's sequence headers.
// Each switch is logged once, with from, to and why. Thread-safe: sources deliver from their own threads.
#include <array>
#include <chrono>
#include <mutex>
#include <string>

#include "ingest/packet_sink.h"
#include "ingest/source_delivery.h"
#include "ingest/source_output.h"

namespace venuecast::ingest {

class SourceSwitch {
 public:
  struct Options {
    std::chrono::milliseconds failoverAfter{2'000};
    std::chrono::milliseconds failbackAfter{10'000};
  };
  enum Which { kPrimary = 0, kBackup = 1 };

  // `label` names the venue in logs ("venue chengdu").
  SourceSwitch(std::string label, PacketSink& sink, Options options);

  SourceOutput& input(Which which) { return inputs_[which]; }

 private:
  class Input final : public SourceOutput {
   public:
    StreamSetPtr beginSession(const StreamSet& streams) override;
    void endSession() override;
    StreamSetPtr current() const override;
    void deliver(MediaKind kind, AvPacketPtr& pkt, AVRational tb) override;
    using SourceOutput::deliver;

    SourceSwitch* owner = nullptr;
    Which which = kPrimary;
    // Under the owner's mutex:
    StreamSetPtr streams;
    bool inSession = false;
    std::chrono::steady_clock::time_point sessionStart{}, lastPacket{};
  };

  static const char* name(Which w) { return w == kPrimary ? "primary" : "backup"; }
  bool delivering(const Input& in, std::chrono::steady_clock::time_point now) const;
  // Decides which source should be on air (under the mutex); sets target_ and why_.
  void evaluate(std::chrono::steady_clock::time_point now);

  std::string label_;
  Options options_;
  mutable std::mutex mu_;
  SourceDelivery out_;
  std::chrono::steady_clock::time_point created_;
  std::array<Input, 2> inputs_;
  int active_ = -1;  // whose packets the venue gets (-1: none yet)
  int target_ = -1;  // switching to this one at its next keyframe (-1: no switch pending)
  int lastActive_ = -1;  // the last one on air (a switch after a loss is logged as from it)
  std::string why_;
  uint64_t generation_ = 0;
};

}  // namespace venuecast::ingest
