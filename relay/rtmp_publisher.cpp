#include "relay/rtmp_publisher.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <algorithm>
#include <random>
#include <utility>

namespace venuecast::relay {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr std::size_t kHandshakeSize = 1536;
constexpr uint8_t kRtmpVersion = 3;
constexpr std::size_t kIovecsPerSend = 64;  // what Asio's reactor hands to one sendmsg at most

int64_t nowNs() { return std::chrono::steady_clock::now().time_since_epoch() / std::chrono::nanoseconds(1); }
std::string ms(std::chrono::milliseconds d) { return std::to_string(d.count()) + " ms"; }

}  // namespace

std::shared_ptr<RtmpPublisher> RtmpPublisher::create(asio::io_context& io, Options options) {
  return std::shared_ptr<RtmpPublisher>(new RtmpPublisher(io, std::move(options)));
}

RtmpPublisher::RtmpPublisher(asio::io_context& io, Options options)
    : options_(std::move(options)), executor_(io.get_executor()), resolver_(executor_), socket_(executor_),
      deadline_(executor_), stallTimer_(executor_), readBuffer_(16 * 1024), reader_(options_.maxIncomingMessage) {}

void RtmpPublisher::setErrorHandler(Handler handler) {
  asio::dispatch(executor_, [self = shared_from_this(), h = std::move(handler)]() mutable {
    self->errorHandler_ = std::move(h);
  });
}

void RtmpPublisher::setIdleHandler(std::function<void()> handler) {
  asio::dispatch(executor_, [self = shared_from_this(), h = std::move(handler)]() mutable {
    self->idleHandler_ = std::move(h);
  });
}

void RtmpPublisher::asyncPublish(Target target, Handler handler) {
  asio::dispatch(executor_, [self = shared_from_this(), t = std::move(target), h = std::move(handler)]() mutable {
    if (self->state() != State::Idle) {
      if (h) asio::post(self->executor_, [h = std::move(h)] { h("asyncPublish on a publisher already used"); });
      return;
    }
    self->publishHandler_ = std::move(h);
    self->protocol_.emplace(std::move(t), self->options_.chunkSize, self->options_.flashVer);
    self->setState(State::Connecting);
    self->armDeadline(self->options_.connectTimeout, "publish");
    const auto& target = self->protocol_->target();
    const std::string port = std::to_string(target.port);
    error_code ec;
    const auto address = asio::ip::make_address(target.host, ec);
    if (!ec) {  // a numeric address needs no resolver (and no resolver thread)
      return self->doConnect(tcp::resolver::results_type::create(tcp::endpoint(address, target.port), target.host, port));
    }
    self->phase_ = "resolving " + target.host;
    self->resolver_.async_resolve(target.host, port, [self](const error_code& ec, tcp::resolver::results_type r) {
      if (self->state() != State::Connecting) return;
      if (ec) return self->fail("cannot resolve " + self->protocol_->target().host + ": " + ec.message());
      self->doConnect(r);
    });
  });
}

void RtmpPublisher::doConnect(const tcp::resolver::results_type& endpoints) {
  phase_ = "TCP connect";
  asio::async_connect(socket_, endpoints, [self = shared_from_this()](const error_code& ec, const tcp::endpoint&) {
    self->onConnect(ec);
  });
}

void RtmpPublisher::onConnect(const error_code& ec) {
  if (state() != State::Connecting) return;
  const auto& t = protocol_->target();
  if (ec) return fail("cannot connect to " + t.host + ":" + std::to_string(t.port) + ": " + ec.message());
  error_code ignored;
  socket_.set_option(tcp::no_delay(options_.noDelay), ignored);
  socket_.non_blocking(true, ignored);  // writeSome tries each send at once
  if (options_.sendBufferBytes > 0) socket_.set_option(asio::socket_base::send_buffer_size(options_.sendBufferBytes), ignored);
  // Simple handshake: C0 = version 3; C1 = time 0, zero (no digest scheme), 1528 random bytes.
  handshake_.assign(1 + 2 * kHandshakeSize, 0);
  handshake_[0] = kRtmpVersion;
  std::mt19937 rng(std::random_device{}());
  for (std::size_t i = 9; i <= kHandshakeSize; ++i) handshake_[i] = static_cast<uint8_t>(rng());
  phase_ = "RTMP handshake";
  asio::async_write(socket_, asio::buffer(handshake_.data(), 1 + kHandshakeSize),
                    [self = shared_from_this()](const error_code& ec, std::size_t) {
                      if (self->state() != State::Connecting) return;
                      if (ec) return self->fail("RTMP handshake: " + ec.message());
                      // S0 S1 S2 in one read: a server sends S2 once it has C1 (RTMP spec 5.2.4), not C2.
                      asio::async_read(self->socket_, asio::buffer(self->handshake_),
                                       [self](const error_code& ec, std::size_t) { self->onHandshake(ec); });
                    });
}

