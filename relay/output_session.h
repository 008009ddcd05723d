#pragma once
// What an output's publish session shares with OutputWriter, whichever client publishes it (the native
// RTMP publisher for rtmp://, libavformat for rtmps://): the queue it drains, the keyframe it starts on,
// the supervisor's control, the counters, and the failure texts the supervisor compares.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "ingest/packet.h"
#include "ingest/session.h"
#include "relay/packet_queue.h"

namespace venuecast::relay {

struct OutputCounters {
  std::atomic<uint64_t> packets{0};  // handed to the endpoint's connection
  std::atomic<uint64_t> bytes{0};    // their payload bytes
  std::atomic<uint64_t> sessions{0}; // publishes accepted
};

struct OutputSessionContext {
  const std::string& id;
  PacketQueue& queue;            // after `first`: the session's packets, in order
  ingest::PacketPtr first;       // a keyframe; its streams fix the session's layout
  std::size_t cached = 0;        // how many packets the GOP cache primed the queue with
  ingest::SessionControl& control;
  OutputCounters& counters;
  std::chrono::milliseconds confirmAfter;  // data accepted this long: the publish holds, announce "live"

  // "publishing h264 ..., starting from the cached keyframe (N packets, M ms old)", for the live line.
  std::string describeStart(std::chrono::steady_clock::time_point connectedAt) const;
};

// Peers that hang up show as EPIPE, ECONNRESET or EOF depending on timing: one stable text for all, so the
// supervisor sees one failure repeating rather than alternating ones. Before the publish was confirmed
// (`wasLive` false) it is most likely a refusal after the fact.
ingest::SessionOutcome endpointClosed(bool wasLive, std::string detail);
ingest::SessionOutcome endpointStalled(std::chrono::milliseconds limit);
// The venue came back with other tracks or codecs than the session was opened with.
ingest::SessionOutcome venueChangedCodecs(const ingest::StreamSet& now);

}  // namespace venuecast::relay
