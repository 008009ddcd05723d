#include "relay/rtmp_publish_protocol.h"

#include <algorithm>

#include "rtmp/rtmp_bytes.h"

namespace venuecast::relay {

using M = rtmp::RtmpMessages;

namespace {

// Chunk stream ids as FFmpeg's rtmpproto uses them (control 2, connection commands 3, audio 4, video 6, stream
// commands 8); data messages get their own, 5. Every message starts with a type-0 header, so this is cosmetic.
constexpr uint32_t kCommandCsid = 3, kAudioCsid = 4, kDataCsid = 5, kVideoCsid = 6;
constexpr uint32_t kStreamCommandCsid = 8;

}  // namespace

RtmpPublishProtocol::RtmpPublishProtocol(Target target, uint32_t chunkSize, std::string flashVer)
    : target_(std::move(target)), chunkSize_(chunkSize), flashVer_(std::move(flashVer)) {}

void RtmpPublishProtocol::start(rtmp::RtmpSendQueue& out) {
  // Our chunk size first: a whole video frame per chunk saves headers (and iovecs) on every message.
  rtmp::RtmpPeerControl::control(out, M::kSetChunkSize, M::u32Body(chunkSize_), chunkSize_);
  phase_ = "connect";
  const double txn = transactions_.call("connect");
  rtmp::RtmpPeerControl::command(out, kCommandCsid, 0, M::connect(txn, target_.app, flashVer_, target_.tcUrl));
}

rtmp::RtmpSendQueue::Item RtmpPublishProtocol::media(rtmp::RtmpMediaMessage message) const {
  const uint32_t csid = message.type == rtmp::RtmpMediaMessage::kAudio   ? kAudioCsid
                        : message.type == rtmp::RtmpMediaMessage::kVideo ? kVideoCsid
                                                                   : kDataCsid;
  return {std::move(message), csid, streamId_, 0, true};
}

void RtmpPublishProtocol::queueUnpublish(rtmp::RtmpSendQueue& out) {
  double txn = transactions_.call("FCUnpublish");
  rtmp::RtmpPeerControl::command(out, kCommandCsid, 0, M::streamNameCall("FCUnpublish", txn, target_.playpath));
  txn = transactions_.call("deleteStream");
  rtmp::RtmpPeerControl::command(out, kCommandCsid, 0, M::deleteStream(txn, streamId_));
}

void RtmpPublishProtocol::onBytesReceived(uint64_t n, rtmp::RtmpSendQueue& out) { peer_.onBytesReceived(n, out); }

RtmpPublishProtocol::Outcome RtmpPublishProtocol::onMessage(const rtmp::RtmpChunkReader::Message& m, rtmp::RtmpSendQueue& out) {
  if (peer_.onMessage(m, out)) return {};
  const auto& p = m.payload;
  switch (m.type) {
    case M::kAmf0Command:
    case M::kAmf3Command:
    case M::kAmf0Data:
    case M::kAmf3Data: {
      M::Command command;
      std::string error;
      if (M::parseCommand(m.type, p, command, error)) return onCommand(command, out);
      // A broken command could be the answer we wait for; broken data (metadata echoes) is harmless.
      if (m.type == M::kAmf0Command || m.type == M::kAmf3Command) {
        return {Event::Failed, "malformed command from the server: " + error};
      }
      return {};
    }
    default:  // Set Chunk Size and Abort are applied by the chunk reader; Set Peer Bandwidth needs no answer
      return {};
  }
}

RtmpPublishProtocol::Outcome RtmpPublishProtocol::onCommand(const M::Command& c, rtmp::RtmpSendQueue& out) {
  const std::string method = transactions_.answered(c);
  if (c.name == "_error") {
    // Adobe-era calls some servers refuse; FFmpeg ignores these errors too (rtmpproto handle_invoke_error).
    if (method == "releaseStream" || method == "FCPublish" || method == "FCUnpublish") return {};
    return {Event::Failed, (method.empty() ? "" : method + " refused: ") + c.summary()};
  }
  if (c.name == "_result" && method == "connect" && !published_) {
    phase_ = "createStream";
    double txn = transactions_.call("releaseStream");
    rtmp::RtmpPeerControl::command(out, kCommandCsid, 0, M::streamNameCall("releaseStream", txn, target_.playpath));
    txn = transactions_.call("FCPublish");
    rtmp::RtmpPeerControl::command(out, kCommandCsid, 0, M::streamNameCall("FCPublish", txn, target_.playpath));
    txn = transactions_.call("createStream");
    rtmp::RtmpPeerControl::command(out, kCommandCsid, 0, M::createStream(txn));
    return {};
  }
  if (c.name == "_result" && method == "createStream" && !published_) {
    auto id = std::find_if(c.args.begin(), c.args.end(), [](const auto& v) { return v.type == rtmp::RtmpAmf0::Type::Number; });
    if (id == c.args.end() || !(id->number >= 0 && id->number <= 0xFFFFFFFF)) {
      return {Event::Failed, "createStream answered without a stream id"};
    }
    streamId_ = static_cast<uint32_t>(id->number);
    phase_ = "publish";
    const double txn = transactions_.call("publish");
    rtmp::RtmpPeerControl::command(out, kStreamCommandCsid, streamId_, M::publish(txn, target_.playpath));
    return {};
  }
  if (c.name == "onStatus") {
    if (c.level == "error") return {Event::Failed, c.summary()};
    if (c.code == "NetStream.Publish.Start" && !published_) {
      published_ = true;
      phase_ = "publishing";
      return {Event::Published, {}};
    }
  }
  return {};
}

}  // namespace venuecast::relay
