#pragma once
// A venue's RTMP feed, played by our own client and handed to libavformat's flv demuxer as an FLV byte stream
// (through a custom AVIOContext), instead of libavformat's RTMP client. That client reads each chunk header
// and body with separate recv() calls, each after a poll(): ~1,400 syscalls/s for one 6 Mbit/s feed. Here the
// socket is read in large blocks (one recv per burst of whatever has arrived) on the source's own thread, so
// demuxing, codec probing and everything downstream stay exactly as they were.
// Blocking, for the source's thread; every wait is cut into 100 ms slices that ask `interrupted`.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ingest/flv_stream_writer.h"
#include "ingest/rtmp_play_protocol.h"
#include "rtmp/rtmp_chunk_reader.h"
#include "rtmp/rtmp_send_queue.h"

namespace venuecast::ingest {

class RtmpPlayConnection {
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
  bool fail(std::string why);
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
};

}  // namespace venuecast::ingest
