#include "ingest/rtmp_play_protocol.h"

#include <algorithm>

namespace venuecast::ingest {

using M = rtmp::RtmpMessages;
using rtmp::RtmpPeerControl;

namespace {
// rtmpproto's chunk streams: connection commands 3, stream commands (play) 8.
constexpr uint32_t kCommandCsid = 3, kStreamCommandCsid = 8;
constexpr uint32_t kWindowAckSize = 2'500'000;  // what rtmpproto announces
constexpr uint32_t kBufferMs = 3'000;           // rtmpproto's rtmp_buffer default
}  // namespace

RtmpPlayProtocol::RtmpPlayProtocol(Target target, std::string flashVer)
    : target_(std::move(target)), flashVer_(std::move(flashVer)) {}

void RtmpPlayProtocol::start(rtmp::RtmpSendQueue& out) {
  phase_ = "connect";
  RtmpPeerControl::command(out, kCommandCsid, 0, M::connectPlayer(transactions_.call("connect"), target_.app, flashVer_, target_.tcUrl));
}

RtmpPlayProtocol::Outcome RtmpPlayProtocol::onMessage(const rtmp::RtmpChunkReader::Message& m, rtmp::RtmpSendQueue& out) {
  if (peer_.onMessage(m, out)) return {};
  if (m.type != M::kAmf0Command && m.type != M::kAmf3Command) return {};
  M::Command command;
  std::string error;
  if (!M::parseCommand(m.type, m.payload, command, error)) return {Event::Failed, "malformed command from the server: " + error};
  return onCommand(command, out);
}

RtmpPlayProtocol::Outcome RtmpPlayProtocol::onCommand(const M::Command& c, rtmp::RtmpSendQueue& out) {
  const std::string method = transactions_.answered(c);
  if (c.name == "_error") {
    if (method == "FCSubscribe") return {};  // optional; many servers do not know it
    return {Event::Failed, (method.empty() ? "" : method + " refused: ") + c.summary()};
  }
  if (c.name == "_result" && method == "connect") {
    phase_ = "createStream";
    RtmpPeerControl::control(out, M::kWindowAckSize, M::u32Body(kWindowAckSize));
    RtmpPeerControl::command(out, kCommandCsid, 0, M::createStream(transactions_.call("createStream")));
    RtmpPeerControl::command(out, kCommandCsid, 0,
                             M::streamNameCall("FCSubscribe", transactions_.call("FCSubscribe"), target_.playpath));
    return {};
  }
  if (c.name == "_result" && method == "createStream") {
    auto id = std::find_if(c.args.begin(), c.args.end(), [](const auto& v) { return v.type == rtmp::RtmpAmf0::Type::Number; });
    if (id == c.args.end() || !(id->number >= 0 && id->number <= 0xFFFFFFFF)) {
      return {Event::Failed, "createStream answered without a stream id"};
    }
    streamId_ = static_cast<uint32_t>(id->number);
    phase_ = "play";
    RtmpPeerControl::command(out, kStreamCommandCsid, streamId_, M::play(transactions_.call("play"), target_.playpath));
    RtmpPeerControl::control(out, M::kUserControl, M::setBufferLength(streamId_, kBufferMs));
    return {};
  }
  if (c.name == "onStatus") {
    if (c.level == "error") return {Event::Failed, c.summary()};
    if (c.code == "NetStream.Play.Start") phase_ = "playing";
    if (c.code == "NetStream.Play.UnpublishNotify" || c.code == "NetStream.Play.Stop" ||
        c.code == "NetStream.Play.Complete") {
      return {Event::Ended, c.code};
    }
  }
  return {};
}

}  // namespace venuecast::ingest
