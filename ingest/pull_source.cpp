#include "ingest/pull_source.h"

extern "C" {
#include <libavutil/mathematics.h>
}
#include <spdlog/spdlog.h>

#include <cstring>

#include "ingest/av_error.h"
#include "ingest/flv_codec_probe.h"
#include "ingest/flv_compat.h"
#include "ingest/flv_packet_reader.h"
#include "ingest/io_watchdog.h"
#include "ingest/rtmp_play_connection.h"

namespace venuecast::ingest {

PullSource::PullSource(std::string label, std::string url, SourceOutput& out, Options options)
    : label_(std::move(label)), url_(std::move(url)), options_(options), delivery_(out) {}

SessionOutcome PullSource::runSession(SessionControl& control) {
  IoWatchdog watchdog(control.stopFlag());
  AvDictionary opts;
  // nginx-rtmp sends a new player audio at once but video only from the next keyframe, which OBS may
  // put seconds away. flvdec ends probing as soon as both streams exist, so a long limit costs an A/V
  // venue nothing; it only delays single-stream venues.
  opts.set("analyzeduration", std::to_string(options_.probeLimitUs));
  // Frame-rate estimation would hold back 40 frames (1.3 s at 30 fps) that then leave in a burst and
  // put the venue timeline ahead of the wall clock; a remux needs only the codec parameters.
  opts.set("fpsprobesize", "0");

  if (options_.nativeTarget) {
    auto connection = std::make_shared<RtmpPlayConnection>(
        *options_.nativeTarget, [cb = watchdog.callback()] { return cb.callback(cb.opaque) != 0; });
    watchdog.arm(options_.openLimit);
    const std::string error = connection->open();
    watchdog.disarm();
    if (!error.empty()) {
      if (control.stopRequested()) return SessionOutcome::stopped();
      // Reachable but nothing published yet: keep waiting (a fresh open also re-checks the server).
      if (watchdog.stalled()) return SessionOutcome::waiting("waiting for the venue to publish");
      if (connection->closedByServer()) {
        return SessionOutcome::failed("cannot open source: the server closed the connection", " (" + scrub(error) + ")");
      }
      return SessionOutcome::failed("cannot open source: " + scrub(error));
    }
    watchdog.arm(options_.openLimit);
    auto probed = probeNatively(*connection);
    watchdog.disarm();
    if (probed) {
      return startNativeSession(control, std::move(probed->first), std::move(probed->second), *connection);
    }
    if (control.stopRequested()) return SessionOutcome::stopped();
    // Not H.264/AAC, or not settled within the probe limit: libavformat probes the same bytes, as before.
    constexpr int kAvioBuffer = 64 << 10;
    auto* buffer = static_cast<unsigned char*>(av_malloc(kAvioBuffer));
    AvIoContextPtr avio(buffer ? avio_alloc_context(buffer, kAvioBuffer, 0, connection.get(), &RtmpPlayConnection::readPacket,
                                                    nullptr, nullptr)
                               : nullptr);
    if (!avio) {
      av_free(buffer);
      return SessionOutcome::failed("out of memory");
    }
    AVFormatContext* raw = avformat_alloc_context();
    if (!raw) return SessionOutcome::failed("out of memory");
    raw->pb = avio.get();
    raw->flags |= AVFMT_FLAG_CUSTOM_IO;
    raw->interrupt_callback = watchdog.callback();
    const int r = avformat_open_input(&raw, "", av_find_input_format("flv"), opts.slot());  // frees raw on failure
    if (r < 0) return SessionOutcome::failed("cannot open source: " + avErrorText(r));
    // Declared after the AVIO and the connection, so it is closed before them.
    return readSession(control, AvInputContextPtr(raw), watchdog, [&](int) {
      return connection->error().empty() ? std::string() : " (" + scrub(connection->error()) + ")";
    }, connection);
  }

  AVFormatContext* raw = avformat_alloc_context();
  if (!raw) return SessionOutcome::failed("out of memory");
  raw->interrupt_callback = watchdog.callback();
  opts.set("rw_timeout", std::to_string(options_.rwTimeoutUs));
  opts.set("rtmp_live", "live");
  clearLibavError();
  watchdog.arm(options_.openLimit);
  int r = avformat_open_input(&raw, url_.c_str(), nullptr, opts.slot());  // frees raw on failure
  watchdog.disarm();
  if (r < 0) {
    if (control.stopRequested()) return SessionOutcome::stopped();
    // Reachable but nothing published yet: keep waiting (a fresh open also re-checks the server).
    if (watchdog.stalled()) return SessionOutcome::waiting("waiting for the venue to publish");
    return SessionOutcome::failed("cannot open source: " + avErrorText(r), libavErrorDetail());
  }
  return readSession(control, AvInputContextPtr(raw), watchdog, [](int) { return libavErrorDetail(); }, nullptr);
}

SessionOutcome PullSource::readSession(SessionControl& control, AvInputContextPtr input, IoWatchdog& watchdog,
                                       const std::function<std::string(int)>& readError,
                                       const std::shared_ptr<RtmpPlayConnection>& native) {
  watchdog.arm(options_.openLimit);
  int r = avformat_find_stream_info(input.get(), nullptr);
  watchdog.disarm();
  if (r < 0) {
    if (control.stopRequested()) return SessionOutcome::stopped();
    return SessionOutcome::failed("cannot read stream info: " + avErrorText(r), readError(r));
  }

  const int videoIndex = av_find_best_stream(input.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  const int audioIndex = av_find_best_stream(input.get(), AVMEDIA_TYPE_AUDIO, -1, -1, nullptr, 0);
  if (videoIndex < 0 && audioIndex < 0) return SessionOutcome::failed("source has neither video nor audio");

  auto streams = std::make_shared<StreamSet>();
  for (int index : {videoIndex, audioIndex}) {
    if (index < 0) continue;
    const AVCodecParameters* par = input->streams[index]->codecpar;
    if (std::string why = flvIncompatibility(*par); !why.empty()) return SessionOutcome::failed(why);
    (par->codec_type == AVMEDIA_TYPE_VIDEO ? streams->video : streams->audio) = copyParameters(par);
  }
  clearLibavError();  // probing noise is not why a later read fails
  control.reportLive(delivery_.beginSession(*streams)->describe());

  // Codec parameters known: a native session continues on the data plane without the demuxer. libavformat
  // first hands out what it has buffered (the FLV bytes already given to it, then end of stream).
  const bool goAsync = native && options_.dataPlane && FlvPacketReader::supports(*delivery_.current());
  if (goAsync) native->endFlvStream();
  if (native) native->stopHolding();

  SessionOutcome outcome;
  AvPacketPtr pkt = makePacket();
  while (!control.stopRequested()) {
    watchdog.arm(options_.readStall);
    if (!pkt) pkt = makePacket();
    r = av_read_frame(input.get(), pkt.get());
    watchdog.disarm();
    if (r < 0) {
      if (control.stopRequested()) break;
      if (goAsync && r == AVERROR_EOF && !native->ended()) {
        input.reset();
        return continueOnDataPlane(control, *native, {});
      }
      if (watchdog.stalled()) {
        outcome = SessionOutcome::failed("no data for " + std::to_string(options_.readStall.count() / 1000) + " s (publisher gone?)");
      } else if (r == AVERROR_EOF) {
        outcome = SessionOutcome::failed("publisher left (end of stream)");
      } else {
        outcome = SessionOutcome::failed("read failed: " + avErrorText(r), readError(r));
      }
      break;
    }
    const int index = pkt->stream_index;
    if (index != videoIndex && index != audioIndex) {
      av_packet_unref(pkt.get());
      continue;
    }
    delivery_.deliver(index == videoIndex ? MediaKind::Video : MediaKind::Audio, pkt, input->streams[index]->time_base);
  }
  delivery_.endSession();
  // A dead peer must not hold up teardown: close with the interrupt raised.
  watchdog.trip();
  return outcome;
}

std::optional<std::pair<StreamSetPtr, std::vector<rtmp::RtmpChunkReader::Message>>> PullSource::probeNatively(
    RtmpPlayConnection& connection) {
  if (!options_.dataPlane) return std::nullopt;
  const auto& flv = connection.flv();
  FlvCodecProbe probe(flv.hasVideo(), flv.hasAudio(), flv.videoKbps(), flv.audioKbps());
  std::vector<rtmp::RtmpChunkReader::Message> messages;
  const auto feed = [&] {
    for (auto& m : connection.takeHeldMedia()) {
      probe.add(m);
      messages.push_back(std::move(m));
    }
  };
  feed();
  // The watchdog (armed by the caller's openLimit) interrupts a read that waits too long.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(options_.probeLimitUs);
  while (probe.state() == FlvCodecProbe::State::NeedMore && !connection.sawAggregate() &&
         std::chrono::steady_clock::now() < deadline && connection.readMore()) {
    feed();
  }
  if (probe.state() != FlvCodecProbe::State::Ready || connection.sawAggregate()) return std::nullopt;
  return std::make_pair(probe.streams(), std::move(messages));
}

SessionOutcome PullSource::startNativeSession(SessionControl& control, StreamSetPtr streams,
                                              std::vector<rtmp::RtmpChunkReader::Message> probed,
                                              RtmpPlayConnection& connection) {
  connection.stopHolding();
  connection.discardFlvStream();
  control.reportLive(delivery_.beginSession(*streams)->describe());
  return continueOnDataPlane(control, connection, std::move(probed));
}

SessionOutcome PullSource::continueOnDataPlane(SessionControl& control, RtmpPlayConnection& connection,
                                               std::vector<rtmp::RtmpChunkReader::Message> first) {
  FlvPacketReader reader(*delivery_.current());
  const auto onMessage = [&](rtmp::RtmpChunkReader::Message& m) { return delivery_.deliver(reader, m); };
  // What the probe read goes out first, from this thread; then the data plane takes over.
  for (auto& m : first) {
    if (std::string error = onMessage(m); !error.empty()) {
      delivery_.endSession();
      return SessionOutcome::failed("read failed: " + error);
    }
  }
  connection.startAsync(*options_.dataPlane, options_.readStall, onMessage);
  std::optional<RtmpPlayConnection::AsyncEnd> end;
  control.setStopWaker([weak = connection.weak_from_this()] {
    if (auto c = weak.lock()) c->wakeWaiter();
  });
  // The stop waker ends the wait; the timeout is only a fallback.
  while (!(end = connection.waitAsyncEnd(std::chrono::seconds(10)))) {
    if (control.stopRequested()) break;
  }
  control.setStopWaker({});
  connection.stopAsync();  // returns once no handler of the session can run any more
  delivery_.endSession();
  if (!end) return SessionOutcome::stopped();
  switch (end->kind) {
    case RtmpPlayConnection::AsyncEnd::Kind::Stalled:
      return SessionOutcome::failed("no data for " + std::to_string(options_.readStall.count() / 1000) + " s (publisher gone?)");
    case RtmpPlayConnection::AsyncEnd::Kind::PublisherLeft:
      return SessionOutcome::failed("publisher left (end of stream)");
    case RtmpPlayConnection::AsyncEnd::Kind::Failed:
      break;
  }
  return SessionOutcome::failed("read failed: " + scrub(end->error));
}

}  // namespace venuecast::ingest
