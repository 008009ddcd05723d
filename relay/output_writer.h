#pragma once
// Publishes one venue to one endpoint, one connection per session: subscribe to the venue hub (which primes
// the queue with the cached GOP), wait for the first keyframe, then publish it and what follows. rtmp://
// endpoints are published by the native RTMP client on the data plane, rtmps:// (and codecs only
// libavformat's FLV muxer writes) through libavformat on this output's thread. Runs on the supervisor's
// thread; a stall or error here ends only this output's session, never the venue or its sibling outputs.
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <memory>
#include <string>

#include "config/config.h"
#include "config/push_target.h"
#include "config/redaction.h"
#include "ingest/session.h"
#include "relay/output_session.h"
#include "relay/packet_queue.h"
#include "relay/venue_hub.h"

namespace venuecast::relay {

class OutputWriter {
 public:
  struct Options {
    std::chrono::milliseconds connectLimit{10'000};  // TCP + RTMP handshake + publish
    std::chrono::milliseconds writeStall{3'000};     // one write blocked this long: the peer stalled
    std::chrono::milliseconds stopGrace{1'000};      // time for a clean end of stream + close on shutdown
    std::chrono::milliseconds confirmAfter{1'000};   // data accepted this long: the publish holds
    int64_t rwTimeoutUs = 5'000'000;
    int sendBufferBytes = 128 * 1024;  // small, so a stalled endpoint blocks a write within seconds
    PacketQueue::Limits queue{};
    boost::asio::io_context* dataPlane = nullptr;  // null: every endpoint goes through libavformat
    std::shared_ptr<const config::SecretScrubber> scrubber;  // for what endpoints say back
  };
  using Counters = OutputCounters;

  OutputWriter(const config::OutputConfig& output, std::shared_ptr<VenueHub> hub, Options options);

  // Blocking; runs on the supervisor's worker thread.
  ingest::SessionOutcome runSession(ingest::SessionControl& control);

  const std::string& id() const { return id_; }
  const Counters& counters() const { return counters_; }
  PacketQueue::Stats queueStats() const { return queue_->stats(); }

 private:
  bool publishesNatively(const ingest::StreamSet& layout) const;

  std::string id_;
  config::OutputConfig output_;
  std::shared_ptr<VenueHub> hub_;
  Options options_;
  std::shared_ptr<PacketQueue> queue_;
  Counters counters_;
};

}  // namespace venuecast::relay
