#pragma once
// The message exchange of an RTMP player after the handshake, without any I/O, in the order FFmpeg's rtmpproto
// plays a live stream: connect -> Window Acknowledgement Size, createStream, FCSubscribe -> play(name, -1000)
// and Set Buffer Length on the new stream. An onStatus error (NetStream.Play.StreamNotFound, ...) or an _error
// fails; NetStream.Play.UnpublishNotify / Stop / Complete end the stream. Acks and pings are answered.
// Media messages are not its business: the caller turns them into FLV (FlvStreamWriter).
#include <cstdint>
#include <map>
#include <string>

#include "rtmp/rtmp_chunk_reader.h"
#include "rtmp/rtmp_messages.h"
#include "rtmp/rtmp_peer_control.h"
#include "rtmp/rtmp_send_queue.h"
#include "rtmp/rtmp_transactions.h"

namespace venuecast::ingest {

class RtmpPlayProtocol {
 public:
  struct Target {
    std::string host;
    uint16_t port = 1935;
    std::string app;
    std::string tcUrl;
    std::string playpath;  // the stream name, verbatim (may carry ?token=...)
  };
  enum class Event { None, Failed, Ended };
  struct Outcome {
    Event event = Event::None;
    std::string error;  // Failed: "NetStream.Play.StreamNotFound: ..."; Ended: the status code
  };

  explicit RtmpPlayProtocol(Target target, std::string flashVer = "LNX 9,0,124,2");

  void start(rtmp::RtmpSendQueue& out);
  // A non-media message from the server; may queue answers into `out`.
  Outcome onMessage(const rtmp::RtmpChunkReader::Message& m, rtmp::RtmpSendQueue& out);
  void onBytesReceived(uint64_t n, rtmp::RtmpSendQueue& out) { peer_.onBytesReceived(n, out); }

  const Target& target() const { return target_; }
  const std::string& phase() const { return phase_; }  // where the exchange is, for timeout messages
  uint32_t streamId() const { return streamId_; }

 private:
  Outcome onCommand(const rtmp::RtmpMessages::Command& c, rtmp::RtmpSendQueue& out);

  Target target_;
  std::string flashVer_;
  std::string phase_ = "handshake";
  rtmp::RtmpTransactions transactions_;
  uint32_t streamId_ = 0;
  rtmp::RtmpPeerControl peer_;
};

}  // namespace venuecast::ingest
