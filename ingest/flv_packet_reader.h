#pragma once
// Turns the audio/video messages of an RTMP play session straight into packets, as libavformat's flv demuxer
// (flvdec.c, FFmpeg 5.1) would for H.264 and AAC: payload after the FLV tag header, dts = tag time, pts = dts +
// composition time, keyframe flag from the frame type (audio: always), sequence headers consumed, and a changed
// sequence header attached as AV_PKT_DATA_NEW_EXTRADATA to the next packet of its stream. Used once the session's
// codec parameters are known (probed by libavformat), so the steady state runs on the data plane without a
// demuxer, a thread handoff or a blocking read. Only H.264 video and AAC audio: other codecs stay with flvdec.
#include <cstdint>
#include <string>
#include <vector>

#include "ingest/av_ptr.h"
#include "ingest/stream_set.h"
#include "rtmp/rtmp_chunk_reader.h"

namespace venuecast::ingest {

class FlvPacketReader {
 public:
  struct Result {
    enum class Kind { None, Packet, Error } kind = Kind::None;  // None: nothing to deliver (a header, an EOS)
    MediaKind media = MediaKind::Video;
    AvPacketPtr packet;  // dts/pts in ms; NEW_EXTRADATA side data when a sequence header changed
    std::string error;
  };

  // Whether the streams can be read by this class (else keep libavformat's demuxer).
  static bool supports(const StreamSet& streams);

  // Starts from the session's current extradata, so a repeated identical sequence header changes nothing.
  explicit FlvPacketReader(const StreamSet& streams);
  int audioSampleRate() const { return audioSampleRate_; }  // of the streams it was made for (0: none)

  // Takes the message's payload: the packet's data stays where the chunk reader assembled it (no copy).
  Result read(rtmp::RtmpChunkReader::Message&& m);
  Result read(const rtmp::RtmpChunkReader::Message& m) { return read(rtmp::RtmpChunkReader::Message(m)); }

 private:
  Result video(std::vector<uint8_t>& p, uint32_t timestamp);
  Result audio(std::vector<uint8_t>& p, uint32_t timestamp);
  static Result packet(MediaKind kind, std::vector<uint8_t>& payload, std::size_t offset, int64_t dts, int64_t pts,
                       bool key, std::vector<uint8_t>& pendingExtradata);

  bool hasVideo_, hasAudio_;
  int audioSampleRate_ = 0;
  std::vector<uint8_t> extradata_[kMediaKinds];
  std::vector<uint8_t> pending_[kMediaKinds];  // a new sequence header, for the next packet of that stream
};

}  // namespace venuecast::ingest
