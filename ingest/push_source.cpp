#include "ingest/push_source.h"

#include <spdlog/spdlog.h>

namespace venuecast::ingest {

namespace {
constexpr std::chrono::milliseconds kCloseWait{2'000};
// The stop waker and the connection wake the session thread; a timed wait is only a fallback (a long one: every
// wake-up of an idle thread is a context switch, on every venue, all event long).
constexpr std::chrono::seconds kFallbackWait{10};
}

struct PushSource::Session {
  std::shared_ptr<RtmpServerConnection> connection;
  std::string peer;
  bool taken = false;  // a session thread serves it
  // Data plane only, until `end` is set:
  FlvStreamWriter flags;  // what onMetaData / the first message say the stream carries
  std::vector<uint8_t> scratch;
  std::optional<FlvCodecProbe> probe;
  std::vector<rtmp::RtmpChunkReader::Message> held;
  std::optional<uint32_t> firstTimestamp;
  std::optional<FlvPacketReader> reader;
  // Under the source's mutex:
  bool began = false;  // SourceDelivery has a session open for it
  std::string describe;
  std::optional<RtmpServerConnection::End> end;
};

PushSource::PushSource(std::string label, SourceOutput& out, Options options)
    : label_(std::move(label)), options_(std::move(options)), delivery_(out) {}

bool PushSource::live() const {
  std::lock_guard lock(mu_);
  return session_ && !session_->end;
}

bool PushSource::claim(const std::shared_ptr<RtmpServerConnection>& connection) {
  std::lock_guard lock(mu_);
  if (session_ && !session_->end) return false;
  auto s = std::make_shared<Session>();
  s->connection = connection;
  s->peer = connection->peer();
  session_ = s;
  // The handlers hold the session, not the source: the relay stops the listener (and so every connection)
  // before its sources go away.
  connection->attach([this, s](rtmp::RtmpChunkReader::Message& m) { onMedia(*s, m); },
                     [this, s](const RtmpServerConnection::End& end) {
                       // Here, on the loop, so that the hub hears of the loss before a next publisher's streams.
                       if (s->reader) delivery_.endSession();
                       std::lock_guard lock(mu_);
                       s->end = end;
                       cv_.notify_all();
                     });
  cv_.notify_all();
  return true;
}

void PushSource::onMedia(Session& s, rtmp::RtmpChunkReader::Message& m) {
  if (s.reader) {
    if (std::string error = delivery_.deliver(*s.reader, m); !error.empty()) s.connection->close("bad media: " + error);
    return;
  }
  if (!s.flags.headerWritten()) {
    s.flags.add(m, s.scratch);
    s.scratch.clear();
  }
  if (m.type == FlvStreamWriter::kData || !s.flags.headerWritten()) return;
  if (!s.probe) s.probe.emplace(s.flags.hasVideo(), s.flags.hasAudio(), s.flags.videoKbps(), s.flags.audioKbps());
  if (!s.firstTimestamp) s.firstTimestamp = m.timestamp;
  const auto state = s.probe->add(m);
  s.held.push_back(std::move(m));
  if (state == FlvCodecProbe::State::NotNative) {
    s.held.clear();
    return s.connection->close("codecs not taken from publishers (venuecast takes H.264 video and AAC-LC audio)");
  }
  if (state == FlvCodecProbe::State::NeedMore) {
    if (s.held.back().timestamp - *s.firstTimestamp > static_cast<uint32_t>(options_.probeLimit.count())) {
      s.held.clear();
      s.connection->close("no complete H.264/AAC configuration within " +
                          std::to_string(options_.probeLimit.count() / 1000) + " s of media");
    }
    return;
  }
  const auto streams = s.probe->streams();
  if (!FlvPacketReader::supports(*streams)) {
    s.held.clear();
    return s.connection->close("codecs not taken from publishers (venuecast takes H.264 video and AAC-LC audio)");
  }
  const auto current = delivery_.beginSession(*streams);
  s.reader.emplace(*current);
  {
    std::lock_guard lock(mu_);
    s.began = true;
    s.describe = current->describe();
    cv_.notify_all();
  }
  auto held = std::move(s.held);
  for (auto& h : held) {
    if (std::string error = delivery_.deliver(*s.reader, h); !error.empty()) {
      return s.connection->close("bad media: " + error);
    }
  }
}

SessionOutcome PushSource::runSession(SessionControl& control) {
  std::unique_lock lock(mu_);
  wake_ = false;
  control.setStopWaker([this] {
    std::lock_guard l(mu_);
    wake_ = true;
    cv_.notify_all();
  });
  const auto stopping = [&] { return wake_ || control.stopRequested(); };
  if (!(session_ && !session_->taken)) {
    lock.unlock();
    control.reportWaiting(options_.waitingDetail);
    lock.lock();
  }
  // The stop waker ends the waits; their timeouts are only a fallback.
  while (!(session_ && !session_->taken) && !stopping()) cv_.wait_for(lock, kFallbackWait);
  if (!(session_ && !session_->taken)) {
    lock.unlock();
    control.setStopWaker({});
    return SessionOutcome::stopped();
  }
  const auto s = session_;
  s->taken = true;
  spdlog::info("{}: publisher {} connected", label_, s->peer);
  bool reported = false;
  while (!s->end && !stopping()) {
    if (s->began && !reported) {
      reported = true;
      const std::string detail = s->describe + " from " + s->peer;
      lock.unlock();
      control.reportLive(detail);
      lock.lock();
      continue;
    }
    cv_.wait_for(lock, kFallbackWait);
  }
  if (!s->end) {
    lock.unlock();
    s->connection->close("venuecast is stopping");
    lock.lock();
    cv_.wait_for(lock, kCloseWait, [&] { return s->end.has_value(); });
  }
  const bool stopped = stopping();
  const auto end = s->end.value_or(RtmpServerConnection::End{false, "did not close in time"});
  if (session_ == s) session_.reset();
  lock.unlock();
  control.setStopWaker({});
  if (stopped) return SessionOutcome::stopped();
  // The supervisor logs it (once per change) and runs the next session at once, which waits for a publisher.
  if (end.publisherLeft) return SessionOutcome::waiting("publisher " + s->peer + " left");
  return SessionOutcome::waiting("publisher " + s->peer + " dropped: " + end.why);
}

}  // namespace venuecast::ingest
