#include "ingest/rtmp_server_protocol.h"

#include <algorithm>
#include <random>

#include "rtmp/rtmp_amf0.h"
#include "rtmp/rtmp_bytes.h"
#include "rtmp/rtmp_messages.h"

namespace venuecast::ingest {

using rtmp::RtmpAmf0;
using rtmp::RtmpBytes;
using rtmp::RtmpChunkReader;
using rtmp::RtmpMessages;
using rtmp::RtmpPeerControl;
using rtmp::RtmpSendQueue;
using V = RtmpAmf0::Value;

namespace {

constexpr uint8_t kRtmpVersion = 3;
constexpr uint32_t kWindowAckSize = 2'500'000;  // what nginx-rtmp and FMS announce
constexpr uint32_t kCommandCsid = 3;
constexpr uint32_t kStatusCsid = 5;
constexpr uint16_t kStreamBegin = 0;

std::vector<uint8_t> encodeAll(std::initializer_list<V> values) {
  std::vector<uint8_t> out;
  for (const auto& v : values) RtmpAmf0::encode(v, out);
  return out;
}

V info(const std::string& level, const std::string& code, const std::string& description) {
  return V::makeObject({{"level", V::makeString(level)}, {"code", V::makeString(code)},
                        {"description", V::makeString(description)}});
}

void status(RtmpSendQueue& out, const std::string& level, const std::string& code, const std::string& description) {
  RtmpPeerControl::command(out, kStatusCsid, RtmpServerProtocol::kStreamId,
                           encodeAll({V::makeString("onStatus"), V::makeNumber(0), V::makeNull(),
                                      info(level, code, description)}));
}

}  // namespace

RtmpServerProtocol::RtmpServerProtocol(std::function<Decision(const PublishRequest&)> decide,
                                       std::function<void(RtmpChunkReader::Message&)> onMedia)
    : decide_(std::move(decide)), onMedia_(std::move(onMedia)) {}

bool RtmpServerProtocol::fail(std::string why) {
  if (state_ != State::Ended) {
    state_ = State::Failed;
    error_ = std::move(why);
  }
  return false;
}

bool RtmpServerProtocol::feed(std::span<const uint8_t> bytes, RtmpSendQueue& out) {
  if (state_ == State::Ended || state_ == State::Failed) return false;
  if (state_ == State::Handshake) {
    const std::size_t want = 1 + 2 * kHandshakeSize;  // C0 C1 C2
    const std::size_t take = std::min(bytes.size(), want - handshake_.size());
    handshake_.insert(handshake_.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(take));
    bytes = bytes.subspan(take);
    if (!handshake_.empty() && handshake_[0] != kRtmpVersion) {
      return fail("not an RTMP client (first byte " + std::to_string(handshake_[0]) + ")");
    }
    if (!sentS0S1S2_ && handshake_.size() >= 1 + kHandshakeSize) {
      // S0, S1 (time 0, zero, random), S2 = C1 echoed: what a client without the digest scheme checks.
      std::vector<uint8_t> s(1 + 2 * kHandshakeSize, 0);
      s[0] = kRtmpVersion;
      std::mt19937 rng(std::random_device{}());
      for (std::size_t i = 9; i <= kHandshakeSize; ++i) s[i] = static_cast<uint8_t>(rng());
      std::copy(handshake_.begin() + 1, handshake_.begin() + 1 + kHandshakeSize, s.begin() + 1 + kHandshakeSize);
      out.push({rtmp::RtmpMediaMessage::owning(0, 0, std::move(s))});
      sentS0S1S2_ = true;
    }
    if (handshake_.size() < want) return true;
    handshake_ = {};
    state_ = State::Connected;
  }
  peer_.onBytesReceived(bytes.size(), out);
  messages_.clear();
  const bool ok = reader_.feed(bytes, messages_);
  for (auto& m : messages_) {
    if (!onMessage(m, out)) return false;
  }
  if (!ok) return fail(reader_.error());
  return true;
}

bool RtmpServerProtocol::onMessage(RtmpChunkReader::Message& m, RtmpSendQueue& out) {
  if (peer_.onMessage(m, out)) return true;
  switch (m.type) {
    case RtmpMessages::kSetChunkSize:
    case RtmpMessages::kAbort:
    case RtmpMessages::kAcknowledgement:
    case RtmpMessages::kSetPeerBandwidth:
      return true;  // the reader applied the first two; the others need nothing from us
    case RtmpMessages::kAmf0Command:
    case RtmpMessages::kAmf3Command:
      return onCommand(m, out);
    case 8:
    case 9:
    case RtmpMessages::kAmf0Data:
      if (state_ != State::Publishing) {
        if (m.type == RtmpMessages::kAmf0Data) return true;  // e.g. a stray |RtmpSampleAccess
        return fail("media before an accepted publish");
      }
      onMedia_(m);
      return true;
    default:
      if (state_ != State::Publishing) return fail("unexpected message type " + std::to_string(m.type));
      return true;  // aggregates and AMF3 data are not sent by encoders when publishing
  }
}

void RtmpServerProtocol::result(RtmpSendQueue& out, uint32_t csid, double txn, bool withStreamId) {
  std::vector<uint8_t> body = encodeAll({V::makeString("_result"), V::makeNumber(txn), V::makeNull()});
  if (withStreamId) {
    RtmpAmf0::encodeNumber(kStreamId, body);
  } else {
    body.push_back(static_cast<uint8_t>(RtmpAmf0::Type::Undefined));
  }
  RtmpPeerControl::command(out, csid, 0, std::move(body));
}

bool RtmpServerProtocol::onCommand(const RtmpChunkReader::Message& m, RtmpSendQueue& out) {
  RtmpMessages::Command c;
  std::string error;
  if (!RtmpMessages::parseCommand(m.type, m.payload, c, error)) return fail("bad command: " + error);
  const auto stringArg = [&](std::size_t i) {
    return i < c.args.size() && c.args[i].type == RtmpAmf0::Type::String ? c.args[i].string : std::string();
  };

  if (c.name == "connect") {
    if (connected_) return fail("connect sent twice");
    if (!c.args.empty()) {
      app_ = c.args[0].stringProperty("app");
      tcUrl_ = c.args[0].stringProperty("tcUrl");
    }
    connected_ = true;
    RtmpPeerControl::control(out, RtmpMessages::kWindowAckSize, RtmpMessages::u32Body(kWindowAckSize));
    auto bandwidth = RtmpMessages::u32Body(kWindowAckSize);
    bandwidth.push_back(2);  // dynamic
    RtmpPeerControl::control(out, RtmpMessages::kSetPeerBandwidth, std::move(bandwidth));
    RtmpPeerControl::control(out, RtmpMessages::kSetChunkSize, RtmpMessages::u32Body(kChunkSize), kChunkSize);
    auto connected = info("status", "NetConnection.Connect.Success", "Connection succeeded.");
    connected.properties.push_back({"objectEncoding", V::makeNumber(0)});
    RtmpPeerControl::command(out, kCommandCsid, 0,
                             encodeAll({V::makeString("_result"), V::makeNumber(c.transaction),
                                        V::makeObject({{"fmsVer", V::makeString("FMS/3,0,1,123")},
                                                       {"capabilities", V::makeNumber(31)}}),
                                        connected}));
    return true;
  }
  if (!connected_) return fail("command '" + c.name.substr(0, 32) + "' before connect");

  if (c.name == "releaseStream" || c.name == "FCPublish") {
    if (c.transaction > 0) result(out, kCommandCsid, c.transaction, false);
    return true;
  }
  if (c.name == "createStream") {
    result(out, kCommandCsid, c.transaction, true);
    return true;
  }
  if (c.name == "publish") {
    if (state_ == State::Publishing) return fail("publish sent twice");
    const Decision d = decide_({app_, tcUrl_, stringArg(1)});
    if (!d.accept) {
      status(out, "error", d.code, d.description);
      return fail("publish refused: " + d.description);
    }
    std::vector<uint8_t> begin = {0, static_cast<uint8_t>(kStreamBegin)};
    RtmpBytes::appendBe32(begin, kStreamId);
    RtmpPeerControl::control(out, RtmpMessages::kUserControl, std::move(begin));
    status(out, "status", "NetStream.Publish.Start", "Publishing.");
    reader_.setMaxMessageSize(kPublisherMessageLimit);
    state_ = State::Publishing;
    return true;
  }
  if (c.name == "FCUnpublish" || c.name == "deleteStream" || c.name == "closeStream") {
    if (state_ != State::Publishing) return true;  // some clients tidy up before they publish
    state_ = State::Ended;
    return false;
  }
  return true;  // getStreamLength, _checkbw, ...: nothing an encoder waits for
}

}  // namespace venuecast::ingest
