#pragma once
// One publish session through the native RTMP publisher (relay/rtmp_publisher.h), for rtmp:// endpoints.
// The output's thread only connects, then waits: packets go from the output's queue to the socket on the
// data plane, as FLV tags sharing the venue's payloads, one gathered write per batch and no thread handoff
// per packet (libavformat's writer made ~1,000 syscalls/s per 6 Mbit/s output and one futex handoff per
// packet per output: BENCHMARKS.md, notes/ffmpeg-rtmp.md §8).
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <memory>

#include "config/redaction.h"
#include "relay/output_session.h"
#include "relay/rtmp_publisher.h"

namespace venuecast::relay {

struct NativeOutputSetup {
  RtmpPublisher::Target target;
  RtmpPublisher::Options publisher;  // connect / close / stall limits, send buffer
  std::shared_ptr<const config::SecretScrubber> scrubber;  // for what the server says back (it may echo a key)
};

ingest::SessionOutcome runNativeOutputSession(const NativeOutputSetup& setup, boost::asio::io_context& dataPlane,
                                              const OutputSessionContext& ctx);

}  // namespace venuecast::relay
