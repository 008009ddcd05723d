#pragma once
// A native RTMP publishing client on Asio, replacing libavformat's RTMP writer for outputs: libavformat sends
// every chunk with its own send() after a poll() (~500 sends/s per 6 Mbit/s output, notes/ffmpeg-rtmp.md §8);
// here each message is serialised once into chunk headers + views of the shared packet payload, and everything
// queued goes out in one gathered write, with never more than one write outstanding.
//
// One connection per instance. All work happens on the given io_context, which must be run by one thread (the
// data plane, or a test's loop): that thread is the implicit strand, so no strand's locking and type erasure is
// paid per packet. Every public method may be called from any thread and never blocks; from the loop's own
// thread it runs at once. Handlers run on the loop's thread.
//   asyncPublish: resolve, TCP connect, simple handshake, Set Chunk Size, connect / releaseStream / FCPublish /
//     createStream / publish, done on NetStream.Publish.Start, all bounded by Options::connectTimeout.
//   send: queues media messages; they are written in order, coalesced per write.
//   A read loop answers the server (Acknowledgement, Ping Response), tracks Set Chunk Size, and turns an
//     onStatus error (or the connection ending) into a failure, reported to the error handler.
//   close: FCUnpublish + deleteStream after what is queued, then FIN and wait for the server's, bounded by
//     Options::closeTimeout; after that the socket is simply closed.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rtmp/rtmp_chunk_reader.h"
#include "rtmp/rtmp_media_message.h"
#include "relay/rtmp_publish_protocol.h"
#include "rtmp/rtmp_send_queue.h"

namespace venuecast::relay {

class RtmpPublisher : public std::enable_shared_from_this<RtmpPublisher> {
 public:
  using Target = RtmpPublishProtocol::Target;
  struct Options {
    std::chrono::milliseconds connectTimeout{10'000};  // resolve .. NetStream.Publish.Start
    std::chrono::milliseconds closeTimeout{1'000};     // flush + FCUnpublish/deleteStream + FIN exchange
    std::chrono::milliseconds writeStall{0};           // > 0: a write without progress this long fails
    uint32_t chunkSize = 65536;                        // announced right after the handshake
    std::size_t maxIncomingMessage = rtmp::RtmpChunkReader::kDefaultMaxMessageSize;
    std::size_t maxWriteBytes = 4 << 20;  // coalesce at most this much per write (one sendmsg per 64 iovecs)
    int sendBufferBytes = 0;              // SO_SNDBUF; 0 = kernel default. Small = a stalled peer shows fast.
    // Nagle on, as nginx-rtmp and FFmpeg publish: a message written while the endpoint has not yet acknowledged the
    // last one joins the next segment instead of making one (and a wake-up of the endpoint) of its own. ~5 % less
    // CPU side by side; added latency stays at a median of ~0.3 ms, p99 below nginx-rtmp's (BENCHMARKS.md).
    bool noDelay = false;
    std::string flashVer = "FMLE/3.0 (compatible; FMSc/1.0)";
  };
  enum class State { Idle, Connecting, Live, Closing, Closed, Failed };
  // "" on success, else a human-readable reason ("NetStream.Publish.BadName: Already publishing").
  using Handler = std::function<void(const std::string& error)>;

  static std::shared_ptr<RtmpPublisher> create(boost::asio::io_context& io, Options options);
  static std::shared_ptr<RtmpPublisher> create(boost::asio::io_context& io) { return create(io, Options()); }

  // Called once, when the session fails after publishing started (not for failures asyncPublish reports, nor
  // after close()). Set it before asyncPublish.
  void setErrorHandler(Handler handler);
  // Called on the loop when a write that had to wait for the socket has finished and everything sent so far is
  // written, while Live: a producer that holds back while writePending() resumes here. (A write the socket takes
  // at once returns to the caller of send() instead.) Set it before asyncPublish.
  void setIdleHandler(std::function<void()> handler);
  // The loop everything runs on: a producer that posts here may call send() without a hop.
  using Executor = boost::asio::io_context::executor_type;
  const Executor& executor() const { return executor_; }
  void asyncPublish(Target target, Handler handler);
  // send() for a producer already running on the loop's thread: takes the messages out of `messages` and leaves
  // it empty with its capacity, so a producer can reuse one vector for every packet.
  void sendOnLoop(std::vector<rtmp::RtmpMediaMessage>& messages);
  // Queues media (type 8/9/18, on message stream id of the publish). Before Live it is held until publishing
  // starts; after a failure or close it is dropped.
  void send(std::vector<rtmp::RtmpMediaMessage> messages);
  void send(rtmp::RtmpMediaMessage message) {
    std::vector<rtmp::RtmpMediaMessage> one;
    one.push_back(std::move(message));
    send(std::move(one));
  }
  // Graceful close (see above). `handler` (optional) runs once the socket is closed: "" after a clean FIN
  // exchange, else what went wrong (timeout, reset). Before Live it just closes (asyncPublish then fails).
  void close(Handler handler = {});

  // Readable from any thread.
  State state() const { return state_.load(std::memory_order_relaxed); }
  uint64_t bytesWritten() const { return bytesWritten_.load(std::memory_order_relaxed); }  // incl. headers
  uint64_t messagesWritten() const { return messagesWritten_.load(std::memory_order_relaxed); }  // media only
  uint64_t writeBatches() const { return writeBatches_.load(std::memory_order_relaxed); }  // gathered writes
  uint64_t sendCalls() const { return sendCalls_.load(std::memory_order_relaxed); }  // sendmsg calls made
  std::size_t queuedBytes() const { return queuedBytes_.load(std::memory_order_relaxed); }  // sent, not written
  bool writePending() const { return writeProgressNs_.load(std::memory_order_relaxed) != 0; }
  // While a write is outstanding: when it last made progress (for a stall watchdog); nullopt otherwise.
  std::optional<std::chrono::steady_clock::time_point> writeProgressAt() const {
    const int64_t ns = writeProgressNs_.load(std::memory_order_relaxed);
    if (ns == 0) return std::nullopt;
    return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(ns));
  }

