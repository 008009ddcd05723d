#include "relay/session_supervisor.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <sstream>
#include <thread>

namespace venuecast::relay {
namespace {

using namespace std::chrono_literals;

// Captures what the supervisor logs, restoring the previous default logger afterwards.
class CapturedLog {
 public:
  CapturedLog() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    auto logger = std::make_shared<spdlog::logger>("captured", sink);
    logger->set_level(spdlog::level::info);
    logger->set_pattern("%l %v");
    spdlog::set_default_logger(logger);
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  std::string text() {
    spdlog::default_logger()->flush();
    return out_.str();
  }
  int count(const std::string& needle) {
    const std::string t = text();
    int n = 0;
    for (size_t pos = t.find(needle); pos != std::string::npos; pos = t.find(needle, pos + 1)) ++n;
    return n;
  }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
};

Backoff fastBackoff() {
  return Backoff(Backoff::Options{.initial = 5ms, .cap = 20ms, .jitter = 0.0, .stableAfter = 60'000ms}, 1);
}

// Runs the io_context until `done` or a deadline.
void runUntil(boost::asio::io_context& io, const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.run_for(10ms);
    io.restart();
  }
}

TEST(SessionSupervisor, RepeatedIdenticalFailuresAreLoggedOnce) {
  CapturedLog log;
  boost::asio::io_context io;
  std::atomic<int> attempts{0};
  auto sup = std::make_shared<SessionSupervisor>(
      io, "venue chengdu",
      [&](ingest::SessionControl&) {
        ++attempts;
        return ingest::SessionOutcome::failed("cannot open source: Connection refused");
      },
      fastBackoff());
  sup->start();
  runUntil(io, [&] { return attempts >= 8; }, 5s);
  sup->requestStop();
  io.run_for(50ms);
  sup->join();
  EXPECT_GE(attempts.load(), 8);
  EXPECT_EQ(log.count("Connection refused"), 1) << log.text();
  EXPECT_EQ(log.count("venue chengdu"), 1);
}

TEST(SessionSupervisor, EachStateChangeIsLogged) {
  CapturedLog log;
  boost::asio::io_context io;
  std::atomic<int> attempts{0};
  auto sup = std::make_shared<SessionSupervisor>(
      io, "output forum-dalian",
      [&](ingest::SessionControl& c) {
        const int n = ++attempts;
        if (n == 1) return ingest::SessionOutcome::failed("cannot publish: Connection refused");
        c.reportLive("publishing h264");
        std::this_thread::sleep_for(80ms);  // longer than stableLive: a real session each time
        return ingest::SessionOutcome::failed("write failed: Broken pipe");
      },
      fastBackoff(), 30ms);
  sup->start();
  runUntil(io, [&] { return attempts >= 4; }, 5s);
  sup->requestStop();
  io.run_for(50ms);
  sup->join();
  EXPECT_EQ(log.count("Connection refused"), 1);
  EXPECT_GE(log.count("live: publishing h264"), 2);  // down -> live is a change every time
  EXPECT_GE(log.count("Broken pipe"), 2);            // and so is live -> down
}

TEST(SessionSupervisor, AnEndpointThatAcceptsThenDropsIsOneRepeatingFailure) {
  CapturedLog log;
  boost::asio::io_context io;
  std::atomic<int> attempts{0};
  auto sup = std::make_shared<SessionSupervisor>(
      io, "output bilibili-wuxi",
      [&](ingest::SessionControl& c) {
        ++attempts;
        c.reportLive("publishing h264");
        std::this_thread::sleep_for(2ms);
        return ingest::SessionOutcome::failed("write failed: Broken pipe", attempts % 2 ? " (tcp: a)" : " (tcp: b)");
      },
      fastBackoff(), 500ms);
  sup->start();
  runUntil(io, [&] { return attempts >= 8; }, 5s);
  sup->requestStop();
  io.run_for(20ms);
  sup->join();
  EXPECT_GE(attempts.load(), 8);
  EXPECT_EQ(log.count("live: publishing h264"), 1) << log.text();
  EXPECT_EQ(log.count("Broken pipe"), 1) << log.text();  // varying libav detail does not make it new
}

TEST(SessionSupervisor, RecoveryAfterFlappingIsAnnouncedOnceStable) {
  CapturedLog log;
  boost::asio::io_context io;
  std::atomic<int> attempts{0};
  std::atomic<bool> done{false};
  auto sup = std::make_shared<SessionSupervisor>(
      io, "output forum-zhuhai",
      [&](ingest::SessionControl& c) {
        const int n = ++attempts;
        c.reportLive("publishing h264");
        if (n <= 3) return ingest::SessionOutcome::failed("write failed: Broken pipe");
        while (!c.stopRequested()) std::this_thread::sleep_for(1ms);  // now it holds
        return ingest::SessionOutcome::stopped();
      },
      fastBackoff(), 100ms);
  sup->start();
  runUntil(io, [&] { return log.count("live: publishing h264") >= 2; }, 5s);
  sup->requestStop();
  io.run_for(20ms);
  sup->join();
  EXPECT_EQ(log.count("live: publishing h264"), 2) << log.text();  // the first, then the stable one
  EXPECT_EQ(log.count("Broken pipe"), 1) << log.text();
}

TEST(SessionSupervisor, WaitingIsLoggedOnceAndReopensWithoutBackoff) {
  CapturedLog log;
  boost::asio::io_context io;
  std::atomic<int> attempts{0};
  auto sup = std::make_shared<SessionSupervisor>(
      io, "venue fuzhou",
      [&](ingest::SessionControl&) {
        ++attempts;
        return ingest::SessionOutcome::waiting("waiting for the venue to publish");
      },
      Backoff(Backoff::Options{.initial = 10'000ms, .cap = 10'000ms, .jitter = 0.0}, 1));
  sup->start();
  runUntil(io, [&] { return attempts >= 5; }, 2s);
  sup->requestStop();
  io.run_for(20ms);
  sup->join();
  EXPECT_GE(attempts.load(), 5);
  EXPECT_EQ(log.count("waiting for the venue to publish"), 1) << log.text();
}

TEST(SessionSupervisor, StopInterruptsARunningSessionAndJoins) {
  boost::asio::io_context io;
  std::atomic<bool> sawStop{false};
  std::atomic<bool> running{false};
  auto sup = std::make_shared<SessionSupervisor>(
      io, "venue wuxi",
      [&](ingest::SessionControl& c) {
        running = true;
        while (!c.stopRequested()) std::this_thread::sleep_for(1ms);
        sawStop = true;
        return ingest::SessionOutcome{};
      },
      fastBackoff());
  sup->start();
  runUntil(io, [&] { return running.load(); }, 2s);
  const auto t0 = std::chrono::steady_clock::now();
  sup->requestStop();
  sup->join();
  EXPECT_TRUE(sawStop.load());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 500ms);
  EXPECT_EQ(sup->state(), SupervisedState::Stopped);
}

TEST(SessionSupervisor, StopWakesASessionSleepingOnItsOwnConditionVariable) {
  boost::asio::io_context io;
  std::mutex mu;
  std::condition_variable cv;
  bool woken = false;
  std::atomic<bool> waiting{false};
  auto sup = std::make_shared<SessionSupervisor>(
      io, "output dalian",
      [&](ingest::SessionControl& c) {
        c.setStopWaker([&] {
          std::lock_guard lock(mu);
          woken = true;
          cv.notify_all();
        });
        std::unique_lock lock(mu);
        waiting = true;
        cv.wait_for(lock, 10s, [&] { return woken; });  // no polling of the flag
        return ingest::SessionOutcome{};
      },
      fastBackoff());
  sup->start();
  runUntil(io, [&] { return waiting.load(); }, 2s);
  const auto t0 = std::chrono::steady_clock::now();
  sup->requestStop();
  sup->join();
  EXPECT_TRUE(woken);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
}

TEST(SessionSupervisor, ImmediateRetrySkipsTheBackoff) {
  boost::asio::io_context io;
  std::atomic<int> attempts{0};
  auto sup = std::make_shared<SessionSupervisor>(
      io, "output x",
      [&](ingest::SessionControl&) {
        ++attempts;
        return ingest::SessionOutcome::reopen("venue changed codecs");
      },
      Backoff(Backoff::Options{.initial = 10'000ms, .cap = 10'000ms, .jitter = 0.0}, 1));
  sup->start();
  runUntil(io, [&] { return attempts >= 5; }, 2s);
  sup->requestStop();
  io.run_for(20ms);
  sup->join();
  EXPECT_GE(attempts.load(), 5);  // a 10 s backoff would have allowed only one
}

}  // namespace
}  // namespace venuecast::relay
