#pragma once
// Plays a venue's standby slate while SourceSwitch wants it: a thread that paces the clip's packets in real time
// into the switch's slate input, looping with timestamps that keep increasing. The clip is the operator's file
// when its tracks match what the venue sent (an output must not have to reconnect), else a card rendered for the
// venue's last format: rendered as soon as nothing is live (so it is ready at failover_after), cached per format.
// While the venue is live the thread sleeps: the switch tells it when a session on air ends, and it looks again
// only when a stalled source could need the slate prepared (a few times per failover_after).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ingest/slate_clip.h"
#include "ingest/source_switch.h"

namespace venuecast::ingest {

class StandbySlate {
 public:
  struct Options {
    std::string title;  // the venue's name, drawn on the card
    SlateClipPtr file;  // the operator's clip, or null
  };
  // `label` names the venue in logs ("venue chengdu").
  StandbySlate(std::string label, SourceSwitch& sw, Options options);
  ~StandbySlate();
  StandbySlate(const StandbySlate&) = delete;
  StandbySlate& operator=(const StandbySlate&) = delete;

  void start();
  void stop();  // joins; ends the slate's session if it is on air
  // How often the thread has looked at the venue (for tests: while the venue is live it should barely wake).
  uint64_t looks() const { return looks_.load(std::memory_order_relaxed); }

 private:
  using Clock = SourceSwitch::Clock;
  void run();
  // The clip for what the venue sent last: cached, or rendered now (blocking this thread only). Null if none.
  SlateClipPtr clipFor(const SourceSwitch::Standby& s);
  // Delivers every packet due by `now`; returns when the next one is due.
  Clock::time_point playDue(Clock::time_point now);

  std::string label_;
  SourceSwitch& switch_;
  Options options_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool told_ = false;  // the switch's standby listener fired
  std::atomic<uint64_t> looks_{0};
  std::thread thread_;

  // Slate thread only:
  struct Rendered {
    SlateFormat format;
    SlateClipPtr clip;  // null: rendering failed (logged once, not retried)
  };
  std::vector<Rendered> cache_;  // the most recent formats
  bool fileMismatchLogged_ = false;
  SlateClipPtr playing_;
  Clock::time_point playStart_{};
  size_t next_ = 0;
  int64_t loop_ = 0;
};

}  // namespace venuecast::ingest
