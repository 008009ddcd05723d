#include "ingest/av_error.h"

#include <gtest/gtest.h>

#include <thread>

extern "C" {
#include <libavutil/error.h>
}

namespace venuecast::ingest {
namespace {

TEST(AvError, TextComesFromAvStrerror) {
  EXPECT_EQ(avErrorText(AVERROR(ECONNREFUSED)), "Connection refused");
  EXPECT_EQ(avErrorText(AVERROR_EOF), "End of file");
}

TEST(AvError, LibavDetailNamesTheComponentWithoutItsAddress) {
  clearLibavError();
  EXPECT_EQ(libavErrorDetail(), "");
  noteLibavError("[tls @ 0x55d0c0a81240] Peer certificate failed verification");
  EXPECT_EQ(libavErrorDetail(), " (tls: Peer certificate failed verification)");
  noteLibavError("[rtmps @ 0x2] Cannot open connection tls://127.0.0.1:1936");
  EXPECT_EQ(libavErrorDetail(), " (tls: Peer certificate failed verification)");  // the root cause wins
  clearLibavError();
  noteLibavError("plain message");
  EXPECT_EQ(libavErrorDetail(), " (plain message)");
  clearLibavError();
  EXPECT_EQ(libavErrorDetail(), "");
}

TEST(AvError, DetailIsPerThread) {
  clearLibavError();
  std::thread([] { noteLibavError("[tcp @ 0x1] elsewhere"); }).join();
  EXPECT_EQ(libavErrorDetail(), "");
}

}  // namespace
}  // namespace venuecast::ingest
