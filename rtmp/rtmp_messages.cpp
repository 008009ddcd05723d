#include "rtmp/rtmp_messages.h"

#include "rtmp/rtmp_bytes.h"

namespace venuecast::rtmp {
namespace {

std::vector<uint8_t> call(std::string_view name, double txn) {
  std::vector<uint8_t> out;
  RtmpAmf0::encodeString(name, out);
  RtmpAmf0::encodeNumber(txn, out);
  return out;
}

}  // namespace

std::string RtmpMessages::Command::summary() const {
  if (code.empty()) return description.empty() ? name : description;
  return description.empty() ? code : code + ": " + description;
}

// Property order and values as FFmpeg's rtmpproto sends them for a publisher (gen_connect): app, type,
// flashVer, tcUrl. Servers key on these names only, but keeping FFmpeg's order makes captures comparable.
std::vector<uint8_t> RtmpMessages::connect(double txn, std::string_view app, std::string_view flashVer,
                                           std::string_view tcUrl) {
  auto out = call("connect", txn);
  RtmpAmf0::encode(RtmpAmf0::Value::makeObject({{"app", RtmpAmf0::Value::makeString(std::string(app))},
                                      {"type", RtmpAmf0::Value::makeString("nonprivate")},
                                      {"flashVer", RtmpAmf0::Value::makeString(std::string(flashVer))},
                                      {"tcUrl", RtmpAmf0::Value::makeString(std::string(tcUrl))}}),
                   out);
  return out;
}

std::vector<uint8_t> RtmpMessages::connectPlayer(double txn, std::string_view app, std::string_view flashVer,
                                                 std::string_view tcUrl) {
  auto out = call("connect", txn);
  using V = RtmpAmf0::Value;
  RtmpAmf0::encode(V::makeObject({{"app", V::makeString(std::string(app))},
                                  {"flashVer", V::makeString(std::string(flashVer))},
                                  {"tcUrl", V::makeString(std::string(tcUrl))},
                                  {"fpad", V::makeBoolean(false)},
                                  {"capabilities", V::makeNumber(15)},
                                  {"audioCodecs", V::makeNumber(4071)},
                                  {"videoCodecs", V::makeNumber(252)},
                                  {"videoFunction", V::makeNumber(1)}}),
                   out);
  return out;
}

std::vector<uint8_t> RtmpMessages::play(double txn, std::string_view streamName, double start) {
  auto out = streamNameCall("play", txn, streamName);
  RtmpAmf0::encodeNumber(start, out);
  return out;
}

std::vector<uint8_t> RtmpMessages::setBufferLength(uint32_t streamId, uint32_t ms) {
  std::vector<uint8_t> out = {0, static_cast<uint8_t>(kSetBufferLength)};
  RtmpBytes::appendBe32(out, streamId);
  RtmpBytes::appendBe32(out, ms);
  return out;
}

std::vector<uint8_t> RtmpMessages::streamNameCall(std::string_view name, double txn, std::string_view streamName) {
  auto out = call(name, txn);
  RtmpAmf0::encodeNull(out);
  RtmpAmf0::encodeString(streamName, out);
  return out;
}

std::vector<uint8_t> RtmpMessages::createStream(double txn) {
  auto out = call("createStream", txn);
  RtmpAmf0::encodeNull(out);
  return out;
}

std::vector<uint8_t> RtmpMessages::publish(double txn, std::string_view streamName, std::string_view type) {
  auto out = streamNameCall("publish", txn, streamName);
  RtmpAmf0::encodeString(type, out);
  return out;
}

std::vector<uint8_t> RtmpMessages::deleteStream(double txn, uint32_t streamId) {
  auto out = call("deleteStream", txn);
  RtmpAmf0::encodeNull(out);
  RtmpAmf0::encodeNumber(streamId, out);
  return out;
}

std::vector<uint8_t> RtmpMessages::u32Body(uint32_t v) {
  std::vector<uint8_t> out;
  RtmpBytes::appendBe32(out, v);
  return out;
}

std::vector<uint8_t> RtmpMessages::pingResponse(uint32_t timestamp) {
  std::vector<uint8_t> out = {0, static_cast<uint8_t>(kPingResponse)};
  const auto ts = u32Body(timestamp);
  out.insert(out.end(), ts.begin(), ts.end());
  return out;
}

bool RtmpMessages::parseCommand(uint8_t type, std::span<const uint8_t> body, Command& out, std::string& error) {
  if (type == kAmf3Command || type == kAmf3Data) {
    // AMF3 messages from a server we spoke AMF0 to start with a 0 byte and then carry AMF0 values.
    if (body.empty()) {
      error = "empty AMF3 message";
      return false;
    }
    body = body.subspan(1);
  }
  std::vector<RtmpAmf0::Value> values;
  if (!RtmpAmf0::decodeAll(body, values, error)) return false;
  if (values.empty() || values[0].type != RtmpAmf0::Type::String) {
    error = "command without a name";
    return false;
  }
  out = Command{};
  out.name = values[0].string;
  std::size_t next = 1;
  // Commands carry a transaction id; data messages (onStatus sent as data by some servers) may not.
  if (values.size() > 1 && values[1].type == RtmpAmf0::Type::Number) {
    out.transaction = values[1].number;
    next = 2;
  }
  out.args.assign(std::make_move_iterator(values.begin() + static_cast<std::ptrdiff_t>(next)),
                  std::make_move_iterator(values.end()));
  for (const auto& a : out.args) {
    if (a.type != RtmpAmf0::Type::Object && a.type != RtmpAmf0::Type::EcmaArray) continue;
    if (!a.find("code") && !a.find("level")) continue;
    out.level = a.stringProperty("level");
    out.code = a.stringProperty("code");
    out.description = a.stringProperty("description");
    break;
  }
  return true;
}

}  // namespace venuecast::rtmp
