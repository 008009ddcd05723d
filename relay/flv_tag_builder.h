#pragma once
// Turns demuxed packets into FLV tag bodies (= RTMP media messages) without copying their payload: a few
// header bytes of ours plus a view of the packet's refcounted buffer. The bytes match what FFmpeg 5.1's FLV
// muxer (libavformat/flvenc.c) writes for the same input, because endpoints were tested against that:
//   H.264: [frame type | 7][AVC packet type 1][composition time pts-dts, 24 bit] + AVCC payload
//          (Annex B payloads are converted into a new buffer; that is the one case that copies)
//   H.264 sequence header: [0x17][0][0 0 0] + avcC (built from Annex B SPS/PPS if needed)
//   AAC: [0xAF][1] + raw frame (an ADTS header is skipped), sequence header [0xAF][0] + AudioSpecificConfig
//        (from the extradata, else derived from the first ADTS header, as aac_adtstoasc does)
//   MP3 and other FLV audio: [sound format byte] + payload; FLV1 (Sorenson H.263): [frame type | 2] + payload
//   onMetaData: "@setDataFrame" "onMetaData" {width, height, videodatarate, framerate, videocodecid,
//          audiodatarate, audiosamplerate, audiosamplesize, stereo, audiocodecid, encoder}, as flvenc with
//          flvflags=no_duration_filesize, sent the way rtmpproto sends a script tag.
// One builder per output session; not thread-safe.
extern "C" {
#include <libavcodec/avcodec.h>
}
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rtmp/rtmp_media_message.h"

namespace venuecast::relay {

class FlvTagBuilder {
 public:
  struct Frame {
    AVMediaType kind = AVMEDIA_TYPE_VIDEO;
    const AVPacket* packet = nullptr;
    int64_t dtsMs = 0;  // on the output timeline: the tag timestamp (must be >= 0; wraps at 2^32)
    int64_t ptsMs = 0;
    std::shared_ptr<const void> owner;  // keeps packet->data alive; null: a reference on packet->buf is taken
  };

  // The codec parameters (either may be null) must outlive the builder; frameRate 0 = unknown (not sent).
  FlvTagBuilder(const AVCodecParameters* video, const AVCodecParameters* audio, double frameRate = 0,
                std::string encoder = "venuecast");

  // "" when FLV can carry these streams, else why not.
  const std::string& unsupported() const { return unsupported_; }

  // What starts a connection, as flvenc's write_header: onMetaData, then the H.264 / AAC sequence headers.
  bool header(std::vector<rtmp::RtmpMediaMessage>& out, std::string& error, uint32_t timestamp = 0);
  // One packet: a sequence header first if it carries NEW_EXTRADATA that differs (flvenc does the same), or
  // if it is the first ADTS frame of an AAC stream without extradata; then the packet's own tag.
  bool packet(const Frame& frame, std::vector<rtmp::RtmpMediaMessage>& out, std::string& error);

  rtmp::RtmpMediaMessage metadata(uint32_t timestamp) const;
  // What flvenc's trailer writes for H.264 (an AVC end-of-sequence tag at the last video DTS); nullopt for
  // other video or none.
  std::optional<rtmp::RtmpMediaMessage> endOfSequence(uint32_t timestamp) const;

 private:
  bool sequenceHeader(AVMediaType kind, uint32_t timestamp, std::vector<rtmp::RtmpMediaMessage>& out, std::string& error) const;
  bool videoTag(const Frame& f, rtmp::RtmpMediaMessage& m, std::string& error) const;
  bool audioTag(const Frame& f, uint32_t ts, rtmp::RtmpMediaMessage& m, std::vector<rtmp::RtmpMediaMessage>& out, std::string& error);

  const AVCodecParameters* video_;
  const AVCodecParameters* audio_;
  double frameRate_;
  std::string encoder_;
  std::string unsupported_;
  uint8_t soundFormat_ = 0;
  std::vector<uint8_t> videoExtradata_, audioExtradata_;  // current: NEW_EXTRADATA replaces them
  bool audioConfigPending_ = false;  // AAC without extradata: the ASC comes from the first ADTS header
};

}  // namespace venuecast::relay
