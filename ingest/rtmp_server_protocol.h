#pragma once
// The server side of an RTMP publish, without I/O: what venuecast says to an encoder (OBS, FFmpeg, a hardware
// box) that connects to its listener. Bytes in, replies into a send queue, and the few events the owner acts on:
//   handshake (simple: S1 random, S2 echoes C1, as nginx-rtmp does for clients that send no digest);
//   connect -> Window Ack Size, Set Peer Bandwidth, Set Chunk Size, _result NetConnection.Connect.Success;
//   releaseStream / FCPublish / createStream -> _result (stream id 1);
//   publish(name) -> the owner decides (venue, key, already live) -> onStatus NetStream.Publish.Start, or an
//                    error status after which the connection is to be closed;
//   audio / video / onMetaData after an accepted publish -> media for the owner;
//   FCUnpublish / deleteStream / closeStream -> the publisher ended.
// Until a publish is accepted the peer is a stranger: messages are capped at kStrangerMessageLimit and anything
// but commands and protocol control ends the connection.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "rtmp/rtmp_chunk_reader.h"
#include "rtmp/rtmp_peer_control.h"
#include "rtmp/rtmp_send_queue.h"

namespace venuecast::ingest {

class RtmpServerProtocol {
 public:
  static constexpr std::size_t kHandshakeSize = 1536;
  static constexpr std::size_t kStrangerMessageLimit = 64 * 1024;
  static constexpr std::size_t kPublisherMessageLimit = 16 << 20;  // a 4K keyframe at a high bit rate fits
  static constexpr uint32_t kChunkSize = 4096;
  static constexpr uint32_t kStreamId = 1;

  struct PublishRequest {
    std::string app;         // from connect, e.g. "venue"
    std::string tcUrl;       // from connect
    std::string streamName;  // as sent: "<venue-id>?key=<secret>" (secret: never log it)
  };
  struct Decision {
    bool accept = false;
    std::string code;         // refused: NetStream.Publish.BadName, NetStream.Publish.Denied, ...
    std::string description;  // refused: shown to the publisher (never holds the key)
  };
  enum class State { Handshake, Connected, Publishing, Ended, Failed };

  // `decide` is asked once per publish; `onMedia` gets audio (8), video (9) and data (18) messages once
  // publishing, and may take their payload.
  RtmpServerProtocol(std::function<Decision(const PublishRequest&)> decide,
                     std::function<void(rtmp::RtmpChunkReader::Message&)> onMedia);

  // Processes received bytes, queueing replies into `out`. Returns false once the connection should close:
  // state() then says whether the publisher ended (Ended) or something went wrong (Failed, see error()).
  bool feed(std::span<const uint8_t> bytes, rtmp::RtmpSendQueue& out);

  State state() const { return state_; }
  const std::string& error() const { return error_; }
  bool publishing() const { return state_ == State::Publishing; }

 private:
  bool fail(std::string why);
  bool onMessage(rtmp::RtmpChunkReader::Message& m, rtmp::RtmpSendQueue& out);
  bool onCommand(const rtmp::RtmpChunkReader::Message& m, rtmp::RtmpSendQueue& out);
  void result(rtmp::RtmpSendQueue& out, uint32_t csid, double txn, bool withStreamId);

  std::function<Decision(const PublishRequest&)> decide_;
  std::function<void(rtmp::RtmpChunkReader::Message&)> onMedia_;
  State state_ = State::Handshake;
  std::string error_;
  std::vector<uint8_t> handshake_;  // C0 C1 (then C2) as they arrive
  bool sentS0S1S2_ = false;
  rtmp::RtmpChunkReader reader_{kStrangerMessageLimit};
  rtmp::RtmpPeerControl peer_;
  std::vector<rtmp::RtmpChunkReader::Message> messages_;
  std::string app_, tcUrl_;
  bool connected_ = false;
};

}  // namespace venuecast::ingest
