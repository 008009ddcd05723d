#include "relay/native_output_session.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <mutex>
#include <optional>

#include "relay/flv_tag_builder.h"
#include "relay/output_timeline.h"

namespace venuecast::relay {

using ingest::MediaKind;
using ingest::PacketPtr;
using ingest::SessionOutcome;
using Clock = std::chrono::steady_clock;

namespace {

// At most this many packets per write: a backlog (the cached GOP) still goes out in a few large writes.
constexpr std::size_t kPacketsPerBatch = 64;
// The waiting thread is woken by a stop request (SessionControl::setStopWaker); this is only its fallback.
constexpr std::chrono::milliseconds kStopPoll{10'000};

// What the data plane reports to the waiting session thread.
class SessionEvents {
 public:
  void published(std::string error) {
    std::lock_guard lock(mu_);
    publishResult_ = std::move(error);
    cv_.notify_all();
  }
  void ended(SessionOutcome outcome) {
    std::lock_guard lock(mu_);
    if (!ended_) ended_ = std::move(outcome);
    cv_.notify_all();
  }
  void closed() {
    std::lock_guard lock(mu_);
    closed_ = true;
    cv_.notify_all();
  }
  void stopRequested() {
    std::lock_guard lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  std::optional<std::string> waitPublished(Clock::duration d) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, d, [&] { return publishResult_.has_value() || stopping_; });
    return publishResult_;
  }
  std::optional<SessionOutcome> waitEnded(Clock::duration d) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, d, [&] { return ended_.has_value() || stopping_; });
    return ended_;
  }
  std::atomic<bool> confirmed{false};  // the session announced itself live

  bool waitClosed(Clock::duration d) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, d, [&] { return closed_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<std::string> publishResult_;
  std::optional<SessionOutcome> ended_;
  bool closed_ = false;
  bool stopping_ = false;
};

// Moves packets from the output's queue into the publisher, on the publisher's loop: when the queue says
// packets arrived, or when the socket has taken everything sent so far. While a write is outstanding it
// leaves packets in the queue, so a slow endpoint's backlog is bounded (and GOP-dropped) there.
class Pump : public std::enable_shared_from_this<Pump> {
 public:
  // The queue and counters belong to the OutputWriter, which outlives the data plane's handlers.
  Pump(const OutputSessionContext& ctx, std::shared_ptr<RtmpPublisher> publisher, std::shared_ptr<SessionEvents> events)
      : queue_(ctx.queue),
        counters_(ctx.counters),
        first_(ctx.first),
        layout_(ctx.first->streams),
        builder_(layout_->video.get(), layout_->audio.get()),
        publisher_(std::move(publisher)),
        events_(std::move(events)) {}

  // Thread-safe (on the loop's own thread it runs at once). The header and the first packet go out, then the queue
  // feeds the publisher.
  void start() {
    boost::asio::dispatch(publisher_->executor(), [self = shared_from_this()] {
      if (self->finished_) return;  // the session ended before it was published
      std::vector<rtmp::RtmpMediaMessage> messages;
      std::string error;
      if (!self->builder_.header(messages, error)) return self->end(SessionOutcome::failed("cannot build FLV header: " + error));
      if (!self->add(std::exchange(self->first_, nullptr), messages)) return;
      self->publisher_->send(std::move(messages));
      self->queue_.setReadyCallback(
          [weak = self->weak_from_this()] {
            if (auto pump = weak.lock()) pump->schedule();
          },
          [weak = self->weak_from_this()](const PacketPtr& p) {
            const auto pump = weak.lock();
            return pump && pump->take(p);
          });
    });
  }

  // Until the queue is empty (it then calls back on the next packet) or a write has to wait for the socket (the
  // publisher's idle handler calls back).
  void drain() {
    scheduled_.store(false, std::memory_order_relaxed);
    if (draining_) return;  // nothing should re-enter, but a nested drain would reuse batch_ and messages_
    draining_ = true;
    drainLoop();
    draining_ = false;
  }

