#include "relay/session_supervisor.h"

#include <boost/asio/post.hpp>
#include <optional>
#include <spdlog/spdlog.h>

namespace venuecast::relay {

const char* toString(SupervisedState state) {
  switch (state) {
    case SupervisedState::Idle: return "idle";
    case SupervisedState::Connecting: return "connecting";
    case SupervisedState::Waiting: return "waiting";
    case SupervisedState::Live: return "live";
    case SupervisedState::Retrying: return "retrying";
    case SupervisedState::Stopped: return "stopped";
  }
  return "?";
}

// What the session sees: the stop flag, and state reports forwarded to the control plane.
class SessionSupervisor::Control : public ingest::SessionControl {
 public:
  explicit Control(SessionSupervisor& owner) : owner_(owner) {}
  const std::atomic<bool>& stopFlag() const override { return owner_.stop_; }
  void reportLive(const std::string& detail) override {
    liveSince_ = std::chrono::steady_clock::now();
    post(SupervisedState::Live, detail);
  }
  void reportWaiting(const std::string& detail) override { post(SupervisedState::Waiting, detail); }
  std::chrono::milliseconds liveFor() const {
    if (!liveSince_) return std::chrono::milliseconds(0);
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - *liveSince_);
  }

 private:
  void post(SupervisedState state, const std::string& detail) {
    boost::asio::post(owner_.io_, [self = owner_.shared_from_this(), state, detail] { self->onState(state, detail); });
  }
  SessionSupervisor& owner_;
  std::optional<std::chrono::steady_clock::time_point> liveSince_;
};

SessionSupervisor::SessionSupervisor(boost::asio::io_context& io, std::string label, Body body, Backoff backoff)
    : io_(io), label_(std::move(label)), body_(std::move(body)), backoff_(std::move(backoff)), retryTimer_(io) {}

SessionSupervisor::~SessionSupervisor() {
  requestStop();
  join();
}

void SessionSupervisor::start() {
  worker_ = std::thread([this] { workerLoop(); });
  std::lock_guard lock(mu_);
  runRequested_ = true;
  wake_.notify_one();
}

void SessionSupervisor::requestStop() {
  stop_.store(true);
  std::lock_guard lock(mu_);
  wake_.notify_one();
}

void SessionSupervisor::join() {
  if (worker_.joinable()) worker_.join();
}

void SessionSupervisor::workerLoop() {
  for (;;) {
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [this] { return runRequested_ || stop_.load(); });
      if (stop_.load()) break;
      runRequested_ = false;
    }
    Control control(*this);
    state_.store(SupervisedState::Connecting);
    ingest::SessionOutcome outcome;
    try {
      outcome = body_(control);
    } catch (const std::exception& e) {
      outcome.error = std::string("internal error: ") + e.what();
    }
    if (stop_.load()) break;
    boost::asio::post(io_, [self = shared_from_this(), outcome = std::move(outcome), liveFor = control.liveFor()] {
      self->onSessionEnded(outcome, liveFor);
    });
  }
  state_.store(SupervisedState::Stopped);
}

void SessionSupervisor::onState(SupervisedState next, const std::string& detail) {
  if (stop_.load()) return;
  const SupervisedState previous = state_.exchange(next);
  if (previous == next && detail == lastDetail_) return;
  lastDetail_ = detail;
  if (next == SupervisedState::Live) {
    spdlog::info("{}: live: {}", label_, detail);
    lastError_.clear();
  } else {
    spdlog::info("{}: {}", label_, detail);
  }
}

void SessionSupervisor::onSessionEnded(ingest::SessionOutcome outcome, std::chrono::milliseconds liveFor) {
  if (stop_.load()) return;
  const bool wasLive = liveFor.count() > 0;
  std::chrono::milliseconds delay(0);
  if (!outcome.immediateRetry) delay = backoff_.next(liveFor);
  // One line per state change: a failure repeating the previous one while down stays quiet.
  if (outcome.error != lastError_ || wasLive) {
    spdlog::warn("{}: {}; retrying (next attempt in {:.1f} s, then backing off up to 10 s)", label_, outcome.error,
                 delay.count() / 1000.0);
  } else {
    spdlog::debug("{}: {} (attempt {}, retry in {} ms)", label_, outcome.error, backoff_.attempt(), delay.count());
  }
  lastError_ = outcome.error;
  lastDetail_.clear();
  state_.store(SupervisedState::Retrying);
  retryTimer_.expires_after(delay);
  retryTimer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->stop_.load()) return;
    std::lock_guard lock(self->mu_);
    self->runRequested_ = true;
    self->wake_.notify_one();
  });
}

}  // namespace venuecast::relay
