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
#include <string>
#include <thread>

#include "ingest/session.h"
#include "relay/backoff.h"

namespace venuecast::relay {

enum class SupervisedState { Idle, Connecting, Waiting, Live, Retrying, Stopped };
const char* toString(SupervisedState state);

class SessionSupervisor : public std::enable_shared_from_this<SessionSupervisor> {
 public:
  using Body = std::function<ingest::SessionOutcome(ingest::SessionControl&)>;

  SessionSupervisor(boost::asio::io_context& io, std::string label, Body body, Backoff backoff = Backoff());
  ~SessionSupervisor();

  void start();        // control-plane thread
  void requestStop();  // any thread; never blocks
  void join();         // blocks until the worker thread has exited (call off the io_context)

  SupervisedState state() const { return state_.load(); }
  const std::string& label() const { return label_; }

 private:
  class Control;
  void workerLoop();
  void onSessionEnded(ingest::SessionOutcome outcome, std::chrono::milliseconds liveFor);
  void onState(SupervisedState next, const std::string& detail);

  boost::asio::io_context& io_;
  const std::string label_;
  Body body_;
  Backoff backoff_;
  boost::asio::steady_timer retryTimer_;

  std::atomic<bool> stop_{false};
  std::atomic<SupervisedState> state_{SupervisedState::Idle};
  std::mutex mu_;
  std::condition_variable wake_;
  bool runRequested_ = false;
  std::thread worker_;

  // Control-plane thread only.
  std::string lastError_;
  std::string lastDetail_;
};

}  // namespace venuecast::relay
