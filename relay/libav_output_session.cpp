#include "relay/libav_output_session.h"

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

ingest::SessionOutcome writeFailure(const LibavOutputSetup& setup, int err, bool stalled, bool wasLive) {
  if (stalled) return endpointStalled(setup.writeStall);
  if (err == AVERROR(EPIPE) || err == AVERROR(ECONNRESET) || err == AVERROR_EOF) {
    return endpointClosed(wasLive, " (" + ingest::avErrorText(err) + ")" + ingest::libavErrorDetail());
  }
  return ingest::SessionOutcome::failed("write failed: " + ingest::avErrorText(err), ingest::libavErrorDetail());
}

}  // namespace

ingest::SessionOutcome runLibavOutputSession(const LibavOutputSetup& setup, const OutputSessionContext& ctx) {
  ingest::SessionControl& control = ctx.control;
  const ingest::StreamSetPtr layout = ctx.first->streams;
  ingest::IoWatchdog watchdog(control.stopFlag());
  watchdog.setStopGrace(setup.stopGrace);

  AVFormatContext* raw = nullptr;
  int r = avformat_alloc_output_context2(&raw, nullptr, "flv", nullptr);
  if (r < 0 || !raw) return ingest::SessionOutcome::failed("cannot create FLV muxer: " + ingest::avErrorText(r));
  ingest::AvOutputContextPtr context(raw);
  AVFormatContext* oc = raw;
  int streamIndex[ingest::kMediaKinds] = {-1, -1};
  oc->interrupt_callback = watchdog.callback();
  oc->flush_packets = 1;  // a live relay sends each frame as it goes
  for (MediaKind kind : {MediaKind::Video, MediaKind::Audio}) {
    const AVCodecParameters* par = layout->get(kind);
    if (!par) continue;
    AVStream* st = avformat_new_stream(oc, nullptr);
    if (!st || avcodec_parameters_copy(st->codecpar, par) < 0) return ingest::SessionOutcome::failed("cannot create output stream");
    st->codecpar->codec_tag = 0;
    st->time_base = AVRational{1, 1000};
    streamIndex[static_cast<int>(kind)] = st->index;
  }

  ingest::AvDictionary io;
  io.set("rw_timeout", std::to_string(setup.rwTimeoutUs));
  // Kernel buffers would otherwise absorb many seconds of a stalled endpoint before a write blocks.
  if (setup.sendBufferBytes > 0) io.set("send_buffer_size", std::to_string(setup.sendBufferBytes));
  const config::PushTarget& target = setup.target;
  if (!target.rtmpApp.empty()) io.set("rtmp_app", target.rtmpApp);
  if (!target.rtmpPlaypath.empty()) io.set("rtmp_playpath", target.rtmpPlaypath);
  if (!target.tcUrl.empty()) io.set("rtmp_tcurl", target.tcUrl);
  if (setup.rtmps) {
    io.set("tls_verify", setup.tlsVerify ? "1" : "0");
    if (!setup.caFile.empty()) io.set("ca_file", setup.caFile);
  }
  ingest::clearLibavError();
  watchdog.arm(setup.connectLimit);
  r = avio_open2(&oc->pb, target.url.c_str(), AVIO_FLAG_WRITE, &oc->interrupt_callback, io.slot());
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
                                            std::to_string(setup.connectLimit.count() / 1000) + " s");
    }
    return ingest::SessionOutcome::failed("cannot publish: " + ingest::avErrorText(r), ingest::libavErrorDetail());
  }
  ctx.counters.sessions.fetch_add(1, std::memory_order_relaxed);
  const auto connectedAt = std::chrono::steady_clock::now();
  const std::string started = ctx.describeStart(connectedAt);
  // Some endpoints accept the publish and drop it a moment later (a wrong key, a deny rule): "live" is
  // announced once the endpoint has taken our data for a while.
  spdlog::debug("output {}: publish accepted, {}", ctx.id, started);
  bool announced = false;
  uint64_t written = 0;

  OutputTimeline timeline;
  ingest::AvPacketPtr pkt = ingest::makePacket();
  ingest::SessionOutcome outcome;
  for (PacketPtr p = ctx.first; !control.stopRequested(); p = ctx.queue.pop(std::chrono::milliseconds(100))) {
    if (!announced && written > 0 && std::chrono::steady_clock::now() - connectedAt >= ctx.confirmAfter) {
      control.reportLive(started);
      announced = true;
    }
    if (!p) continue;
    if (!p->streams->sameLayout(*layout)) {
      outcome = venueChangedCodecs(*p->streams);
      break;
    }
    const int index = streamIndex[static_cast<int>(p->kind)];
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
    watchdog.arm(setup.writeStall);
    r = av_write_frame(oc, pkt.get());
    watchdog.disarm();
    av_packet_unref(pkt.get());
    if (r < 0) {
      if (control.stopRequested()) break;
      outcome = writeFailure(setup, r, watchdog.stalled(), announced);
      break;
    }
    ++written;
    ctx.counters.packets.fetch_add(1, std::memory_order_relaxed);
    ctx.counters.bytes.fetch_add(static_cast<uint64_t>(size), std::memory_order_relaxed);
  }
  // A dead peer gets no second chance to block: trailer and close run with the interrupt raised.
  if (outcome.kind != ingest::SessionOutcome::Kind::Stopped) watchdog.trip();
  av_write_trailer(oc);
  return outcome;
}

}  // namespace venuecast::relay
