#include "ingest/flv_stream_writer.h"

#include "rtmp/rtmp_amf0.h"
#include "rtmp/rtmp_bytes.h"

namespace venuecast::ingest {

using rtmp::RtmpAmf0;
using rtmp::RtmpBytes;

namespace {

constexpr std::size_t kTagHeader = 11;

// onMetaData's body without a leading "@setDataFrame", and whether it is onMetaData at all.
bool metadataBody(const std::vector<uint8_t>& payload, std::size_t& start, RtmpAmf0::Value& data) {
  std::size_t offset = 0;
  RtmpAmf0::Value name;
  std::string error;
  if (!RtmpAmf0::decode(payload, offset, name, error) || name.type != RtmpAmf0::Type::String) return false;
  start = 0;
  if (name.string == "@setDataFrame") {
    start = offset;
    if (!RtmpAmf0::decode(payload, offset, name, error) || name.type != RtmpAmf0::Type::String) return false;
  }
  if (name.string != "onMetaData") return false;
  return RtmpAmf0::decode(payload, offset, data, error);
}

}  // namespace

void FlvStreamWriter::tag(uint8_t type, uint32_t timestamp, const uint8_t* body, std::size_t size,
                          std::vector<uint8_t>& out) {
  const std::size_t at = out.size();
  out.resize(at + kTagHeader + size + 4);
  uint8_t* p = out.data() + at;
  p[0] = type;
  RtmpBytes::putBe24(p + 1, static_cast<uint32_t>(size));
  RtmpBytes::putBe24(p + 4, timestamp & 0xFFFFFF);
  p[7] = static_cast<uint8_t>(timestamp >> 24);
  p[8] = p[9] = p[10] = 0;  // stream id
  if (size > 0) std::copy(body, body + size, p + kTagHeader);
  RtmpBytes::putBe32(p + kTagHeader + size, static_cast<uint32_t>(kTagHeader + size));
}

void FlvStreamWriter::writeHeader(std::vector<uint8_t>& out) {
  const uint8_t flags = static_cast<uint8_t>((hasAudio_ ? 0x04 : 0) | (hasVideo_ ? 0x01 : 0));
  const uint8_t header[13] = {'F', 'L', 'V', 1, flags, 0, 0, 0, 9, 0, 0, 0, 0};
  out.insert(out.end(), header, header + sizeof header);
  out.insert(out.end(), early_.begin(), early_.end());
  early_.clear();
  early_.shrink_to_fit();
  headerWritten_ = true;
}

bool FlvStreamWriter::add(const rtmp::RtmpChunkReader::Message& m, std::vector<uint8_t>& out) {
  const auto& p = m.payload;
  std::vector<uint8_t>& dst = headerWritten_ ? out : early_;
  switch (m.type) {
    case kAudio:
    case kVideo:
      if (!headerWritten_) {
        (m.type == kAudio ? hasAudio_ : hasVideo_) = true;
        writeHeader(out);
      }
      tag(m.type, m.timestamp, p.data(), p.size(), out);
      return true;
    case kData: {
      std::size_t start = 0;
      RtmpAmf0::Value data;
      if (metadataBody(p, start, data)) {
        if (!headerWritten_) {
          hasAudio_ = data.find("audiocodecid") != nullptr;
          hasVideo_ = data.find("videocodecid") != nullptr;
          const auto* v = data.find("videodatarate");
          const auto* a = data.find("audiodatarate");
          if (v && v->type == RtmpAmf0::Type::Number) videoKbps_ = v->number;
          if (a && a->type == RtmpAmf0::Type::Number) audioKbps_ = a->number;
          tag(kData, m.timestamp, p.data() + start, p.size() - start, early_);
          writeHeader(out);
          return false;
        }
        tag(kData, m.timestamp, p.data() + start, p.size() - start, out);
      } else {
        tag(kData, m.timestamp, p.data(), p.size(), dst);
      }
      return false;
    }
    case kAggregate: {
      // Sub-tags: 11-byte header, body, 4-byte previous tag size; timestamps relative to the first one's.
      std::size_t at = 0;
      uint32_t base = 0;
      bool first = true;
      while (at + kTagHeader <= p.size()) {
        const uint8_t type = p[at] & 0x1F;
        const uint32_t size = RtmpBytes::be24(&p[at + 1]);
        const uint32_t ts = RtmpBytes::be24(&p[at + 4]) | (uint32_t{p[at + 7]} << 24);
        if (at + kTagHeader + size > p.size()) break;
        if (first) base = ts;
        first = false;
        if (type == kAudio || type == kVideo) {
          if (!headerWritten_) {
            (type == kAudio ? hasAudio_ : hasVideo_) = true;
            writeHeader(out);
          }
          tag(type, m.timestamp + (ts - base), &p[at + kTagHeader], size, out);
        }
        at += kTagHeader + size + 4;
      }
      return true;
    }
    default:
      return false;
  }
}

}  // namespace venuecast::ingest
