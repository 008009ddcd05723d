#include "ingest/rtmp_play_connection.h"

extern "C" {
#include <libavutil/error.h>
}
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>

namespace venuecast::ingest {

namespace {

constexpr std::size_t kHandshakeSize = 1536;
constexpr uint8_t kRtmpVersion = 3;
constexpr int kSliceMs = 100;

}  // namespace

RtmpPlayConnection::RtmpPlayConnection(Target target, Interrupted interrupted)
    : protocol_(std::move(target)), interruptedCb_(std::move(interrupted)), reader_(kMaxMessage), in_(kReadBlock) {}

RtmpPlayConnection::~RtmpPlayConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool RtmpPlayConnection::fail(std::string why) {
  if (error_.empty()) error_ = std::move(why);
  return false;
}

bool RtmpPlayConnection::failErrno(const std::string& what, int err) {
  if (err == ECONNRESET || err == EPIPE || err == ECONNABORTED) closedByServer_ = true;
  return fail(what + ": " + std::strerror(err));
}

// Waits until the socket is ready for `events`, in slices that ask whether to give up.
bool RtmpPlayConnection::waitFor(short events) {
  for (;;) {
    if (interruptedCb_ && interruptedCb_()) {
      interruptedSeen_ = true;
      return false;
    }
    pollfd p{fd_, events, 0};
    const int r = ::poll(&p, 1, kSliceMs);
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) return fail(std::string("poll: ") + std::strerror(errno));
  }
}

bool RtmpPlayConnection::connectTcp() {
  const auto& t = protocol_.target();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(t.port);
  if (const int r = ::getaddrinfo(t.host.c_str(), port.c_str(), &hints, &found); r != 0) {
    return fail("cannot resolve " + t.host + ": " + ::gai_strerror(r));
  }
  std::string lastError = "no address";
  for (addrinfo* a = found; a; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    fd_ = fd;
    int err = 0;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
      err = errno;
      if (err == EINPROGRESS) {
        if (!waitFor(POLLOUT)) break;
        socklen_t len = sizeof err;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      }
    }
    if (err == 0) {
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // commands are whole messages already
      ::freeaddrinfo(found);
      return true;
    }
    lastError = std::strerror(err);
    if (err == ECONNRESET || err == ECONNABORTED) closedByServer_ = true;
    ::close(fd);
    fd_ = -1;
  }
  ::freeaddrinfo(found);
  if (interruptedSeen_) return false;
  return fail("cannot connect to " + t.host + ":" + port + ": " + lastError);
}

ssize_t RtmpPlayConnection::sendPending(int fd) {
  if (!sendQueue_.inFlight()) sendQueue_.startBatch(1 << 20);
  const auto buffers = sendQueue_.pending(IOV_MAX);
  std::vector<iovec> iov(buffers.size());
  for (std::size_t i = 0; i < buffers.size(); ++i) iov[i] = {const_cast<void*>(buffers[i].data()), buffers[i].size()};
  msghdr msg{};
  msg.msg_iov = iov.data();
  msg.msg_iovlen = iov.size();
  const ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  if (n < 0) return -errno;
  if (sendQueue_.consume(static_cast<std::size_t>(n))) sendQueue_.finishBatch();
  return n;
}

bool RtmpPlayConnection::flush() {
  while (sendQueue_.hasQueued() || sendQueue_.inFlight()) {
    const ssize_t n = sendPending(fd_);
    if (n == -EAGAIN || n == -EINTR) {
      if (!waitFor(POLLOUT)) return false;
    } else if (n < 0) {
      return failErrno("write failed", static_cast<int>(-n));
    }
  }
  return true;
}

bool RtmpPlayConnection::handshake() {
  // Simple handshake: C0 = version 3; C1 = time 0, zero, 1528 random bytes. S0 S1 S2 come back together.
  std::vector<uint8_t> c0c1(1 + kHandshakeSize, 0);
  c0c1[0] = kRtmpVersion;
  std::mt19937 rng(std::random_device{}());
  for (std::size_t i = 9; i <= kHandshakeSize; ++i) c0c1[i] = static_cast<uint8_t>(rng());
  sendQueue_.push({rtmp::RtmpMediaMessage::owning(0, 0, std::move(c0c1))});
  if (!flush()) return false;
  std::vector<uint8_t> s(1 + 2 * kHandshakeSize);
  for (std::size_t have = 0; have < s.size();) {
    const ssize_t n = ::recv(fd_, s.data() + have, s.size() - have, MSG_DONTWAIT);
    if (n > 0) {
      have += static_cast<std::size_t>(n);
    } else if (n == 0) {
      closedByServer_ = true;
      return fail("server closed the connection during the RTMP handshake");
    } else if (errno == EAGAIN || errno == EINTR) {
      if (!waitFor(POLLIN)) return false;
    } else {
      return failErrno("RTMP handshake", errno);
    }
  }
  if (s[0] != kRtmpVersion) return fail("server answered the RTMP handshake with version " + std::to_string(s[0]));
  // C2 echoes S1; connect follows in the same write.
  sendQueue_.push({rtmp::RtmpMediaMessage::owning(0, 0, {s.begin() + 1, s.begin() + 1 + kHandshakeSize})});
  protocol_.start(sendQueue_);
  return flush();
}

