#pragma once
// A venue whose encoder publishes to our RTMP listener. Each session waits for a publisher of this venue, then
// learns the codecs from its first messages (FlvCodecProbe) and delivers its packets exactly as a pulled venue's
// (SourceDelivery: keyframe start, sequence headers, one continuous timeline), until the publisher leaves or
// goes silent. Media is handled on the data plane, in the connection's own read handler; the session's thread
// only waits. H.264 + AAC LC are taken natively; a publisher sending other codecs is told so and dropped.
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ingest/flv_codec_probe.h"
#include "ingest/flv_packet_reader.h"
#include "ingest/flv_stream_writer.h"
#include "ingest/packet_sink.h"
#include "ingest/rtmp_server_connection.h"
#include "ingest/session.h"
#include "ingest/source_output.h"

namespace venuecast::ingest {

class PushSource {
 public:
  struct Options {
    std::chrono::milliseconds probeLimit{10'000};  // media time to find both codecs in
    std::string waitingDetail;                     // shown while no publisher is connected
  };
  // `label` names the venue in logs ("venue chengdu").
  PushSource(std::string label, SourceOutput& out, Options options);

  // Listener side, on the data plane: a publisher whose key was checked wants this venue. Refused (false) while
  // another publisher is live: the first one keeps the venue until it leaves or goes silent.
  bool claim(const std::shared_ptr<RtmpServerConnection>& connection);
  bool live() const;

  // Blocking, on the supervisor's worker thread: one publisher from connect to leave.
  SessionOutcome runSession(SessionControl& control);

 private:
  struct Session;
  void onMedia(Session& s, rtmp::RtmpChunkReader::Message& m);  // data plane

  std::string label_;
  Options options_;
  SourceOutput& delivery_;  // the venue (or its switch): lives across sessions, the timeline continues
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::shared_ptr<Session> session_;  // the publisher being served, if any
  bool waiting_ = false;              // a session thread waits for a publisher
  bool wake_ = false;                 // a stop was requested
};

}  // namespace venuecast::ingest
