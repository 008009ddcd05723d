#include "relay/output_writer.h"

extern "C" {
#include <libavutil/mathematics.h>
}
#include <spdlog/spdlog.h>

#include "ingest/av_error.h"
#include "ingest/io_watchdog.h"
#include "relay/output_timeline.h"

namespace venuecast::relay {

using ingest::MediaKind;
using ingest::PacketPtr;

namespace {

// Unsubscribes on every way out of a session.
class Subscription {
 public:
  Subscription(VenueHub& hub, std::shared_ptr<PacketQueue> queue) : hub_(hub), queue_(std::move(queue)) {
    queue_->reset();
    primed_ = hub_.subscribe(queue_);
  }
  ~Subscription() {
    hub_.unsubscribe(queue_);
    queue_->reset();
  }
  size_t primed() const { return primed_; }

 private:
  VenueHub& hub_;
  std::shared_ptr<PacketQueue> queue_;
  size_t primed_ = 0;
};

struct OpenedOutput {
  ingest::AvOutputContextPtr context;
  int streamIndex[ingest::kMediaKinds] = {-1, -1};
};

}  // namespace

// Peers that hang up show as EPIPE or ECONNRESET depending on timing: one stable text for both, so the
// supervisor sees one failure repeating rather than two alternating ones.
ingest::SessionOutcome OutputWriter::writeFailure(int err, bool stalled, bool wasLive) const {
  if (stalled) {
    return ingest::SessionOutcome::failed("endpoint stalled: a write made no progress for " +
                                          std::to_string(options_.writeStall.count() / 1000) + " s");
  }
  const std::string why = " (" + ingest::avErrorText(err) + ")" + ingest::libavErrorDetail();
  if (err == AVERROR(EPIPE) || err == AVERROR(ECONNRESET) || err == AVERROR_EOF) {
    if (!wasLive) {
      return ingest::SessionOutcome::failed(
          "endpoint closed the connection right after accepting the publish (wrong stream key, or publishing "
          "not allowed?)",
          why);
    }
    return ingest::SessionOutcome::failed("endpoint closed the connection", why);
  }
  return ingest::SessionOutcome::failed("write failed: " + ingest::avErrorText(err), ingest::libavErrorDetail());
}

OutputWriter::OutputWriter(const config::OutputConfig& output, std::shared_ptr<VenueHub> hub, Options options)
    : id_(output.id),
      target_(config::makePushTarget(output.url, output.key)),
      rtmps_(output.url.rfind("rtmps://", 0) == 0),
      tlsVerify_(output.tlsVerify),
      caFile_(output.caFile),
      hub_(std::move(hub)),
      options_(options),
      queue_(std::make_shared<PacketQueue>(options.queue)) {}

ingest::SessionOutcome OutputWriter::runSession(ingest::SessionControl& control) {
  Subscription subscription(*hub_, queue_);

  // Wait for the venue: the first packet out of the queue is always a keyframe.
  PacketPtr first;
  bool announcedWait = false;
  while (!first) {
    if (control.stopRequested()) return ingest::SessionOutcome::stopped();
    first = queue_->pop(std::chrono::milliseconds(100));
    if (!first && !announcedWait) {
      control.reportWaiting("waiting for venue " + hub_->venueId());
      announcedWait = true;
    }
  }
  const size_t cached = subscription.primed();
  const ingest::StreamSetPtr layout = first->streams;

  ingest::IoWatchdog watchdog(control.stopFlag());
  watchdog.setStopGrace(options_.stopGrace);

  AVFormatContext* raw = nullptr;
  int r = avformat_alloc_output_context2(&raw, nullptr, "flv", nullptr);
  if (r < 0 || !raw) return ingest::SessionOutcome::failed("cannot create FLV muxer: " + ingest::avErrorText(r));
  OpenedOutput out;
  out.context.reset(raw);
  AVFormatContext* oc = raw;
  oc->interrupt_callback = watchdog.callback();
  oc->flush_packets = 1;  // a live relay sends each frame as it goes
  for (MediaKind kind : {MediaKind::Video, MediaKind::Audio}) {
    const AVCodecParameters* par = layout->get(kind);
    if (!par) continue;
    AVStream* st = avformat_new_stream(oc, nullptr);
    if (!st || avcodec_parameters_copy(st->codecpar, par) < 0) return ingest::SessionOutcome::failed("cannot create output stream");
    st->codecpar->codec_tag = 0;
    st->time_base = AVRational{1, 1000};
    out.streamIndex[static_cast<int>(kind)] = st->index;
  }

  ingest::AvDictionary io;
  io.set("rw_timeout", std::to_string(options_.rwTimeoutUs));
  // Kernel buffers would otherwise absorb many seconds of a stalled endpoint before a write blocks.
  io.set("send_buffer_size", std::to_string(options_.sendBufferBytes));
  if (!target_.rtmpApp.empty()) io.set("rtmp_app", target_.rtmpApp);
  if (!target_.rtmpPlaypath.empty()) io.set("rtmp_playpath", target_.rtmpPlaypath);
  if (!target_.tcUrl.empty()) io.set("rtmp_tcurl", target_.tcUrl);
  if (rtmps_) {
    io.set("tls_verify", tlsVerify_ ? "1" : "0");
    if (!caFile_.empty()) io.set("ca_file", caFile_);
  }
  ingest::clearLibavError();
  watchdog.arm(options_.connectLimit);
  r = avio_open2(&oc->pb, target_.url.c_str(), AVIO_FLAG_WRITE, &oc->interrupt_callback, io.slot());
  if (r >= 0) {
    ingest::AvDictionary muxerOptions;
    muxerOptions.set("flvflags", "no_duration_filesize");
    r = avformat_write_header(oc, muxerOptions.slot());
  }
  watchdog.disarm();
  if (r < 0) {
    watchdog.trip();
    if (control.stopRequested()) return ingest::SessionOutcome::stopped();
    if (watchdog.stalled()) {
      return ingest::SessionOutcome::failed("connect timed out after " +
                                            std::to_string(options_.connectLimit.count() / 1000) + " s");
    }
    return ingest::SessionOutcome::failed("cannot publish: " + ingest::avErrorText(r), ingest::libavErrorDetail());
  }
  counters_.sessions.fetch_add(1, std::memory_order_relaxed);
  const auto connectedAt = std::chrono::steady_clock::now();
  const int64_t behindUs =
      std::chrono::duration_cast<std::chrono::microseconds>(connectedAt.time_since_epoch()).count() -
      first->receivedUs;
  const std::string started =
      "publishing " + layout->describe() +
      (cached > 0 ? ", starting from the cached keyframe (" + std::to_string(cached) + " packets, " +
                        std::to_string(behindUs / 1000) + " ms old)"
                  : ", starting from a live keyframe");
  // Some endpoints accept the publish and drop it a moment later (a wrong key, a deny rule): "live" is
  // announced once the endpoint has taken our data for a while.
  spdlog::debug("output {}: publish accepted, {}", id_, started);
  bool announced = false;
  uint64_t written = 0;

  OutputTimeline timeline;
  ingest::AvPacketPtr pkt = ingest::makePacket();
  ingest::SessionOutcome outcome;
  for (PacketPtr p = std::move(first); !control.stopRequested(); p = queue_->pop(std::chrono::milliseconds(100))) {
    if (!announced && written > 0 && std::chrono::steady_clock::now() - connectedAt >= options_.confirmAfter) {
      control.reportLive(started);
      announced = true;
    }
    if (!p) continue;
    if (!p->streams->sameLayout(*layout)) {
      outcome = ingest::SessionOutcome::reopen("venue changed codecs (" + p->streams->describe() + "); reopening");
      break;
    }
    const int index = out.streamIndex[static_cast<int>(p->kind)];
    if (index < 0) continue;
    int64_t dts = 0, pts = 0;
    if (!timeline.map(p->kind, p->dts(), p->pts(), dts, pts)) continue;
    if (av_packet_ref(pkt.get(), p->av.get()) < 0) {
      outcome = ingest::SessionOutcome::failed("out of memory");
      break;
    }
    pkt->stream_index = index;
    pkt->dts = dts;
    pkt->pts = pts;
    pkt->duration = av_rescale_q(p->av->duration, AV_TIME_BASE_Q, AVRational{1, 1000});
    pkt->pos = -1;
    const int size = pkt->size;
    watchdog.arm(options_.writeStall);
    r = av_write_frame(oc, pkt.get());
    watchdog.disarm();
    av_packet_unref(pkt.get());
    if (r < 0) {
      if (control.stopRequested()) break;
      outcome = writeFailure(r, watchdog.stalled(), announced);
      break;
    }
    ++written;
    counters_.packets.fetch_add(1, std::memory_order_relaxed);
    counters_.bytes.fetch_add(static_cast<uint64_t>(size), std::memory_order_relaxed);
  }
  // A dead peer gets no second chance to block: trailer and close run with the interrupt raised.
  if (outcome.kind != ingest::SessionOutcome::Kind::Stopped) watchdog.trip();
  av_write_trailer(oc);
  return outcome;
}

}  // namespace venuecast::relay