  void drainLoop() {
    while (!finished_ && !publisher_->writePending()) {
      batch_.clear();
      const std::size_t n = queue_.popAvailable(batch_, kPacketsPerBatch);
      for (const auto& p : batch_) {
        if (!p->streams->sameLayout(*layout_)) {
          if (!messages_.empty()) publisher_->sendOnLoop(messages_);
          return end(venueChangedCodecs(*p->streams));
        }
        if (!add(p, messages_)) return;
      }
      batch_.clear();  // the messages keep what they need of the packets
      if (!messages_.empty()) publisher_->sendOnLoop(messages_);
      if (n < kPacketsPerBatch) return;
    }
  }

  // The queue's offer of a packet it would otherwise queue for us (see PacketQueue::setReadyCallback): on the loop's
  // thread, with nothing waiting ahead of it and the socket taking writes, it goes to the publisher at once.
  bool take(const PacketPtr& p) {
    if (!publisher_->executor().running_in_this_thread()) return false;
    if (finished_ || draining_ || publisher_->writePending() || !p->streams->sameLayout(*layout_)) return false;
    if (!add(p, messages_)) {  // the session ends (add said why); the packet goes with it
      messages_.clear();
      return true;
    }
    if (!messages_.empty()) publisher_->sendOnLoop(messages_);
    return true;
  }

  // Thread-safe: stop feeding, end the stream as flvenc's trailer does, close gracefully.
  void finish() {
    boost::asio::post(publisher_->executor(), [self = shared_from_this()] {
      self->finished_ = true;
      if (auto eos = self->builder_.endOfSequence(static_cast<uint32_t>(self->lastVideoDtsMs_))) {
        self->publisher_->send(std::move(*eos));
      }
      self->publisher_->close([events = self->events_](const std::string&) { events->closed(); });
    });
  }

  void end(SessionOutcome outcome) {
    finished_ = true;
    events_->ended(std::move(outcome));
  }

 private:
  // On the loop's own thread (a native venue delivers there) the packet goes out at once, in the same turn of the
  // loop that read it; from another thread (a libavformat source) it is posted.
  void schedule() {
    if (publisher_->executor().running_in_this_thread()) return drain();
    if (scheduled_.exchange(true, std::memory_order_relaxed)) return;
    boost::asio::post(publisher_->executor(), [self = shared_from_this()] { self->drain(); });
  }

  bool add(const PacketPtr& p, std::vector<rtmp::RtmpMediaMessage>& out) {
    int64_t dts = 0, pts = 0;
    if (!layout_->get(p->kind) || !timeline_.map(p->kind, p->dts(), p->pts(), dts, pts)) return true;
    const AVMediaType kind = p->kind == MediaKind::Video ? AVMEDIA_TYPE_VIDEO : AVMEDIA_TYPE_AUDIO;
    std::string error;
    if (!builder_.packet({kind, p->av.get(), dts, pts, p}, out, error)) {
      end(SessionOutcome::failed("cannot build an FLV tag: " + error));
      return false;
    }
    if (p->kind == MediaKind::Video) lastVideoDtsMs_ = dts;
    counters_.packets.fetch_add(1, std::memory_order_relaxed);
    counters_.bytes.fetch_add(static_cast<uint64_t>(p->size()), std::memory_order_relaxed);
    return true;
  }

