#pragma once
// A venue's RTMP feed, played by our own client instead of libavformat's (which reads each chunk header and
// body with separate recv() calls, each after a poll(): ~1,400 syscalls/s for one 6 Mbit/s feed). Two phases:
//  1. blocking, on the source's thread (every wait cut into 100 ms slices that ask `interrupted`): connect,
//     play, and hand libavformat's flv demuxer an FLV byte stream (custom AVIOContext) to probe the codecs;
//  2. once the codecs are known (startAsync): the socket moves to the data plane and every message is passed on
//     as it arrives, read in large blocks, with no thread in between.
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ingest/flv_stream_writer.h"
#include "ingest/rtmp_play_protocol.h"
#include "rtmp/rtmp_chunk_reader.h"
#include "rtmp/rtmp_send_queue.h"

namespace venuecast::ingest {

class RtmpPlayConnection : public std::enable_shared_from_this<RtmpPlayConnection> {
 public:
  using Target = RtmpPlayProtocol::Target;
  using Interrupted = std::function<bool()>;
  static constexpr std::size_t kMaxMessage = 16 << 20;  // a keyframe of a high-bitrate 4K feed fits
  static constexpr std::size_t kReadBlock = 64 << 10;

  RtmpPlayConnection(Target target, Interrupted interrupted);
  ~RtmpPlayConnection();
  RtmpPlayConnection(const RtmpPlayConnection&) = delete;
  RtmpPlayConnection& operator=(const RtmpPlayConnection&) = delete;

  // TCP connect, handshake, connect / createStream / play, then (as rtmpproto's open) until the first audio or
  // video message or onMetaData, so the FLV header can say which streams there are. "" or why not.
  std::string open();
  // The next FLV bytes into buf: > 0 bytes; AVERROR_EOF when the publisher left (UnpublishNotify or the
  // server closed a playing stream); AVERROR_EXIT when interrupted; AVERROR(EIO) on errors (see error()).
  int read(uint8_t* buf, int size);
  // For avio_alloc_context: opaque = RtmpPlayConnection*.
  static int readPacket(void* opaque, uint8_t* buf, int size);

  // Between the phases: the audio/video messages read so far (from open() on), for a probe of our own, and
  // reading more of them. Aggregates are not kept: sawAggregate() then says a probe must leave it to libavformat.
  std::vector<rtmp::RtmpChunkReader::Message> takeHeldMedia() { return std::exchange(held_, {}); }
  bool readMore() { return pump(); }
  void stopHolding() { holding_ = false; held_.clear(); }
  bool sawAggregate() const { return sawAggregate_; }
  const FlvStreamWriter& flv() const { return flv_; }

  // Phase 2. Stops feeding libavformat: read() hands out what is already buffered, then AVERROR_EOF.
  void endFlvStream() { flvDrained_ = true; }
  // Phase 2 without libavformat: the FLV bytes kept for it are not needed.
  void discardFlvStream() {
    flvDrained_ = true;
    std::vector<uint8_t>().swap(flvBytes_);
    flvOffset_ = 0;
  }
  bool ended() const { return ended_; }  // the server said the stream ended (phase 1)

  struct AsyncEnd {
    enum class Kind { PublisherLeft, Stalled, Failed } kind = Kind::Failed;
    std::string error;
  };
  // Gets each audio/video message (aggregates unpacked) on the data plane, and may take its payload; a non-empty
  // return ends the session.
  using MediaHandler = std::function<std::string(rtmp::RtmpChunkReader::Message&)>;
  // Continues on `io` once libavformat has let go: reads asynchronously, answers the server, and ends on
  // UnpublishNotify or a close, a read error, an error from onMedia, or `stall` without any data.
  void startAsync(boost::asio::io_context& io, std::chrono::milliseconds stall, MediaHandler onMedia);
  std::optional<AsyncEnd> waitAsyncEnd(std::chrono::milliseconds wait);
  // Makes waitAsyncEnd return now (e.g. a stop was requested); any thread.
  void wakeWaiter();
  // Ends the async phase (if still running); returns once none of its handlers can call onMedia any more.
  void stopAsync();

  const std::string& error() const { return error_; }
  // The server hung up (reset, broken pipe, or EOF before playing): the errors differ with timing alone.
  bool closedByServer() const { return closedByServer_; }
  bool interrupted() const { return interruptedSeen_; }
  uint64_t recvCalls() const { return recvCalls_; }

 private:
  bool connectTcp();
  bool handshake();
  bool pump();  // one read from the socket, processed; false once ended, failed or interrupted
  bool waitFor(short events);
  bool flush();
  // One sendmsg of what the send queue holds (starting a batch if none is in flight): bytes written, or -errno.
  ssize_t sendPending(int fd);
  bool fail(std::string why);
  void doAsyncRead();
  void onAsyncRead(const boost::system::error_code& ec, std::size_t n);
  void armStallCheck();
  void finishAsync(AsyncEnd end);
  bool flushNonBlocking();
  std::string passMedia(rtmp::RtmpChunkReader::Message& m);
  bool failErrno(const std::string& what, int err);

  RtmpPlayProtocol protocol_;
  Interrupted interruptedCb_;
  int fd_ = -1;
  rtmp::RtmpChunkReader reader_;
  rtmp::RtmpSendQueue sendQueue_;
  FlvStreamWriter flv_;
  std::vector<uint8_t> in_;
  std::vector<rtmp::RtmpChunkReader::Message> messages_;
  std::vector<uint8_t> flvBytes_;
  std::size_t flvOffset_ = 0;
  bool lastReadFilled_ = false;  // the last recv filled the block: more is likely waiting, skip the poll
  bool ended_ = false;
  bool interruptedSeen_ = false;
  bool closedByServer_ = false;
  std::string error_;
  uint64_t recvCalls_ = 0;
  bool flvDrained_ = false;
  bool holding_ = true;
  bool sawAggregate_ = false;
  std::vector<rtmp::RtmpChunkReader::Message> held_;

  // On the data plane, which one thread runs (its implicit strand): no strand, no type-erased executor.
  struct Async {
    using Executor = boost::asio::io_context::executor_type;
    explicit Async(boost::asio::io_context& io) : executor(io.get_executor()), socket(executor), stallTimer(executor) {}
    Executor executor;
    boost::asio::posix::basic_stream_descriptor<Executor> socket;
    boost::asio::basic_waitable_timer<std::chrono::steady_clock, boost::asio::wait_traits<std::chrono::steady_clock>,
                                      Executor>
        stallTimer;
    std::chrono::milliseconds stall{0};
    MediaHandler onMedia;
    std::chrono::steady_clock::time_point lastData;
    bool done = false;  // loop only: no more callbacks
  };
  std::unique_ptr<Async> async_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<AsyncEnd> asyncEnd_;
  bool asyncStopped_ = false;
  bool wakeRequested_ = false;
};

}  // namespace venuecast::ingest
