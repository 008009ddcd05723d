#include "rtmp/rtmp_chunk_reader.h"

#include <algorithm>

#include "rtmp/rtmp_bytes.h"

namespace venuecast::rtmp {
namespace {

constexpr uint8_t kSetChunkSizeType = 1;
constexpr uint8_t kAbortType = 2;


}  // namespace

RtmpChunkReader::RtmpChunkReader(std::size_t maxMessageSize) : maxMessageSize_(maxMessageSize) {}

bool RtmpChunkReader::fail(std::string what) {
  error_ = "RTMP chunk stream: " + std::move(what);
  return false;
}

bool RtmpChunkReader::feed(std::span<const uint8_t> bytes, std::vector<Message>& out) {
  if (!error_.empty()) return false;
  while (!bytes.empty()) {
    if (!inPayload_) {
      bool complete = false;
      if (!takeHeader(bytes, complete, out)) return false;
      if (!complete) break;  // the rest of the header comes with the next read
      continue;
    }
    Stream& s = streams_[payloadCsid_];
    const std::size_t take = std::min(payloadLeft_, bytes.size());
    s.partial.insert(s.partial.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(take));
    bytes = bytes.subspan(take);
    payloadLeft_ -= take;
    if (payloadLeft_ == 0) {
      inPayload_ = false;
      if (s.partial.size() == s.length && !finishMessage(s, payloadCsid_, out)) return false;
    }
  }
  return true;
}

bool RtmpChunkReader::takeHeader(std::span<const uint8_t>& bytes, bool& complete, std::vector<Message>& out) {
  complete = false;
  // Headers are at most 18 bytes and their length is only known piece by piece, so they are gathered in
  // header_ until whole; this is what makes any split of the input work.
  auto pull = [&](std::size_t want) {
    while (headerHave_ < want && !bytes.empty()) {
      header_[headerHave_++] = bytes.front();
      bytes = bytes.subspan(1);
    }
    return headerHave_ >= want;
  };
  if (!pull(1)) return true;
  const uint8_t fmt = header_[0] >> 6;
  const uint8_t low = header_[0] & 0x3F;
  const std::size_t basic = low == 0 ? 2 : low == 1 ? 3 : 1;
  if (!pull(basic)) return true;
  const uint32_t csid = low == 0   ? 64u + header_[1]
                        : low == 1 ? 64u + header_[1] + (uint32_t{header_[2]} << 8)
                                   : low;
  static constexpr std::size_t kFieldBytes[4] = {11, 7, 3, 0};
  const std::size_t fieldsEnd = basic + kFieldBytes[fmt];
  if (!pull(fieldsEnd)) return true;
  bool extended = false;
  if (fmt < 3) {
    extended = RtmpBytes::be24(header_ + basic) == 0xFFFFFF;
  } else {
    auto it = streams_.find(csid);
    if (it == streams_.end()) return fail("type-3 chunk on unknown chunk stream " + std::to_string(csid));
    extended = it->second.extended;
  }
  const std::size_t total = fieldsEnd + (extended ? 4 : 0);
  if (!pull(total)) return true;
  headerHave_ = 0;
  complete = true;
  return applyHeader(fmt, csid, header_ + basic, extended, extended ? RtmpBytes::be32(header_ + fieldsEnd) : 0, out);
}

bool RtmpChunkReader::applyHeader(uint8_t fmt, uint32_t csid, const uint8_t* fields, bool extended,
                                  uint32_t extendedValue, std::vector<Message>& out) {
  auto it = streams_.find(csid);
  if (it == streams_.end()) {
    // Type 2 and 3 inherit the length from an earlier header: on a new chunk stream there is none.
    if (fmt >= 2) return fail("type-" + std::to_string(fmt) + " header on unknown chunk stream " + std::to_string(csid));
    if (streams_.size() >= kMaxChunkStreams) return fail("more than " + std::to_string(kMaxChunkStreams) + " chunk streams");
    it = streams_.emplace(csid, Stream{}).first;
  }
  Stream& s = it->second;
  if (fmt < 3 && s.inMessage) {
    return fail("new message header on chunk stream " + std::to_string(csid) + " before its message ended");
  }
  const uint32_t field = fmt < 3 ? (extended ? extendedValue : RtmpBytes::be24(fields)) : 0;
  switch (fmt) {
    case 0:
      s.timestamp = field;
      s.delta = field;  // RTMP spec 5.3.1.2.4: a type 3 after a type 0 reuses its timestamp as delta
      s.length = RtmpBytes::be24(fields + 3);
      s.type = fields[6];
      s.streamId = uint32_t{fields[7]} | (uint32_t{fields[8]} << 8) | (uint32_t{fields[9]} << 16) |
                   (uint32_t{fields[10]} << 24);
      break;
    case 1:
      s.delta = field;
      s.timestamp += field;
      s.length = RtmpBytes::be24(fields + 3);
      s.type = fields[6];
      break;
    case 2:
      s.delta = field;
      s.timestamp += field;
      break;
    default:
      if (!s.inMessage) s.timestamp += s.delta;  // a new message with all fields of the previous one
      break;
  }
  if (fmt < 3) s.extended = extended;

  if (!s.inMessage) {
    if (s.length > maxMessageSize_) {
      return fail("message of " + std::to_string(s.length) + " bytes exceeds the limit of " +
                  std::to_string(maxMessageSize_));
    }
    s.inMessage = true;
    s.partial.clear();
    s.partial.reserve(std::min<std::size_t>(s.length, kReserveCap) + kPayloadSlack);
    if (s.length == 0) return finishMessage(s, csid, out);
  }
  payloadCsid_ = csid;
  payloadLeft_ = std::min<std::size_t>(chunkSize_, s.length - s.partial.size());
  inPayload_ = true;
  return true;
}

bool RtmpChunkReader::finishMessage(Stream& s, uint32_t csid, std::vector<Message>& out) {
  s.inMessage = false;
  Message m{csid, s.timestamp, s.type, s.streamId, std::move(s.partial)};
  s.partial = {};
  // Applied whatever the message stream id (the spec wants 0): ignoring one would desynchronise the parser.
  if (m.type == kSetChunkSizeType) {
    if (m.payload.size() < 4) return fail("short Set Chunk Size");
    const uint32_t size = RtmpBytes::be32(m.payload.data()) & 0x7FFFFFFF;
    if (size == 0) return fail("Set Chunk Size 0");
    chunkSize_ = size;
  } else if (m.type == kAbortType) {
    if (m.payload.size() < 4) return fail("short Abort");
    if (auto a = streams_.find(RtmpBytes::be32(m.payload.data())); a != streams_.end()) {
      a->second.inMessage = false;
      a->second.partial.clear();
    }
  }
  out.push_back(std::move(m));
  return true;
}

}  // namespace venuecast::rtmp
