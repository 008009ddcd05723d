#pragma once
// The contract between a blocking I/O session (a source read loop, an output write loop) and the
// supervisor that runs it on a worker thread and schedules retries on the control plane.
#include <atomic>
#include <string>

namespace venuecast::ingest {

struct SessionOutcome {
  std::string error;            // empty: ended because a stop was requested
  bool immediateRetry = false;  // e.g. the codec layout changed: reopen at once, no backoff
};

class SessionControl {
 public:
  virtual ~SessionControl() = default;
  // Raised when the process is stopping; libav calls see it through the interrupt callback.
  virtual const std::atomic<bool>& stopFlag() const = 0;
  bool stopRequested() const { return stopFlag().load(std::memory_order_relaxed); }
  // Media is flowing (or the output is publishing); `detail` says what, e.g. the codecs.
  virtual void reportLive(const std::string& detail) = 0;
  // Connected but idle (e.g. an output waiting for its venue to come up).
  virtual void reportWaiting(const std::string& detail) = 0;
};

}  // namespace venuecast::ingest
