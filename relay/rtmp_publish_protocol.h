#pragma once
// The message exchange of an RTMP publisher after the handshake, without any I/O: what to send, how to read
// the server's answers, when publishing has started or failed. RtmpPublisher feeds it the server's messages
// and writes what it queues; tests drive it directly.
//   start():   Set Chunk Size, connect(app, type "nonprivate", flashVer, tcUrl)
//   connect _result -> releaseStream, FCPublish, createStream (as FFmpeg and OBS do)
//   createStream _result -> publish(playpath, "live") on the new message stream
//   onStatus NetStream.Publish.Start -> Published; onStatus level "error" or an _error -> Failed
//   Window Acknowledgement Size -> Acknowledgement every window; Ping Request -> Ping Response
#include <cstdint>
#include <map>
#include <string>

#include "rtmp/rtmp_chunk_reader.h"
#include "rtmp/rtmp_messages.h"
#include "rtmp/rtmp_peer_control.h"
#include "rtmp/rtmp_send_queue.h"
#include "rtmp/rtmp_transactions.h"

namespace venuecast::relay {

class RtmpPublishProtocol {
 public:
  struct Target {
    std::string host;  // name or numeric address
    uint16_t port = 1935;
    std::string app;       // connect's "app", e.g. "live-bvc"
    std::string tcUrl;     // connect's "tcUrl", e.g. "rtmp://host:1935/live-bvc"
    std::string playpath;  // the publish name, verbatim (a Bilibili key is "?streamname=...&key=...")
  };
  enum class Event { None, Published, Failed };
  struct Outcome {
    Event event = Event::None;
    std::string error;  // for Failed: "NetStream.Publish.BadName: Already publishing"
  };

  RtmpPublishProtocol(Target target, uint32_t chunkSize, std::string flashVer);

  void start(rtmp::RtmpSendQueue& out);
  // One complete message from the server; may queue answers into `out`.
  Outcome onMessage(const rtmp::RtmpChunkReader::Message& m, rtmp::RtmpSendQueue& out);
  // Count received bytes (everything after the handshake) and queue an Acknowledgement when due.
  void onBytesReceived(uint64_t n, rtmp::RtmpSendQueue& out);
  // FCUnpublish + deleteStream, for a graceful end.
  void queueUnpublish(rtmp::RtmpSendQueue& out);
  // A media message on the publish stream, with FFmpeg's chunk stream per kind.
  rtmp::RtmpSendQueue::Item media(rtmp::RtmpMediaMessage message) const;

  const Target& target() const { return target_; }
  bool published() const { return published_; }
  uint32_t streamId() const { return streamId_; }
  const std::string& phase() const { return phase_; }  // where the exchange is, for timeout messages
  uint32_t ackWindow() const { return peer_.ackWindow(); }

 private:
  Outcome onCommand(const rtmp::RtmpMessages::Command& c, rtmp::RtmpSendQueue& out);

  Target target_;
  uint32_t chunkSize_;
  std::string flashVer_;
  std::string phase_ = "handshake";
  rtmp::RtmpTransactions transactions_;
  uint32_t streamId_ = 0;
  bool published_ = false;
  rtmp::RtmpPeerControl peer_;
};

}  // namespace venuecast::relay
