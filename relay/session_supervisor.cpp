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
  Control(SessionSupervisor& owner, uint64_t session) : owner_(owner), session_(session) {}
  ~Control() override {
    std::lock_guard lock(owner_.wakerMu_);
    owner_.stopWaker_ = {};
  }
  void setStopWaker(std::function<void()> wake) override {
    std::lock_guard lock(owner_.wakerMu_);
    owner_.stopWaker_ = std::move(wake);
    if (owner_.stop_.load() && owner_.stopWaker_) owner_.stopWaker_();
  }
  const std::atomic<bool>& stopFlag() const override { return owner_.stop_; }
  void reportLive(const std::string& detail) override {
    liveSince_ = std::chrono::steady_clock::now();
    post(SupervisedState::Live, detail);
  }
  void reportWaiting(const std::string& detail) override { post(SupervisedState::Waiting, detail); }
  // How long the session was live; empty if it never went live.
  std::optional<std::chrono::milliseconds> liveFor() const {
    if (!liveSince_) return std::nullopt;
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - *liveSince_);
  }

 private:
  void post(SupervisedState state, const std::string& detail) {
    boost::asio::post(owner_.io_, [self = owner_.shared_from_this(), session = session_, state, detail] {
      self->onState(session, state, detail);
    });
  }
  SessionSupervisor& owner_;
  const uint64_t session_;
  std::optional<std::chrono::steady_clock::time_point> liveSince_;
};

SessionSupervisor::SessionSupervisor(boost::asio::io_context& io, std::string label, Body body, Backoff backoff,
                                     std::chrono::milliseconds stableLive)
    : io_(io),
      label_(std::move(label)),
      body_(std::move(body)),
      backoff_(std::move(backoff)),
      stableLive_(stableLive),
      retryTimer_(io),
      promoteTimer_(io) {}

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
  {
    std::lock_guard lock(wakerMu_);
    if (stopWaker_) stopWaker_();
  }
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
    Control control(*this, ++session_);
    state_.store(SupervisedState::Connecting);
    ingest::SessionOutcome outcome;
    try {
      outcome = body_(control);
    } catch (const std::exception& e) {
      outcome = ingest::SessionOutcome::failed(std::string("internal error: ") + e.what());
    }
    if (stop_.load()) break;
    boost::asio::post(io_, [self = shared_from_this(), outcome = std::move(outcome), liveFor = control.liveFor()] {
      self->onSessionEnded(outcome, liveFor);
    });
  }
  state_.store(SupervisedState::Stopped);
}

void SessionSupervisor::announceLive(const std::string& detail) {
  spdlog::info("{}: live: {}", label_, detail);
  announcedLive_ = true;
  flapping_ = false;
  lastError_.clear();
}

void SessionSupervisor::onState(uint64_t session, SupervisedState next, const std::string& detail) {
  if (stop_.load() || session != session_.load()) return;
  const SupervisedState previous = state_.exchange(next);
  if (previous == next && detail == lastDetail_) return;
  lastDetail_ = detail;
  if (next != SupervisedState::Live) {
    spdlog::info("{}: {}", label_, detail);
    return;
  }
  if (!flapping_) {
    announceLive(detail);
    return;
  }
  // It went live and died quickly last time: announce it only once it has stayed up.
  spdlog::debug("{}: live again: {}", label_, detail);
  promoteTimer_.expires_after(stableLive_);
  promoteTimer_.async_wait([self = shared_from_this(), session, detail](const boost::system::error_code& ec) {
    if (ec || self->stop_.load() || session != self->session_.load()) return;
    if (self->state_.load() == SupervisedState::Live && !self->announcedLive_) self->announceLive(detail);
  });
}

void SessionSupervisor::onSessionEnded(ingest::SessionOutcome outcome,
                                       std::optional<std::chrono::milliseconds> liveFor) {
  using Kind = ingest::SessionOutcome::Kind;
  if (stop_.load()) return;
  const bool announced = announcedLive_;
  announcedLive_ = false;
  lastDetail_.clear();
  if (liveFor) flapping_ = *liveFor < stableLive_;

  if (outcome.kind == Kind::Waiting || outcome.kind == Kind::Reopen) {
    if (outcome.error != lastError_ || announced) spdlog::info("{}: {}", label_, outcome.error);
    lastError_ = outcome.error;
    state_.store(outcome.kind == Kind::Waiting ? SupervisedState::Waiting : SupervisedState::Retrying);
    scheduleRetry(std::chrono::milliseconds(0));
    return;
  }

  const auto delay = backoff_.next(liveFor.value_or(std::chrono::milliseconds(0)));
  // One line per state change: a failure repeating the previous one while down stays quiet.
  if (outcome.error != lastError_ || announced) {
    spdlog::warn("{}: {}{}; retrying (next attempt in {:.1f} s, then backing off up to 10 s)", label_, outcome.error,
                 outcome.detail, delay.count() / 1000.0);
  } else {
    spdlog::debug("{}: {}{} (attempt {}, retry in {} ms)", label_, outcome.error, outcome.detail, backoff_.attempt(),
                  delay.count());
  }
  lastError_ = outcome.error;
  state_.store(SupervisedState::Retrying);
  scheduleRetry(delay);
}

void SessionSupervisor::scheduleRetry(std::chrono::milliseconds delay) {
  retryTimer_.expires_after(delay);
  retryTimer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->stop_.load()) return;
    std::lock_guard lock(self->mu_);
    self->runRequested_ = true;
    self->wake_.notify_one();
  });
}

}  // namespace venuecast::relay
