#pragma once
// Bounded polling for conditions that have no event to wait on (files, /stat, logs).
#include <chrono>
#include <functional>
#include <thread>

namespace venuecast::testing {

// Evaluates `pred` every `interval` until it holds (true) or `timeout` has passed (false; pred checked once more).
inline bool pollUntil(const std::function<bool()>& pred, std::chrono::milliseconds timeout,
                      std::chrono::milliseconds interval = std::chrono::milliseconds(50)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(interval);
  }
  return pred();
}

}  // namespace venuecast::testing
