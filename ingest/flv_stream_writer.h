#pragma once
// Turns the media messages of an RTMP play session into the FLV byte stream libavformat's flv demuxer reads, the
// way FFmpeg's rtmpproto does for its own player: the FLV header waits for the first audio/video message or
// onMetaData and takes its has-audio / has-video flags from them (onMetaData's audiocodecid / videocodecid keys,
// else the first message's type), so the demuxer knows which streams to expect; then one tag per message.
// "@setDataFrame" in front of onMetaData is dropped; aggregate messages (type 22) are unpacked into their tags
// with the message's timestamp as their base.
#include <cstdint>
#include <vector>

#include "rtmp/rtmp_chunk_reader.h"

namespace venuecast::ingest {

class FlvStreamWriter {
 public:
  static constexpr uint8_t kAudio = 8, kVideo = 9, kData = 18, kAggregate = 22;

  // Appends the FLV bytes for `m` to `out` (the file header first, once it can be written). Messages that are
  // not FLV material (commands, control) are ignored; returns whether `m` was media (audio, video, aggregate).
  bool add(const rtmp::RtmpChunkReader::Message& m, std::vector<uint8_t>& out);

  bool headerWritten() const { return headerWritten_; }
  // What the FLV header announced, and the bit rates the first onMetaData gave (kbit/s, 0 if none).
  bool hasVideo() const { return hasVideo_; }
  bool hasAudio() const { return hasAudio_; }
  double videoKbps() const { return videoKbps_; }
  double audioKbps() const { return audioKbps_; }

 private:
  void tag(uint8_t type, uint32_t timestamp, const uint8_t* body, std::size_t size, std::vector<uint8_t>& out);
  void writeHeader(std::vector<uint8_t>& out);

  bool headerWritten_ = false;
  bool hasAudio_ = false, hasVideo_ = false;
  double videoKbps_ = 0, audioKbps_ = 0;
  std::vector<uint8_t> early_;  // tags before the header could be written (e.g. |RtmpSampleAccess)
};

}  // namespace venuecast::ingest
