#include "relay/flv_tag_h264.h"

#include <algorithm>

#include "rtmp/rtmp_bytes.h"

namespace venuecast::relay {
namespace {

// The next 00 00 01 at or after p, moved back over one preceding zero (the first byte of a 4-byte start code),
// or end: FFmpeg's ff_avc_find_startcode, so NAL boundaries (and trailing zeros) come out the same.
const uint8_t* findStartCode(const uint8_t* p, const uint8_t* end) {
  const uint8_t* q = p;
  while (q + 2 < end && !(q[0] == 0 && q[1] == 0 && q[2] == 1)) ++q;
  if (q + 2 >= end) return end;
  if (p < q && q[-1] == 0) --q;
  return q;
}

// Exp-Golomb reader over an RBSP (emulation prevention bytes removed), enough for the start of an SPS.
class BitReader {
 public:
  explicit BitReader(std::vector<uint8_t> rbsp) : data_(std::move(rbsp)) {}
  bool ok() const { return ok_; }
  uint32_t bits(int n) {
    uint32_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 1) | bit();
    return v;
  }
  uint32_t ue() {
    int zeros = 0;
    while (ok_ && bit() == 0) {
      if (++zeros > 31) ok_ = false;
    }
    return ok_ ? ((1u << zeros) - 1 + bits(zeros)) : 0;
  }