 private:
  RtmpPublisher(boost::asio::io_context& io, Options options);
  void doConnect(const boost::asio::ip::tcp::resolver::results_type& endpoints);
  void onConnect(const boost::system::error_code& ec);
  void onHandshake(const boost::system::error_code& ec);
  void doRead();
  void onRead(const boost::system::error_code& ec, std::size_t n);
  void enqueue(std::vector<rtmp::RtmpMediaMessage>& messages);  // moves the elements out
  void doWrite();
  void writeSome();
  void onWrite(const boost::system::error_code& ec, std::size_t n);
  void beginClose(Handler handler);
  void armDeadline(std::chrono::milliseconds after, std::string what);
  void armStallCheck();
  void finishClose(const std::string& error);
  void fail(const std::string& error);
  void hardClose();
  void setState(State s) { state_.store(s, std::memory_order_relaxed); }

  Options options_;
  using Timer = boost::asio::basic_waitable_timer<std::chrono::steady_clock,
                                                 boost::asio::wait_traits<std::chrono::steady_clock>, Executor>;
  Executor executor_;
  boost::asio::ip::basic_resolver<boost::asio::ip::tcp, Executor> resolver_;
  boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor> socket_;
  Timer deadline_;
  Timer stallTimer_;
  uint64_t deadlineGeneration_ = 0;  // a fired timer whose handler was already queued must not act
  std::optional<RtmpPublishProtocol> protocol_;
  Handler publishHandler_, errorHandler_, closeHandler_;
  std::function<void()> idleHandler_;
  std::string phase_;  // before the protocol runs: what the connect deadline interrupts

  std::vector<uint8_t> handshake_;
  std::vector<uint8_t> readBuffer_;
  rtmp::RtmpChunkReader reader_;
  std::vector<rtmp::RtmpChunkReader::Message> incoming_;

  rtmp::RtmpSendQueue sendQueue_;
  std::vector<rtmp::RtmpMediaMessage> held_;  // media sent before publishing started
  rtmp::RtmpSendQueue::Batch batch_;          // the write in flight
  bool shutdownSent_ = false;
  bool idleOwed_ = false;  // a write had to wait for the socket since the idle handler last ran
  bool stallArmed_ = false;  // the stall timer is set (only while a write waits)

  std::atomic<State> state_{State::Idle};
  std::atomic<uint64_t> bytesWritten_{0}, messagesWritten_{0}, writeBatches_{0}, sendCalls_{0};
  std::atomic<std::size_t> queuedBytes_{0};
  std::atomic<int64_t> writeProgressNs_{0};  // steady_clock ns of the last progress; 0 = no write waits for the socket
};

}  // namespace venuecast::relay
