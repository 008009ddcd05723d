#include "ingest/io_watchdog.h"

namespace venuecast::ingest {

IoWatchdog::IoWatchdog(const std::atomic<bool>& stop) : stop_(stop) {}

int64_t IoWatchdog::nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch()).count();
}

void IoWatchdog::arm(std::chrono::milliseconds limit) {
  limitMs_.store(limit.count(), std::memory_order_relaxed);
  armedAtMs_.store(nowMs(), std::memory_order_relaxed);
}

void IoWatchdog::disarm() { armedAtMs_.store(0, std::memory_order_relaxed); }

bool IoWatchdog::interrupted() const {
  return tripped() || stop_.load(std::memory_order_relaxed);
}

int IoWatchdog::poll(void* opaque) {
  auto* self = static_cast<IoWatchdog*>(opaque);
  if (self->tripped_.load(std::memory_order_relaxed)) return 1;
  const int64_t now = nowMs();
  if (self->stop_.load(std::memory_order_relaxed)) {
    int64_t seen = self->stopSeenAtMs_.load(std::memory_order_relaxed);
    if (seen == 0) {
      self->stopSeenAtMs_.store(now, std::memory_order_relaxed);
      seen = now;
    }
    if (now - seen >= self->graceMs_.load(std::memory_order_relaxed)) {
      self->trip();
      return 1;
    }
  }
  const int64_t armedAt = self->armedAtMs_.load(std::memory_order_relaxed);
  if (armedAt != 0 && now - armedAt > self->limitMs_.load(std::memory_order_relaxed)) {
    self->stalled_.store(true, std::memory_order_relaxed);
    self->trip();
    return 1;
  }
  return 0;
}

}  // namespace venuecast::ingest
