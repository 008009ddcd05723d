#include "ingest/io_watchdog.h"

#include <gtest/gtest.h>

#include <thread>

namespace venuecast::ingest {
namespace {

using namespace std::chrono_literals;

int poll(IoWatchdog& w) {
  AVIOInterruptCB cb = w.callback();
  return cb.callback(cb.opaque);
}

TEST(IoWatchdog, QuietWhileAnArmedCallIsWithinItsLimit) {
  std::atomic<bool> stop{false};
  IoWatchdog w(stop);
  w.arm(1000ms);
  EXPECT_EQ(poll(w), 0);
  EXPECT_FALSE(w.stalled());
}

TEST(IoWatchdog, FiresWhenAnArmedCallOverrunsAndStaysFired) {
  std::atomic<bool> stop{false};
  IoWatchdog w(stop);
  w.arm(20ms);
  std::this_thread::sleep_for(40ms);
  EXPECT_EQ(poll(w), 1);
  EXPECT_TRUE(w.stalled());
  w.disarm();
  EXPECT_EQ(poll(w), 1);  // teardown of a stalled peer must not block again
}

TEST(IoWatchdog, DisarmedIdleTimeIsNotAStall) {
  std::atomic<bool> stop{false};
  IoWatchdog w(stop);
  w.arm(20ms);
  w.disarm();
  std::this_thread::sleep_for(40ms);  // e.g. an output waiting for its venue
  EXPECT_EQ(poll(w), 0);
}

TEST(IoWatchdog, StopWithoutGraceInterruptsAtOnce) {
  std::atomic<bool> stop{false};
  IoWatchdog w(stop);
  stop = true;
  EXPECT_EQ(poll(w), 1);
  EXPECT_FALSE(w.stalled());
}

TEST(IoWatchdog, StopGraceAllowsACleanTrailerThenInterrupts) {
  std::atomic<bool> stop{false};
  IoWatchdog w(stop);
  w.setStopGrace(50ms);
  stop = true;
  EXPECT_EQ(poll(w), 0);
  std::this_thread::sleep_for(70ms);
  EXPECT_EQ(poll(w), 1);
}

TEST(IoWatchdog, TripAbortsEverything) {
  std::atomic<bool> stop{false};
  IoWatchdog w(stop);
  w.trip();
  EXPECT_EQ(poll(w), 1);
  EXPECT_TRUE(w.interrupted());
}

}  // namespace
}  // namespace venuecast::ingest
