#pragma once
// Keeps one source or output going forever: runs its blocking session on a worker thread, and when a
// session ends schedules the next one on the control plane (io_context timer, jittered backoff). Logs
// one line per state change, never one per retry. Sources and outputs share this shape.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "ingest/session.h"
#include "relay/backoff.h"

namespace venuecast::relay {

enum class SupervisedState { Idle, Connecting, Waiting, Live, Retrying, Stopped };
const char* toString(SupervisedState state);

class SessionSupervisor : public std::enable_shared_from_this<SessionSupervisor> {
 public:
  // A session must stay up this long to count as live: an endpoint that accepts the publish and then drops
  // it (a wrong key on some platforms, an nginx access rule) is one failure repeating, not a state change.
  static constexpr std::chrono::milliseconds kStableLive{3'000};

  using Body = std::function<ingest::SessionOutcome(ingest::SessionControl&)>;

  SessionSupervisor(boost::asio::io_context& io, std::string label, Body body, Backoff backoff = Backoff(),
                    std::chrono::milliseconds stableLive = kStableLive);
  ~SessionSupervisor();

  void start();        // control-plane thread
  void requestStop();  // any thread; never blocks
  void join();         // blocks until the worker thread has exited (call off the io_context)

  SupervisedState state() const { return state_.load(); }
  const std::string& label() const { return label_; }

 private:
  class Control;
  void workerLoop();
  void onSessionEnded(ingest::SessionOutcome outcome, std::optional<std::chrono::milliseconds> liveFor);
  void onState(uint64_t session, SupervisedState next, const std::string& detail);
  void announceLive(const std::string& detail);
  void scheduleRetry(std::chrono::milliseconds delay);

  boost::asio::io_context& io_;
  const std::string label_;
  Body body_;
  Backoff backoff_;
  const std::chrono::milliseconds stableLive_;
  boost::asio::steady_timer retryTimer_;
  boost::asio::steady_timer promoteTimer_;

  std::atomic<bool> stop_{false};
  std::atomic<SupervisedState> state_{SupervisedState::Idle};
  std::mutex mu_;
  std::condition_variable wake_;
  bool runRequested_ = false;
  std::thread worker_;
  std::mutex wakerMu_;
  std::function<void()> stopWaker_;  // the running session's, see SessionControl::setStopWaker

  std::atomic<uint64_t> session_{0};  // bumped by the worker for every session it starts

  // Control-plane thread only.
  std::string lastError_;
  std::string lastDetail_;
  bool announcedLive_ = false;  // this session's "live" line went out at info
  bool flapping_ = false;       // the last session went live but died within kStableLive
};

}  // namespace venuecast::relay