std::string RtmpPlayConnection::open() {
  if (connectTcp() && handshake()) {
    while (!flv_.headerWritten() && pump()) {
    }
  }
  if (flv_.headerWritten()) return {};
  if (interruptedSeen_) return "interrupted during " + protocol_.phase();
  if (ended_ && error_.empty()) return "the stream ended before it started";
  return error_;
}

bool RtmpPlayConnection::pump() {
  if (ended_ || !error_.empty()) return false;
  if (!lastReadFilled_ && !waitFor(POLLIN)) return false;
  ++recvCalls_;
  const ssize_t n = ::recv(fd_, in_.data(), in_.size(), MSG_DONTWAIT);
  if (n < 0) {
    lastReadFilled_ = false;
    if (errno == EAGAIN || errno == EINTR) return true;
    return failErrno("read failed", errno);
  }
  if (n == 0) {
    // A server that closes a playing stream has lost its publisher (nginx-rtmp with idle_streams off).
    if (flv_.headerWritten()) {
      ended_ = true;
      return false;
    }
    closedByServer_ = true;
    return fail("server closed the connection during " + protocol_.phase());
  }
  lastReadFilled_ = static_cast<std::size_t>(n) == in_.size();
  // The server leaves Nagle on: acknowledge at once while connecting and probing, so its next answer (or the
  // keyframe the probe waits for) is not held back behind our delayed ACK. Phase 2 does without the syscall.
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
  messages_.clear();
  const bool ok = reader_.feed({in_.data(), static_cast<std::size_t>(n)}, messages_);
  for (const auto& m : messages_) {
    if (m.type == FlvStreamWriter::kAudio || m.type == FlvStreamWriter::kVideo ||
        m.type == FlvStreamWriter::kData || m.type == FlvStreamWriter::kAggregate) {
      flv_.add(m, flvBytes_);
      if (holding_ && (m.type == FlvStreamWriter::kAudio || m.type == FlvStreamWriter::kVideo)) held_.push_back(m);
      sawAggregate_ |= m.type == FlvStreamWriter::kAggregate;
      continue;
    }
    const auto outcome = protocol_.onMessage(m, sendQueue_);
    if (outcome.event == RtmpPlayProtocol::Event::Failed) return fail(outcome.error);
    if (outcome.event == RtmpPlayProtocol::Event::Ended) ended_ = true;  // what is buffered still goes out
  }
  if (!ok) return fail("bad RTMP data from the server: " + reader_.error());
  protocol_.onBytesReceived(static_cast<uint64_t>(n), sendQueue_);
  if (!flush()) return false;
  return !ended_;
}

int RtmpPlayConnection::read(uint8_t* buf, int size) {
  while (flvOffset_ >= flvBytes_.size()) {
    flvBytes_.clear();
    flvOffset_ = 0;
    if (flvDrained_) return AVERROR_EOF;  // the rest of the session is read on the data plane
    if (!pump() && flvBytes_.empty()) {
      if (interruptedSeen_) return AVERROR_EXIT;
      if (ended_ && error_.empty()) return AVERROR_EOF;
      return AVERROR(EIO);
    }
  }
  const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(size), flvBytes_.size() - flvOffset_);
  std::memcpy(buf, flvBytes_.data() + flvOffset_, n);
  flvOffset_ += n;
  return static_cast<int>(n);
}

int RtmpPlayConnection::readPacket(void* opaque, uint8_t* buf, int size) {
  return static_cast<RtmpPlayConnection*>(opaque)->read(buf, size);
}

// ---- phase 2: on the data plane (one thread: everything below runs in order, without locks) ------------------------------------------------------------------------------

void RtmpPlayConnection::startAsync(boost::asio::io_context& io, std::chrono::milliseconds stall, MediaHandler onMedia) {
  async_ = std::make_unique<Async>(io);
  async_->stall = stall;
  async_->onMedia = std::move(onMedia);
  async_->lastData = std::chrono::steady_clock::now();
  boost::system::error_code ec;
  async_->socket.assign(fd_, ec);
  if (ec) {
    finishAsync({AsyncEnd::Kind::Failed, "cannot hand the socket over: " + ec.message()});
    return;
  }
  fd_ = -1;  // the descriptor owns it now
  boost::asio::post(async_->executor, [self = shared_from_this()] {
    self->armStallCheck();
    self->doAsyncRead();
  });
}

// async_read_some tries the read at once (Asio's speculative read) and waits only if nothing is there.
void RtmpPlayConnection::doAsyncRead() {
  async_->socket.async_read_some(boost::asio::buffer(in_), [self = shared_from_this()](const boost::system::error_code& ec,
                                                                                       std::size_t n) {
    self->onAsyncRead(ec, n);
  });
}