void RtmpPublisher::onHandshake(const error_code& ec) {
  if (state() != State::Connecting) return;
  if (ec == asio::error::eof) return fail("server closed the connection during the RTMP handshake");
  if (ec) return fail("RTMP handshake: " + ec.message());
  if (handshake_[0] != kRtmpVersion) {
    return fail("server answered the RTMP handshake with version " + std::to_string(handshake_[0]));
  }
  // C2 echoes S1; our Set Chunk Size and connect follow in the same write.
  sendQueue_.push({rtmp::RtmpMediaMessage::owning(0, 0, {handshake_.begin() + 1, handshake_.begin() + 1 + kHandshakeSize})});
  protocol_->start(sendQueue_);
  doRead();
  doWrite();
}

void RtmpPublisher::doRead() {
  socket_.async_read_some(asio::buffer(readBuffer_), [self = shared_from_this()](const error_code& ec, std::size_t n) {
    self->onRead(ec, n);
  });
}

void RtmpPublisher::onRead(const error_code& ec, std::size_t n) {
  const State s = state();
  if (s == State::Closed || s == State::Failed) return;
  if (ec) {
    if (s == State::Closing) return finishClose(ec == asio::error::eof ? "" : ec.message());
    return fail(ec == asio::error::eof ? "server closed the connection" : "read failed: " + ec.message());
  }
  if (s == State::Connecting) {
    // nginx-rtmp leaves Nagle on: while our ACK of its last answer is delayed (up to 40 ms), its next answer
    // waits. Acknowledging at once during the command exchange keeps the publish to a few round trips.
    error_code ignored;
    socket_.set_option(asio::detail::socket_option::boolean<IPPROTO_TCP, TCP_QUICKACK>(true), ignored);
  }
  incoming_.clear();
  const bool ok = reader_.feed({readBuffer_.data(), n}, incoming_);
  for (const auto& m : incoming_) {
    const auto outcome = protocol_->onMessage(m, sendQueue_);
    if (outcome.event == RtmpPublishProtocol::Event::Failed) return fail(outcome.error);
    if (outcome.event == RtmpPublishProtocol::Event::Published && state() == State::Connecting) {
      ++deadlineGeneration_;
      deadline_.cancel();
      setState(State::Live);
      auto held = std::exchange(held_, {});
      enqueue(held);
      armStallCheck();  // a write still waiting from the command exchange
      if (publishHandler_) asio::post(executor_, [h = std::exchange(publishHandler_, {})] { h(""); });
    }
  }
  if (!ok) return fail(reader_.error());
  if (!shutdownSent_) protocol_->onBytesReceived(n, sendQueue_);  // nothing may follow our FIN
  doWrite();  // answers (acks, pings, the next command) if any were queued
  doRead();
}

void RtmpPublisher::send(std::vector<rtmp::RtmpMediaMessage> messages) {
  std::size_t bytes = 0;
  for (const auto& m : messages) bytes += m.size();
  queuedBytes_.fetch_add(bytes, std::memory_order_relaxed);
  asio::dispatch(executor_, [self = shared_from_this(), ms = std::move(messages)]() mutable { self->enqueue(ms); });
}

void RtmpPublisher::sendOnLoop(std::vector<rtmp::RtmpMediaMessage>& messages) {
  std::size_t bytes = 0;
  for (const auto& m : messages) bytes += m.size();
  queuedBytes_.fetch_add(bytes, std::memory_order_relaxed);
  enqueue(messages);
  messages.clear();
}

