#include "relay/output_session.h"

namespace venuecast::relay {

std::string OutputSessionContext::describeStart(std::chrono::steady_clock::time_point connectedAt) const {
  const int64_t behindMs =
      std::chrono::duration_cast<std::chrono::milliseconds>(connectedAt.time_since_epoch()).count() -
      first->receivedUs / 1000;
  return "publishing " + first->streams->describe() +
         (cached > 0 ? ", starting from the cached keyframe (" + std::to_string(cached) + " packets, " +
                           std::to_string(behindMs) + " ms old)"
                     : ", starting from a live keyframe");
}

ingest::SessionOutcome venueChangedCodecs(const ingest::StreamSet& now) {
  return ingest::SessionOutcome::reopen("venue changed codecs (" + now.describe() + "); reopening");
}

ingest::SessionOutcome endpointClosed(bool wasLive, std::string detail) {
  if (!wasLive) {
    return ingest::SessionOutcome::failed(
        "endpoint closed the connection right after accepting the publish (wrong stream key, or publishing not "
        "allowed?)",
        std::move(detail));
  }
  return ingest::SessionOutcome::failed("endpoint closed the connection", std::move(detail));
}

ingest::SessionOutcome endpointStalled(std::chrono::milliseconds limit) {
  return ingest::SessionOutcome::failed("endpoint stalled: a write made no progress for " +
                                        std::to_string(limit.count() / 1000) + " s");
}

}  // namespace venuecast::relay
