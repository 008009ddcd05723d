#pragma once
// Publishes one venue to one endpoint over RTMP(S), one connection per session: subscribe to the venue
// hub (which primes the queue with the cached GOP), open the FLV muxer with the venue's codec
// parameters, then write packets as they come. Runs on its own thread; a stall or error here ends only
// this output's session, never the venue or its sibling outputs.
#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "config/config.h"
#include "config/push_target.h"
#include "ingest/session.h"
#include "relay/packet_queue.h"
#include "relay/venue_hub.h"

namespace venuecast::relay {

class OutputWriter {
 public:
  struct Options {
    std::chrono::milliseconds connectLimit{10'000};  // TCP + RTMP handshake + publish
    std::chrono::milliseconds writeStall{3'000};     // one write blocked this long: the peer stalled
    std::chrono::milliseconds stopGrace{1'000};      // time for a clean trailer + close on shutdown
    std::chrono::milliseconds confirmAfter{1'000};   // data accepted this long: the publish holds
    int64_t rwTimeoutUs = 5'000'000;
    int sendBufferBytes = 128 * 1024;
    PacketQueue::Limits queue{};
  };
  struct Counters {
    std::atomic<uint64_t> packets{0};
    std::atomic<uint64_t> bytes{0};
    std::atomic<uint64_t> sessions{0};
  };

  OutputWriter(const config::OutputConfig& output, std::shared_ptr<VenueHub> hub, Options options);

  // Blocking; runs on the supervisor's worker thread.
  ingest::SessionOutcome runSession(ingest::SessionControl& control);

  const std::string& id() const { return id_; }
  const Counters& counters() const { return counters_; }
  PacketQueue::Stats queueStats() const { return queue_->stats(); }

 private:
  ingest::SessionOutcome writeFailure(int err, bool stalled, bool wasLive) const;

  std::string id_;
  config::PushTarget target_;
  bool rtmps_;
  bool tlsVerify_;
  std::string caFile_;
  std::shared_ptr<VenueHub> hub_;
  Options options_;
  std::shared_ptr<PacketQueue> queue_;
  Counters counters_;
};

}  // namespace venuecast::relay