void RtmpPublisher::enqueue(std::vector<rtmp::RtmpMediaMessage>& messages) {
  const State s = state();
  if (s == State::Idle || s == State::Connecting) {
    for (auto& m : messages) held_.push_back(std::move(m));
    return;
  }
  // RTMP message lengths have 24 bits (FlvTagBuilder never builds more).
  const bool tooLarge = std::any_of(messages.begin(), messages.end(), [](const auto& m) { return m.size() > 0xFFFFFF; });
  if (s != State::Live || tooLarge) {  // after close() or a failure nothing more goes out
    std::size_t dropped = 0;
    for (const auto& m : messages) dropped += m.size();
    queuedBytes_.fetch_sub(dropped, std::memory_order_relaxed);
    if (tooLarge) fail("a message over 16 MiB cannot be sent over RTMP");
    return;
  }
  for (auto& m : messages) sendQueue_.push(protocol_->media(std::move(m)));
  doWrite();
}

void RtmpPublisher::doWrite() {
  if (sendQueue_.inFlight() || !sendQueue_.hasQueued() || !socket_.is_open() || shutdownSent_) return;
  batch_ = sendQueue_.startBatch(options_.maxWriteBytes);
  writeBatches_.fetch_add(1, std::memory_order_relaxed);
  writeSome();
}

// The send is tried right here (the socket is non-blocking): a socket with room takes the batch at once and
// nothing is scheduled, no completion handler, no extra turn of the loop. Only when the socket buffer is full does
// the write wait in the reactor: our own loop over async_write_some rather than async_write (64 iovecs per
// sendmsg instead of 16, no 64 KiB cap per call, no copy of the buffer vector, a progress time after every
// partial write).
void RtmpPublisher::writeSome() {
  sendCalls_.fetch_add(1, std::memory_order_relaxed);
  error_code ec;
  const std::size_t n = socket_.write_some(sendQueue_.pending(kIovecsPerSend), ec);
  if (ec != asio::error::would_block && ec != asio::error::try_again) return onWrite(ec, n);
  // Only a write that waits has a progress time (and is pending): most writes are taken at once, without a clock read.
  writeProgressNs_.store(nowNs(), std::memory_order_relaxed);
  idleOwed_ = true;
  armStallCheck();
  sendCalls_.fetch_add(1, std::memory_order_relaxed);
  socket_.async_write_some(sendQueue_.pending(kIovecsPerSend),
                           [self = shared_from_this()](const error_code& ec, std::size_t n) { self->onWrite(ec, n); });
}

void RtmpPublisher::onWrite(const error_code& ec, std::size_t n) {
  bytesWritten_.fetch_add(n, std::memory_order_relaxed);
  if (!ec && !sendQueue_.consume(n)) {
    if (writeProgressNs_.load(std::memory_order_relaxed) != 0) writeProgressNs_.store(nowNs(), std::memory_order_relaxed);
    return writeSome();
  }
  writeProgressNs_.store(0, std::memory_order_relaxed);
  sendQueue_.finishBatch();  // releases the payload references
  queuedBytes_.fetch_sub(batch_.mediaBytes, std::memory_order_relaxed);
  if (ec) return fail("write failed: " + ec.message());
  messagesWritten_.fetch_add(batch_.media, std::memory_order_relaxed);
  if (sendQueue_.hasQueued()) return doWrite();
  // Everything written, and some of it had to wait for the socket: the producer holding back (see
  // setIdleHandler) may go on. Writes the socket took at once returned to their caller, which went on by itself.
  if (state() == State::Live && std::exchange(idleOwed_, false) && idleHandler_) return idleHandler_();
  if (state() == State::Closing && !shutdownSent_) {
    // All sent, FCUnpublish and deleteStream included: FIN, then the read loop waits for the server's.
    shutdownSent_ = true;
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
  }
}

void RtmpPublisher::close(Handler handler) {
  asio::dispatch(executor_, [self = shared_from_this(), h = std::move(handler)]() mutable { self->beginClose(std::move(h)); });
}

