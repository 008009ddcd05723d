#pragma once
// One publish session through libavformat's FLV muxer and RTMP(S) client, on the output's own thread:
// open, then pop / write each packet as it comes. Used for rtmps:// endpoints (TLS through gnutls) and
// for codecs the native FLV tag builder does not produce; rtmp:// otherwise goes native.
#include <chrono>
#include <string>

#include "config/push_target.h"
#include "relay/output_session.h"

namespace venuecast::relay {

struct LibavOutputSetup {
  config::PushTarget target;
  bool rtmps = false;
  bool tlsVerify = true;
  std::string caFile;
  std::chrono::milliseconds connectLimit;  // TCP + RTMP handshake + publish
  std::chrono::milliseconds writeStall;    // one write blocked this long: the peer stalled
  std::chrono::milliseconds stopGrace;     // time for a clean trailer + close on shutdown
  int64_t rwTimeoutUs = 5'000'000;
  int sendBufferBytes = 0;
};

ingest::SessionOutcome runLibavOutputSession(const LibavOutputSetup& setup, const OutputSessionContext& ctx);

}  // namespace venuecast::relay
