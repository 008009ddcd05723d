#include "ingest/h264_parameter_sets.h"

namespace venuecast::ingest {
namespace {

bool startCodeAt(std::span<const uint8_t> d, size_t i) {
  return i + 3 <= d.size() && d[i] == 0 && d[i + 1] == 0 && (d[i + 2] == 1 || (i + 4 <= d.size() && d[i + 2] == 0 && d[i + 3] == 1));
}

void append(std::vector<uint8_t>& out, std::span<const uint8_t> nal, bool annexB, int lengthSize) {
  if (nal.empty()) return;
  if (annexB) {
    out.insert(out.end(), {0, 0, 0, 1});
  } else {
    for (int shift = 8 * (lengthSize - 1); shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(nal.size() >> shift));
  }
  out.insert(out.end(), nal.begin(), nal.end());
}

bool isParameterSet(uint8_t header) {
  const int type = header & 0x1f;
  return type == 7 || type == 8;  // SPS, PPS
}

}  // namespace

bool h264PayloadIsAnnexB(std::span<const uint8_t> p) {
  if (!startCodeAt(p, 0)) return false;
  // 00 00 01 xx could also be the 4-byte length of a 256..511-byte NAL unit: a chain that ends exactly is AVCC.
  size_t i = 0;
  while (i + 4 <= p.size()) {
    const size_t len = (size_t{p[i]} << 24) | (size_t{p[i + 1]} << 16) | (size_t{p[i + 2]} << 8) | p[i + 3];
    if (len == 0 || len > p.size() - i - 4) return true;
    i += 4 + len;
  }
  return i != p.size();
}

std::vector<uint8_t> h264ParameterSets(std::span<const uint8_t> extradata, bool annexB) {
  std::vector<uint8_t> out;
  if (extradata.size() < 4) return out;
  if (startCodeAt(extradata, 0)) {
    // Annex B: the NAL units between start codes.
    size_t i = 0;
    while (i < extradata.size()) {
      while (i < extradata.size() && !startCodeAt(extradata, i)) ++i;
      if (i >= extradata.size()) break;
      i += extradata[i + 2] == 1 ? 3 : 4;
      size_t end = i;
      while (end < extradata.size() && !startCodeAt(extradata, end)) ++end;
      size_t last = end;
      while (last > i && extradata[last - 1] == 0) --last;  // trailing zero bytes belong to the next start code
      if (last > i && isParameterSet(extradata[i])) append(out, extradata.subspan(i, last - i), annexB, 4);
      i = end;
    }
    return out;
  }
  // avcC: version, profile, compatibility, level, 6 bits + length size - 1, 3 bits + SPS count, then the sets.
  if (extradata[0] != 1 || extradata.size() < 7) return out;
  const int lengthSize = (extradata[4] & 3) + 1;
  size_t i = 5;
  for (int list = 0; list < 2 && i < extradata.size(); ++list) {
    const int count = list == 0 ? (extradata[i] & 0x1f) : extradata[i];
    ++i;
    for (int n = 0; n < count; ++n) {
      if (i + 2 > extradata.size()) return {};
      const size_t len = (size_t{extradata[i]} << 8) | extradata[i + 1];
      i += 2;
      if (i + len > extradata.size()) return {};
      append(out, extradata.subspan(i, len), annexB, lengthSize);
      i += len;
    }
  }
  return out;
}

}  // namespace venuecast::ingest