void RtmpPublisher::beginClose(Handler h) {
  const State s = state();
  if (s == State::Live) {
    closeHandler_ = std::move(h);
    setState(State::Closing);
    protocol_->queueUnpublish(sendQueue_);  // after the media already queued
    armDeadline(options_.closeTimeout, "graceful close");
    doWrite();
    return;
  }
  if (s == State::Closing) {  // both callers hear about the one close
    closeHandler_ = [a = std::move(closeHandler_), b = std::move(h)](const std::string& e) {
      if (a) a(e);
      if (b) b(e);
    };
    return;
  }
  Handler publish = s == State::Connecting ? std::exchange(publishHandler_, {}) : Handler{};
  if (s != State::Closed && s != State::Failed) {
    setState(State::Closed);
    hardClose();
  }
  if (publish) asio::post(executor_, [p = std::move(publish)] { p("closed before publishing started"); });
  if (h) asio::post(executor_, [h = std::move(h)] { h(""); });
}

void RtmpPublisher::armDeadline(std::chrono::milliseconds after, std::string what) {
  const uint64_t generation = ++deadlineGeneration_;
  deadline_.expires_after(after);
  deadline_.async_wait([self = shared_from_this(), generation, after, what](const error_code& ec) {
    if (ec || generation != self->deadlineGeneration_) return;
    if (self->state() == State::Connecting) {
      // Before the chunk stream starts the publisher knows the phase (resolve, connect, handshake), then the protocol.
      const auto& phase = self->protocol_->phase() == "handshake" ? self->phase_ : self->protocol_->phase();
      self->fail(what + " timed out after " + ms(after) + " (during " + phase + ")");
    } else if (self->state() == State::Closing) {
      self->finishClose(what + " timed out after " + ms(after));
    }
  });
}

// Runs only while a write waits for the socket (most writes are taken at once): an output costs no timer wake-ups
// while its endpoint keeps up. Set for when the stall would be complete, moved on by any progress meanwhile.
void RtmpPublisher::armStallCheck() {
  if (options_.writeStall.count() <= 0 || stallArmed_ || state() != State::Live) return;
  const int64_t since = writeProgressNs_.load(std::memory_order_relaxed);
  if (since == 0) return;
  stallArmed_ = true;
  stallTimer_.expires_at(std::chrono::steady_clock::time_point(std::chrono::nanoseconds(since)) + options_.writeStall);
  stallTimer_.async_wait([self = shared_from_this()](const error_code& ec) {
    self->stallArmed_ = false;
    if (ec || self->state() != State::Live) return;
    const int64_t since = self->writeProgressNs_.load(std::memory_order_relaxed);
    if (since != 0 && nowNs() - since >= self->options_.writeStall / std::chrono::nanoseconds(1)) {
      return self->fail("endpoint stalled: a write made no progress for " + ms(self->options_.writeStall));
    }
    self->armStallCheck();  // still waiting (with progress since): the rest of the stall time
  });
}

void RtmpPublisher::finishClose(const std::string& error) {
  if (state() != State::Closing) return;
  setState(State::Closed);
  hardClose();
  if (closeHandler_) asio::post(executor_, [h = std::exchange(closeHandler_, {}), error] { h(error); });
}

void RtmpPublisher::fail(const std::string& error) {
  const State s = state();
  if (s == State::Closed || s == State::Failed) return;
  setState(State::Failed);
  hardClose();
  // Exactly one party hears about a failure: whoever is waiting on this connection now.
  Handler h = s == State::Connecting ? std::exchange(publishHandler_, {})
              : s == State::Closing  ? std::exchange(closeHandler_, {})
                                     : std::exchange(errorHandler_, {});
  if (h) asio::post(executor_, [h = std::move(h), error] { h(error); });
}

void RtmpPublisher::hardClose() {
  ++deadlineGeneration_;
  idleHandler_ = {};
  error_code ignored;
  deadline_.cancel();
  stallTimer_.cancel();
  resolver_.cancel();
  socket_.close(ignored);  // an outstanding write completes with operation_aborted and ends its batch
  std::size_t dropped = sendQueue_.dropQueued();
  for (const auto& m : held_) dropped += m.size();
  held_.clear();
  queuedBytes_.fetch_sub(dropped, std::memory_order_relaxed);
}

}  // namespace venuecast::relay
