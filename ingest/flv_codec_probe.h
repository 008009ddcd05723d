#pragma once
// The codec parameters of a native RTMP session, straight from its first messages, in place of
// avformat_find_stream_info: for H.264 with B-frames that one waits for two more frames after the keyframe
// (~66 ms at 30 fps, on every venue start and reconnect) and decodes the keyframe. Here:
//   H.264: the avcC sequence header, then libavcodec's h264 parser on the first keyframe (size, profile,
//          level, pixel format);
//   AAC LC: its AudioSpecificConfig (rate, channels).
// Any other codec is NotNative: the session is then probed by libavformat as before.
#include <cstdint>
#include <vector>

#include "ingest/av_ptr.h"
#include "ingest/stream_set.h"
#include "rtmp/rtmp_chunk_reader.h"

namespace venuecast::ingest {

class FlvCodecProbe {
 public:
  enum class State { NeedMore, Ready, NotNative };

  // Which streams to wait for (the FLV header's flags: onMetaData's codec ids, or the first message's type), and
  // the bit rates onMetaData announced (kbit/s, 0 = none), which flvdec copies into the parameters too.
  FlvCodecProbe(bool expectVideo, bool expectAudio, double videoKbps = 0, double audioKbps = 0);

  State add(const rtmp::RtmpChunkReader::Message& m);
  State state() const { return state_; }
  // Ready: the session's streams.
  StreamSetPtr streams() const;

 private:
  void video(const std::vector<uint8_t>& p);
  void audio(const std::vector<uint8_t>& p);
  void update();

  bool expectVideo_, expectAudio_;
  double videoKbps_, audioKbps_;
  State state_ = State::NeedMore;
  std::vector<uint8_t> avcc_;
  AvCodecParametersPtr videoPar_, audioPar_;  // set once complete
};

}  // namespace venuecast::ingest
