#include "ingest/rtmp_server_connection.h"

#include <boost/asio/post.hpp>

namespace venuecast::ingest {

using boost::system::error_code;
using Clock = std::chrono::steady_clock;

namespace {
constexpr std::size_t kReadBlock = 64 * 1024;
constexpr std::size_t kBatchBytes = 64 * 1024;
constexpr std::size_t kBuffersPerWrite = 64;
constexpr std::chrono::milliseconds kTick{500};

std::string seconds(std::chrono::milliseconds d) { return std::to_string(d.count() / 1000.0).substr(0, 4) + " s"; }
}  // namespace

std::shared_ptr<RtmpServerConnection> RtmpServerConnection::create(Socket socket, Limits limits, Decider decide,
                                                                   ClosedHandler onClosed) {
  return std::shared_ptr<RtmpServerConnection>(
      new RtmpServerConnection(std::move(socket), limits, std::move(decide), std::move(onClosed)));
}

RtmpServerConnection::RtmpServerConnection(Socket socket, Limits limits, Decider decide, ClosedHandler onClosed)
    : socket_(std::move(socket)),
      limits_(limits),
      decide_(std::move(decide)),
      onClosed_(std::move(onClosed)),
      protocol_([this](const RtmpServerProtocol::PublishRequest& r) { return decide_(r, shared_from_this()); },
                [this](rtmp::RtmpChunkReader::Message& m) {
                  if (onMedia_) onMedia_(m);
                }),
      timer_(socket_.get_executor()),
      in_(kReadBlock) {
  error_code ec;
  const auto remote = socket_.remote_endpoint(ec);
  peer_ = ec ? std::string("?") : remote.address().to_string() + ":" + std::to_string(remote.port());
  socket_.non_blocking(true, ec);
  socket_.set_option(boost::asio::ip::tcp::no_delay(true), ec);
  acceptedAt_ = lastData_ = Clock::now();
}

void RtmpServerConnection::start() {
  boost::asio::post(socket_.get_executor(), [self = shared_from_this()] {
    self->armTimer();
    self->doRead();
  });
}

void RtmpServerConnection::attach(MediaHandler onMedia, EndHandler onEnd) {
  onMedia_ = std::move(onMedia);
  onEnd_ = std::move(onEnd);
}

void RtmpServerConnection::close(std::string why) {
  boost::asio::post(socket_.get_executor(), [self = shared_from_this(), why = std::move(why)]() mutable {
    self->finish({false, std::move(why)});
  });
}

void RtmpServerConnection::doRead() {
  socket_.async_read_some(boost::asio::buffer(in_), [self = shared_from_this()](const error_code& ec, std::size_t n) {
    self->onRead(ec, n);
  });
}

void RtmpServerConnection::onRead(const error_code& ec, std::size_t n) {
  if (done_) return;
  if (ec == boost::asio::error::eof) return finish({true, {}});
  if (ec) return finish({false, ec.message()});
  lastData_ = Clock::now();
  const bool ok = protocol_.feed({in_.data(), n}, sendQueue_);
  if (!flush()) return finish({false, "write failed"});
  if (!ok) {
    if (protocol_.state() == RtmpServerProtocol::State::Ended) return finish({true, {}});
    // A refusal's error status is queued: it goes out before the close (written at once unless the peer
    // stopped reading, in which case it does not matter).
    return finish({false, protocol_.error()});
  }
  doRead();
}

bool RtmpServerConnection::flush() {
  while (sendQueue_.hasQueued() || sendQueue_.inFlight()) {
    if (!sendQueue_.inFlight()) sendQueue_.startBatch(kBatchBytes);
    error_code ec;
    const std::size_t n = socket_.write_some(sendQueue_.pending(kBuffersPerWrite), ec);
    if (ec == boost::asio::error::would_block || ec == boost::asio::error::try_again) {
      waitWritable();
      return true;
    }
    if (ec) return false;
    if (sendQueue_.consume(n)) sendQueue_.finishBatch();
  }
  return true;
}

void RtmpServerConnection::waitWritable() {
  if (writeWaiting_) return;
  writeWaiting_ = true;
  socket_.async_wait(Socket::wait_write, [self = shared_from_this()](const error_code& ec) {
    self->writeWaiting_ = false;
    if (self->done_ || ec) return;
    if (!self->flush()) self->finish({false, "write failed"});
  });
}

// While publishing, one wake-up per read_stall (set for when the stall would be complete, moved on by the data that
// came meanwhile) rather than a tick: a venue's connection lives all day. Before publishing, the tick.
void RtmpServerConnection::armTimer() {
  if (protocol_.publishing()) {
    timer_.expires_at(lastData_ + limits_.readStall);
  } else {
    timer_.expires_after(kTick);
  }
  timer_.async_wait([self = shared_from_this()](const error_code& ec) {
    if (ec || self->done_) return;
    const auto now = Clock::now();
    if (!self->protocol_.publishing() && now - self->acceptedAt_ >= self->limits_.publishDeadline) {
      return self->finish({false, "did not publish within " + seconds(self->limits_.publishDeadline)});
    }
    if (self->protocol_.publishing() && now - self->lastData_ >= self->limits_.readStall) {
      return self->finish({false, "no data for " + seconds(self->limits_.readStall) + " (publisher gone?)"});
    }
    self->armTimer();
  });
}

void RtmpServerConnection::finish(End end) {
  if (done_) return;
  done_ = true;
  error_code ignored;
  timer_.cancel();
  socket_.shutdown(Socket::shutdown_send, ignored);
  socket_.close(ignored);
  onMedia_ = nullptr;
  if (auto onEnd = std::exchange(onEnd_, nullptr)) onEnd(end);
  if (auto onClosed = std::exchange(onClosed_, nullptr)) onClosed(*this, end);
}

}  // namespace venuecast::ingest
