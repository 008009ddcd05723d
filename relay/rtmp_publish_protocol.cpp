#include "relay/rtmp_publish_protocol.h"

#include <algorithm>

#include "rtmp/rtmp_bytes.h"

namespace venuecast::relay {

using M = rtmp::RtmpMessages;

namespace {

// Chunk stream ids as FFmpeg's rtmpproto uses them (control 2, connection commands 3, audio 4, video 6, stream
// commands 8); data messages get their own, 5. Every message starts with a type-0 header, so this is cosmetic.
constexpr uint32_t kControlCsid = 2, kCommandCsid = 3, kAudioCsid = 4, kDataCsid = 5, kVideoCsid = 6;
constexpr uint32_t kStreamCommandCsid = 8;

}  // namespace

RtmpPublishProtocol::RtmpPublishProtocol(Target target, uint32_t chunkSize, std::string flashVer)
    : target_(std::move(target)), chunkSize_(chunkSize), flashVer_(std::move(flashVer)) {}

double RtmpPublishProtocol::transaction(const char* method) {
  const double txn = nextTransaction_++;
  pendingCalls_[txn] = method;
  return txn;
}

void RtmpPublishProtocol::command(rtmp::RtmpSendQueue& out, uint32_t csid, uint32_t streamId, std::vector<uint8_t> body) {
  out.push({rtmp::RtmpMediaMessage::owning(M::kAmf0Command, 0, std::move(body)), csid, streamId, 0, false});
}

void RtmpPublishProtocol::control(rtmp::RtmpSendQueue& out, uint8_t type, std::vector<uint8_t> body, uint32_t newChunkSize) {
  out.push({rtmp::RtmpMediaMessage::owning(type, 0, std::move(body)), kControlCsid, 0, newChunkSize, false});
}

void RtmpPublishProtocol::start(rtmp::RtmpSendQueue& out) {
  // Our chunk size first: a whole video frame per chunk saves headers (and iovecs) on every message.
  control(out, M::kSetChunkSize, M::u32Body(chunkSize_), chunkSize_);
  phase_ = "connect";
  const double txn = transaction("connect");
  command(out, kCommandCsid, 0, M::connect(txn, target_.app, flashVer_, target_.tcUrl));
}

rtmp::RtmpSendQueue::Item RtmpPublishProtocol::media(rtmp::RtmpMediaMessage message) const {
  const uint32_t csid = message.type == rtmp::RtmpMediaMessage::kAudio   ? kAudioCsid
                        : message.type == rtmp::RtmpMediaMessage::kVideo ? kVideoCsid
                                                                   : kDataCsid;
  return {std::move(message), csid, streamId_, 0, true};
}

void RtmpPublishProtocol::queueUnpublish(rtmp::RtmpSendQueue& out) {
  double txn = transaction("FCUnpublish");
  command(out, kCommandCsid, 0, M::streamNameCall("FCUnpublish", txn, target_.playpath));
  txn = transaction("deleteStream");
  command(out, kCommandCsid, 0, M::deleteStream(txn, streamId_));
}

void RtmpPublishProtocol::onBytesReceived(uint64_t n, rtmp::RtmpSendQueue& out) {
  bytesReceived_ += n;
  // Acknowledge each window's worth (RTMP spec 5.4.3); a server may stop sending to a peer that does not.
  if (ackWindow_ > 0 && bytesReceived_ - lastAckAt_ >= ackWindow_) {
    lastAckAt_ = bytesReceived_;
    control(out, M::kAcknowledgement, M::u32Body(static_cast<uint32_t>(bytesReceived_)));
  }
}

RtmpPublishProtocol::Outcome RtmpPublishProtocol::onMessage(const rtmp::RtmpChunkReader::Message& m, rtmp::RtmpSendQueue& out) {
  const auto& p = m.payload;
  switch (m.type) {
    case M::kWindowAckSize:
      if (p.size() >= 4) ackWindow_ = rtmp::RtmpBytes::be32(p.data());
      return {};
    case M::kUserControl:
      if (p.size() >= 6 && p[0] == 0 && p[1] == M::kPingRequest) {
        control(out, M::kUserControl, M::pingResponse(rtmp::RtmpBytes::be32(p.data() + 2)));
      }
      return {};
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
  std::string method;
  if (c.name == "_result" || c.name == "_error") {
    if (auto it = pendingCalls_.find(c.transaction); it != pendingCalls_.end()) {
      method = it->second;
      pendingCalls_.erase(it);
    }
  }
  if (c.name == "_error") {
    // Adobe-era calls some servers refuse; FFmpeg ignores these errors too (rtmpproto handle_invoke_error).
    if (method == "releaseStream" || method == "FCPublish" || method == "FCUnpublish") return {};
    return {Event::Failed, (method.empty() ? "" : method + " refused: ") + c.summary()};
  }
  if (c.name == "_result" && method == "connect" && !published_) {
    phase_ = "createStream";
    double txn = transaction("releaseStream");
    command(out, kCommandCsid, 0, M::streamNameCall("releaseStream", txn, target_.playpath));
    txn = transaction("FCPublish");
    command(out, kCommandCsid, 0, M::streamNameCall("FCPublish", txn, target_.playpath));
    txn = transaction("createStream");
    command(out, kCommandCsid, 0, M::createStream(txn));
    return {};
  }
  if (c.name == "_result" && method == "createStream" && !published_) {
    auto id = std::find_if(c.args.begin(), c.args.end(), [](const auto& v) { return v.type == rtmp::RtmpAmf0::Type::Number; });
    if (id == c.args.end() || !(id->number >= 0 && id->number <= 0xFFFFFFFF)) {
      return {Event::Failed, "createStream answered without a stream id"};
    }
    streamId_ = static_cast<uint32_t>(id->number);
    phase_ = "publish";
    const double txn = transaction("publish");
    command(out, kStreamCommandCsid, streamId_, M::publish(txn, target_.playpath));
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
