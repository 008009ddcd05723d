#pragma once
// Which of a venue's sources is on air: its primary, its backup (if it has one), or its standby slate. Sources
// run all the time and deliver here from their own threads; the venue's outputs get the packets of one of them.
//  - The primary silent for `failoverAfter` and the backup live: the backup goes on air; once the primary has been
//    live again for `failbackAfter`, it goes back.
//  - Nothing live for `failoverAfter`: the standby slate goes on air (StandbySlate plays it into input(kSlate)),
//    and the first source to come back takes over at once.
// A switch happens on a keyframe of the source switched to and is a new session for the venue's SourceDelivery:
// the timeline continues (advanced by the wall time that passed, on the frame grid) and the outputs get the new
// source's sequence headers. Each switch is one log line with from, to and why.
#include <array>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>

#include "ingest/frame_rate_meter.h"
#include "ingest/packet_sink.h"
#include "ingest/slate_clip.h"
#include "ingest/source_delivery.h"
#include "ingest/source_output.h"

namespace venuecast::ingest {

class SourceSwitch {
 public:
  using Clock = std::chrono::steady_clock;
  struct Options {
    std::chrono::milliseconds failoverAfter{2'000};
    std::chrono::milliseconds failbackAfter{10'000};
    bool standby = true;  // a standby slate keeps the outputs fed while nothing is live
  };
  enum Which { kPrimary = 0, kBackup = 1, kSlate = 2 };

  // `label` names the venue in logs ("venue chengdu").
  SourceSwitch(std::string label, PacketSink& sink, Options options);

  SourceOutput& input(Which which) { return inputs_[which]; }

  // For the standby slate's clock: what the venue needs from it now.
  struct Standby {
    bool play = false;     // the slate should be on air (or is)
    bool prepare = false;  // nothing live right now: have the clip ready
    Clock::time_point due{};  // when the slate will be wanted if nothing comes back (when !play)
    // When the answer can change next without the standby listener hearing of it (a source going quiet is
    // noticed only by looking); far in the future when only the listener can change it.
    Clock::time_point recheck{};
    SlateFormat format;    // what the platform saw last
    StreamSetPtr streams;  // the codecs it saw last (null: the venue was never live)
  };
  Standby standby(Clock::time_point now);
  // Told (under the switch's lock: it must not call back) when standby()'s answer changes before its recheck
  // time: a source went on air, or the one on air ended its session. Empty to stop.
  void setStandbyListener(std::function<void()> listener);

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
    Clock::time_point sessionStart{}, lastPacket{};
  };

  static const char* name(Which w);
  bool delivering(const Input& in, Clock::time_point now) const;
  // Decides what should be on air (under the mutex); sets target_ and why_.
  void evaluate(Clock::time_point now);
  void goOnAir(Input& in);  // at `in`'s keyframe, under the mutex

  std::string label_;
  Options options_;
  mutable std::mutex mu_;
  SourceDelivery out_;
  Clock::time_point created_;
  std::array<Input, 3> inputs_;
  int active_ = -1;  // whose packets the venue gets (-1: none)
  int target_ = -1;  // switching to this one at its next keyframe (-1: no switch pending)
  int lastActive_ = -1;  // the last one on air (a switch after a loss is logged as from it)
  std::string why_;
  uint64_t generation_ = 0;
  // The last live source on air, for the slate: its codecs, frame rate and last packet.
  StreamSetPtr liveStreams_;
  FrameRateMeter liveFrames_;
  double liveFrameUs_ = 0;
  Clock::time_point lastLive_{};
  std::function<void()> standbyListener_;
};

}  // namespace venuecast::ingest
