#include "relay/backoff.h"

#include <algorithm>
#include <cmath>

namespace venuecast::relay {

Backoff::Backoff(Options options, uint64_t seed) : options_(options), rng_(seed) {}

std::chrono::milliseconds Backoff::next(std::chrono::milliseconds liveFor) {
  if (liveFor >= options_.stableAfter) attempt_ = 0;
  const double base = std::min(static_cast<double>(options_.cap.count()),
                               options_.initial.count() * std::pow(options_.factor, attempt_));
  if (base < options_.cap.count()) ++attempt_;
  std::uniform_real_distribution<double> spread(1.0 - options_.jitter, 1.0 + options_.jitter);
  const double jittered = std::min(base * spread(rng_), static_cast<double>(options_.cap.count()));
  return std::chrono::milliseconds(static_cast<int64_t>(jittered));
}

}  // namespace venuecast::relay
