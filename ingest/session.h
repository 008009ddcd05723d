#pragma once
// The contract between a blocking I/O session (a source read loop, an output write loop) and the
// supervisor that runs it on a worker thread and schedules retries on the control plane.
#include <atomic>
#include <functional>
#include <string>

namespace venuecast::ingest {

struct SessionOutcome {
  enum class Kind {
    Stopped,  // a stop was requested
    Failed,   // retry after backoff
    Reopen,   // retry at once (e.g. the codec layout changed)
    Waiting,  // nothing wrong, nothing there yet (e.g. the venue has not published): reopen at once, quietly
  };
  Kind kind = Kind::Stopped;
  std::string error;   // stable text: the supervisor compares it to tell a repeat from a new failure
  std::string detail;  // what libav said, varies between retries; shown, never compared

  static SessionOutcome stopped() { return {}; }
  static SessionOutcome failed(std::string error, std::string detail = {}) {
    return {Kind::Failed, std::move(error), std::move(detail)};
  }
  static SessionOutcome reopen(std::string reason) { return {Kind::Reopen, std::move(reason), {}}; }
  static SessionOutcome waiting(std::string reason) { return {Kind::Waiting, std::move(reason), {}}; }
};

class SessionControl {
 public:
  virtual ~SessionControl() = default;
  // Raised when the process is stopping; libav calls see it through the interrupt callback.
  virtual const std::atomic<bool>& stopFlag() const = 0;
  bool stopRequested() const { return stopFlag().load(std::memory_order_relaxed); }
  // Runs `wake` (on any thread) when a stop is requested, at once if one already is, so that a session sleeping
  // on its own condition variable need not poll the flag often. Replaces an earlier one; dropped when the
  // session ends. Without an override the session only has the flag.
  virtual void setStopWaker(std::function<void()> wake) { (void)wake; }
  // Media is flowing (or the output is publishing); `detail` says what, e.g. the codecs.
  virtual void reportLive(const std::string& detail) = 0;
  // Connected but idle (e.g. an output waiting for its venue to come up).
  virtual void reportWaiting(const std::string& detail) = 0;
};

}  // namespace venuecast::ingest