  PacketQueue& queue_;
  OutputCounters& counters_;
  PacketPtr first_;
  const ingest::StreamSetPtr layout_;  // owns the codec parameters the builder reads
  FlvTagBuilder builder_;
  OutputTimeline timeline_;
  std::shared_ptr<RtmpPublisher> publisher_;
  std::shared_ptr<SessionEvents> events_;
  std::vector<PacketPtr> batch_;
  std::vector<rtmp::RtmpMediaMessage> messages_;  // reused for every drain
  std::atomic<bool> scheduled_{false};
  bool finished_ = false;  // loop only
  bool draining_ = false;  // loop only
  int64_t lastVideoDtsMs_ = 0;
};

bool startsWith(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

SessionOutcome publisherFailure(const std::string& error, bool wasLive, std::chrono::milliseconds stallLimit) {
  if (startsWith(error, "endpoint stalled")) return endpointStalled(stallLimit);
  if (startsWith(error, "server closed the connection") || error.find("Broken pipe") != std::string::npos ||
      error.find("Connection reset") != std::string::npos) {
    return endpointClosed(wasLive, " (" + error + ")");
  }
  return SessionOutcome::failed(error);
}

}  // namespace

SessionOutcome runNativeOutputSession(const NativeOutputSetup& setup, boost::asio::io_context& dataPlane,
                                      const OutputSessionContext& ctx) {
  ingest::SessionControl& control = ctx.control;
  auto scrub = [&](const std::string& text) { return setup.scrubber ? setup.scrubber->scrub(text) : text; };
  auto events = std::make_shared<SessionEvents>();
  auto publisher = RtmpPublisher::create(dataPlane, setup.publisher);
  auto pump = std::make_shared<Pump>(ctx, publisher, events);
  publisher->setErrorHandler([events, stall = setup.publisher.writeStall, scrubber = setup.scrubber](const std::string& e) {
    events->ended(publisherFailure(scrubber ? scrubber->scrub(e) : e, events->confirmed.load(), stall));
  });
  publisher->setIdleHandler([weak = std::weak_ptr<Pump>(pump)] {
    if (auto p = weak.lock()) p->drain();
  });

  // Everything a session started must be over before this returns: the queue stops calling us, and the
  // connection is closed (gracefully, bounded by its close timeout).
  auto finish = [&](SessionOutcome outcome) {
    control.setStopWaker({});
    ctx.queue.setReadyCallback({});
    pump->finish();
    events->waitClosed(setup.publisher.closeTimeout + std::chrono::milliseconds(500));
    return outcome;
  };

  control.setStopWaker([events] { events->stopRequested(); });
  // Once published the stream starts right there on the loop, without a round trip through this thread: the first
  // keyframe is already waiting in the queue, and the endpoint's players are waiting for it.
  publisher->asyncPublish(setup.target, [events, pump](const std::string& e) {
    if (e.empty()) pump->start();
    events->published(e);
  });
  std::optional<std::string> published;
  while (!(published = events->waitPublished(kStopPoll))) {
    if (control.stopRequested()) return finish(SessionOutcome::stopped());
  }
  if (!published->empty()) {
    control.setStopWaker({});
    if (control.stopRequested()) return SessionOutcome::stopped();
    return SessionOutcome::failed("cannot publish: " + scrub(*published));
  }

  ctx.counters.sessions.fetch_add(1, std::memory_order_relaxed);
  const auto connectedAt = Clock::now();
  const std::string started = ctx.describeStart(connectedAt);
  // Some endpoints accept the publish and drop it a moment later (a wrong key, a deny rule): "live" is
  // announced once the endpoint has taken our data for a while.
  spdlog::debug("output {}: publish accepted, {}", ctx.id, started);
  std::optional<SessionOutcome> ended;
  while (!control.stopRequested()) {
    const auto confirmAt = connectedAt + ctx.confirmAfter;
    const auto now = Clock::now();
    const bool announced = events->confirmed.load();
    // Until confirmed, wake at the confirmation time, then every 20 ms until something was written.
    const auto wait = announced ? Clock::duration(kStopPoll)
                                : std::clamp<Clock::duration>(confirmAt - now, std::chrono::milliseconds(20), kStopPoll);
    if ((ended = events->waitEnded(wait))) break;
    if (!announced && Clock::now() >= confirmAt && publisher->messagesWritten() > 0) {
      events->confirmed.store(true);
      control.reportLive(started);
    }
  }
  if (!ended) return finish(SessionOutcome::stopped());
  return finish(std::move(*ended));
}

}  // namespace venuecast::relay