void RtmpPlayConnection::onAsyncRead(const boost::system::error_code& ec, std::size_t n) {
  if (async_->done) return;
  if (ec == boost::asio::error::eof) return finishAsync({AsyncEnd::Kind::PublisherLeft, {}});
  if (ec) return finishAsync({AsyncEnd::Kind::Failed, ec.message()});
  async_->lastData = std::chrono::steady_clock::now();
  messages_.clear();
  const bool ok = reader_.feed({in_.data(), n}, messages_);
  for (auto& m : messages_) {
    if (m.type == FlvStreamWriter::kAudio || m.type == FlvStreamWriter::kVideo || m.type == FlvStreamWriter::kAggregate) {
      if (std::string error = passMedia(m); !error.empty()) return finishAsync({AsyncEnd::Kind::Failed, error});
      continue;
    }
    if (m.type == FlvStreamWriter::kData) continue;  // metadata updates: the codecs are known
    const auto outcome = protocol_.onMessage(m, sendQueue_);
    if (outcome.event == RtmpPlayProtocol::Event::Failed) return finishAsync({AsyncEnd::Kind::Failed, outcome.error});
    if (outcome.event == RtmpPlayProtocol::Event::Ended) return finishAsync({AsyncEnd::Kind::PublisherLeft, {}});
  }
  if (!ok) return finishAsync({AsyncEnd::Kind::Failed, "bad RTMP data from the server: " + reader_.error()});
  protocol_.onBytesReceived(n, sendQueue_);
  if (!flushNonBlocking()) return finishAsync({AsyncEnd::Kind::Failed, error_});
  doAsyncRead();
}

// Aggregates carry several FLV tags; each becomes a message of its own, timed from the aggregate's timestamp.
std::string RtmpPlayConnection::passMedia(rtmp::RtmpChunkReader::Message& m) {
  if (m.type != FlvStreamWriter::kAggregate) return async_->onMedia(m);
  const auto& p = m.payload;
  std::size_t at = 0;
  std::optional<uint32_t> base;
  while (at + 11 <= p.size()) {
    const uint32_t size = uint32_t{p[at + 1]} << 16 | uint32_t{p[at + 2]} << 8 | p[at + 3];
    const uint32_t ts = (uint32_t{p[at + 4]} << 16 | uint32_t{p[at + 5]} << 8 | p[at + 6]) | uint32_t{p[at + 7]} << 24;
    if (at + 11 + size > p.size()) break;
    if (!base) base = ts;
    rtmp::RtmpChunkReader::Message sub{m.chunkStreamId, m.timestamp + (ts - *base), static_cast<uint8_t>(p[at] & 0x1F),
                                       m.streamId, {p.begin() + static_cast<std::ptrdiff_t>(at + 11),
                                                    p.begin() + static_cast<std::ptrdiff_t>(at + 11 + size)}};
    if (sub.type == FlvStreamWriter::kAudio || sub.type == FlvStreamWriter::kVideo) {
      if (std::string error = async_->onMedia(sub); !error.empty()) return error;
    }
    at += 11 + size + 4;
  }
  return {};
}

// Acks and pong go out without blocking the loop; what the socket does not take waits for the next read.
bool RtmpPlayConnection::flushNonBlocking() {
  while (sendQueue_.hasQueued() || sendQueue_.inFlight()) {
    const ssize_t n = sendPending(async_->socket.native_handle());
    if (n == -EAGAIN || n == -EINTR) return true;
    if (n < 0) return failErrno("write failed", static_cast<int>(-n));
  }
  return true;
}

// One wake-up per `stall` while data flows (not a periodic tick): the timer is set for when the stall would be
// complete, and moved on by however much data came meanwhile.
void RtmpPlayConnection::armStallCheck() {
  async_->stallTimer.expires_at(async_->lastData + async_->stall);
  async_->stallTimer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->async_->done) return;
    if (std::chrono::steady_clock::now() - self->async_->lastData >= self->async_->stall) {
      return self->finishAsync({AsyncEnd::Kind::Stalled, {}});
    }
    self->armStallCheck();
  });
}

void RtmpPlayConnection::finishAsync(AsyncEnd end) {
  if (async_) {
    async_->done = true;
    async_->stallTimer.cancel();
  }
  std::lock_guard lock(mu_);
  if (!asyncEnd_) asyncEnd_ = std::move(end);
  cv_.notify_all();
}

std::optional<RtmpPlayConnection::AsyncEnd> RtmpPlayConnection::waitAsyncEnd(std::chrono::milliseconds wait) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, wait, [&] { return asyncEnd_.has_value() || wakeRequested_; });
  return asyncEnd_;
}

void RtmpPlayConnection::wakeWaiter() {
  std::lock_guard lock(mu_);
  wakeRequested_ = true;
  cv_.notify_all();
}

void RtmpPlayConnection::stopAsync() {
  if (!async_) return;
  boost::asio::post(async_->executor, [self = shared_from_this()] {
    self->async_->done = true;
    boost::system::error_code ignored;
    self->async_->stallTimer.cancel();
    self->async_->socket.close(ignored);
    std::lock_guard lock(self->mu_);
    self->asyncStopped_ = true;
    self->cv_.notify_all();
  });
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, std::chrono::seconds(2), [&] { return asyncStopped_; });
}

}  // namespace venuecast::ingest