 private:
  uint32_t bit() {
    if (pos_ >= data_.size() * 8) {
      ok_ = false;
      return 0;
    }
    const uint32_t b = (data_[pos_ / 8] >> (7 - pos_ % 8)) & 1;
    ++pos_;
    return b;
  }
  std::vector<uint8_t> data_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

std::vector<uint8_t> unescape(std::span<const uint8_t> nal) {
  std::vector<uint8_t> out;
  out.reserve(nal.size());
  int zeros = 0;
  for (uint8_t b : nal) {
    if (zeros >= 2 && b == 3) {  // 00 00 03: the 03 only prevents a start code
      zeros = 0;
      continue;
    }
    zeros = b == 0 ? zeros + 1 : 0;
    out.push_back(b);
  }
  return out;
}

}  // namespace

bool FlvTagH264::startsWithStartCode(std::span<const uint8_t> d) {
  return (d.size() >= 3 && d[0] == 0 && d[1] == 0 && d[2] == 1) ||
         (d.size() >= 4 && d[0] == 0 && d[1] == 0 && d[2] == 0 && d[3] == 1);
}

bool FlvTagH264::isAvccChain(std::span<const uint8_t> d) {
  std::size_t pos = 0;
  while (d.size() - pos >= 4) {
    const uint32_t len = rtmp::RtmpBytes::be32(d.data() + pos);
    if (len == 0 || len > d.size() - pos - 4) return false;
    pos += 4 + len;
  }
  return pos == d.size() && !d.empty();
}

bool FlvTagH264::payloadIsAnnexB(std::span<const uint8_t> payload, std::span<const uint8_t> extradata) {
  if (!startsWithStartCode(payload)) return false;
  return startsWithStartCode(extradata) || !isAvccChain(payload);
}

std::vector<uint8_t> FlvTagH264::annexBToAvcc(std::span<const uint8_t> annexB) {
  std::vector<uint8_t> out;
  out.reserve(annexB.size() + 16);
  const uint8_t* end = annexB.data() + annexB.size();
  const uint8_t* nal = findStartCode(annexB.data(), end);
  for (;;) {
    while (nal < end && *nal++ == 0) {
    }  // skips the start code's zeros and its 01
    if (nal >= end) break;
    const uint8_t* nalEnd = findStartCode(nal, end);
    rtmp::RtmpBytes::appendBe32(out, static_cast<uint32_t>(nalEnd - nal));
    out.insert(out.end(), nal, nalEnd);
    nal = nalEnd;
  }
  return out;
}

bool FlvTagH264::avcc(std::span<const uint8_t> extradata, std::vector<uint8_t>& out, std::string& error) {
  out.clear();
  if (extradata.size() <= 6) {
    error = "H.264 extradata of " + std::to_string(extradata.size()) + " bytes has no SPS/PPS";
    return false;
  }
  const bool annexB = rtmp::RtmpBytes::be32(extradata.data()) == 1 || (extradata[0] == 0 && extradata[1] == 0 && extradata[2] == 1);
  if (!annexB) {  // already an avcC record
    out.assign(extradata.begin(), extradata.end());
    return true;
  }
  const auto nals = annexBToAvcc(extradata);
  std::vector<uint8_t> sps, pps, spsExt;  // each: (u16 size, NAL) repeated
  int nbSps = 0, nbPps = 0, nbSpsExt = 0;
  const uint8_t* p = nals.data();
  const uint8_t* end = p + nals.size();
  while (end - p > 4) {
    const auto size = std::min<std::size_t>(rtmp::RtmpBytes::be32(p), static_cast<std::size_t>(end - p - 4));
    p += 4;
    const int type = p[0] & 0x1F;
    std::vector<uint8_t>* list = type == 7 ? &sps : type == 8 ? &pps : type == 13 ? &spsExt : nullptr;
    int* count = type == 7 ? &nbSps : type == 8 ? &nbPps : &nbSpsExt;
    if (list) {
      const int limit = type == 7 ? 32 : 256;  // H264_MAX_SPS_COUNT / PPS count / SPS extensions
      if (size > 0xFFFF || ++*count >= limit) {
        error = "H.264 extradata has too many or too large parameter sets";
        return false;
      }
      rtmp::RtmpBytes::appendBe16(*list, static_cast<uint32_t>(size));
      list->insert(list->end(), p, p + size);
    }
    p += size;
  }
  if (sps.size() < 6 || pps.empty()) {
    error = "H.264 extradata lacks an SPS or PPS";
    return false;
  }
  // sps[2] is the first SPS's NAL header; profile, compatibility and level follow it.
  out = {1, sps[3], sps[4], sps[5], 0xFF, static_cast<uint8_t>(0xE0 | nbSps)};
  out.insert(out.end(), sps.begin(), sps.end());
  out.push_back(static_cast<uint8_t>(nbPps));
  out.insert(out.end(), pps.begin(), pps.end());
  const uint8_t profile = sps[3];
  if (profile != 66 && profile != 77 && profile != 88) {
    // ISO/IEC 14496-15 extension for High profiles: chroma format and bit depths, read from the SPS.
    BitReader r(unescape(std::span<const uint8_t>(sps).subspan(3)));
    const uint32_t profileIdc = r.bits(8);
    r.bits(16);  // constraint flags, reserved bits, level
    r.ue();      // seq_parameter_set_id
    uint32_t chroma = 1, lumaDepth = 8, chromaDepth = 8;
    static constexpr uint32_t kHighProfiles[] = {100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134};
    if (std::find(std::begin(kHighProfiles), std::end(kHighProfiles), profileIdc) != std::end(kHighProfiles)) {
      chroma = r.ue();
      if (chroma == 3) r.bits(1);  // separate_colour_plane_flag
      lumaDepth = r.ue() + 8;
      chromaDepth = r.ue() + 8;
    }
    if (!r.ok() || chroma > 3 || lumaDepth > 15 || chromaDepth > 15) {
      error = "H.264 SPS cannot be parsed";
      return false;
    }
    out.push_back(static_cast<uint8_t>(0xFC | chroma));
    out.push_back(static_cast<uint8_t>(0xF8 | (lumaDepth - 8)));
    out.push_back(static_cast<uint8_t>(0xF8 | (chromaDepth - 8)));
    out.push_back(static_cast<uint8_t>(nbSpsExt));
    out.insert(out.end(), spsExt.begin(), spsExt.end());
  }
  return true;
}

}  // namespace venuecast::relay
