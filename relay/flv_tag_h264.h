#pragma once
// H.264 layouts for FLV: FLV carries AVCC (each NAL unit behind a 4-byte length) and an avcC record as the
// sequence header. libavformat's FLV/RTMP demuxer already hands us exactly that; sources such as SRT/MPEG-TS
// give Annex B (start codes) instead, which is converted here the way FFmpeg 5.1's FLV muxer does it
// (libavformat/avc.c ff_avc_parse_nal_units and ff_isom_write_avcc), so the bytes are the same.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace venuecast::relay {

class FlvTagH264 {
 public:
  // Starts with a 00 00 01 or 00 00 00 01 start code.
  static bool startsWithStartCode(std::span<const uint8_t> data);
  // The data is a chain of 4-byte big-endian NAL lengths that ends exactly at its end.
  static bool isAvccChain(std::span<const uint8_t> data);
  // Whether a packet payload must be converted: it starts with a start code and is not a valid AVCC chain (a
  // 256..511-byte first NAL unit's length also reads 00 00 01 xx), or the extradata says Annex B.
  static bool payloadIsAnnexB(std::span<const uint8_t> payload, std::span<const uint8_t> extradata);

  // Annex B -> AVCC: every NAL unit behind its 4-byte length; bytes before the first start code are dropped.
  static std::vector<uint8_t> annexBToAvcc(std::span<const uint8_t> annexB);

  // The avcC record for the sequence header: built from Annex B SPS/PPS (with the chroma/bit-depth extension
  // for High profiles, as FFmpeg writes it), else the extradata as it is (already avcC). False with `error`
  // when the extradata is too short or lacks an SPS or PPS.
  static bool avcc(std::span<const uint8_t> extradata, std::vector<uint8_t>& out, std::string& error);
};

}  // namespace venuecast::relay
