#pragma once
// Pulls one venue feed, one session per call: open, probe, check codecs, then read, normalise and hand packets
// to the sink until the feed ends, stalls or a stop is requested. rtmp:// is played by our own RTMP client
// (RtmpPlayConnection) and demuxed by libavformat's flv demuxer; rtmps:// goes through libavformat entirely.
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ingest/av_ptr.h"
#include "ingest/io_watchdog.h"
#include "ingest/rtmp_play_connection.h"
#include "ingest/rtmp_play_protocol.h"

#include "ingest/packet_sink.h"
#include "ingest/session.h"
#include "ingest/source_output.h"

namespace venuecast::ingest {

class PullSource {
 public:
  struct Options {
    std::chrono::milliseconds openLimit{15'000};  // not published yet? give up this try, retry later
    std::chrono::milliseconds readStall{4'000};   // no packet for this long: the publisher is gone
    int64_t rwTimeoutUs = 20'000'000;             // socket backstop only: must outlast openLimit
    int64_t probeLimitUs = 10'000'000;            // longest keyframe interval we wait for
    // Set: play this with the native client (the url is then only a fallback for nothing); unset: libavformat.
    std::optional<RtmpPlayProtocol::Target> nativeTarget;
    // Applied to what a server says back before it is shown (it may echo a stream name holding a token).
    std::function<std::string(const std::string&)> scrub;
    // Where a native session reads once its codecs are known (null: on the source's thread, via the demuxer).
    boost::asio::io_context* dataPlane = nullptr;
  };

  // `label` names the venue in logs ("venue chengdu"); `url` may hold a secret and is never logged.
  PullSource(std::string label, std::string url, SourceOutput& out, Options options);
  PullSource(std::string label, std::string url, SourceOutput& out) : PullSource(std::move(label), std::move(url), out, Options{}) {}

  // Blocking; runs on the supervisor's worker thread.
  SessionOutcome runSession(SessionControl& control);

 private:
  SessionOutcome readSession(SessionControl& control, AvInputContextPtr input, IoWatchdog& watchdog,
                             const std::function<std::string(int)>& readError,
                             const std::shared_ptr<RtmpPlayConnection>& native);
  // The codecs of a native session from its first messages (FlvCodecProbe), with those messages; nullopt when
  // libavformat must probe it (another codec, an aggregate message, nothing settled within the probe limit).
  std::optional<std::pair<StreamSetPtr, std::vector<rtmp::RtmpChunkReader::Message>>> probeNatively(
      RtmpPlayConnection& connection);
  SessionOutcome startNativeSession(SessionControl& control, StreamSetPtr streams,
                                    std::vector<rtmp::RtmpChunkReader::Message> probed, RtmpPlayConnection& connection);
  // The rest of a native session on the data plane; `first` (already read) is delivered before.
  SessionOutcome continueOnDataPlane(SessionControl& control, RtmpPlayConnection& connection,
                                     std::vector<rtmp::RtmpChunkReader::Message> first);
  std::string scrub(const std::string& text) const { return options_.scrub ? options_.scrub(text) : text; }

  std::string label_;
  std::string url_;
  Options options_;
  SourceOutput& delivery_;  // the venue (or its switch): lives across sessions, the timeline continues
};

}  // namespace venuecast::ingest
