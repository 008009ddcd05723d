#pragma once
// Jittered exponential retry delay: ~0.5 s doubling to a 10 s cap, back to the start after a session
// that stayed up for a stable minute. Jitter keeps N venues that dropped together from retrying in lockstep.
#include <chrono>
#include <cstdint>
#include <random>

namespace venuecast::relay {

class Backoff {
 public:
  struct Options {
    std::chrono::milliseconds initial{500};
    std::chrono::milliseconds cap{10'000};
    double factor = 2.0;
    double jitter = 0.2;  // each delay is scaled by a random factor in [1 - jitter, 1 + jitter]
    std::chrono::milliseconds stableAfter{60'000};
  };

  explicit Backoff(Options options, uint64_t seed = std::random_device{}());
  Backoff() : Backoff(Options{}) {}

  // The delay before the next attempt, given how long the session that just ended had been live.
  std::chrono::milliseconds next(std::chrono::milliseconds liveFor);
  void reset() { attempt_ = 0; }
  int attempt() const { return attempt_; }

 private:
  Options options_;
  std::mt19937_64 rng_;
  int attempt_ = 0;
};

}  // namespace venuecast::relay
