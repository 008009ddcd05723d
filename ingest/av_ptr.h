#pragma once
// RAII owners for every libav object venuecast touches. No raw av_*_free outside this file.
extern "C" {
#include <libavcodec/avcodec.h>
#include <libavfilter/avfilter.h>
#include <libavformat/avformat.h>
#include <libavutil/dict.h>
}
#include <memory>
#include <string>

namespace venuecast::ingest {

struct AvPacketDeleter {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
using AvPacketPtr = std::unique_ptr<AVPacket, AvPacketDeleter>;

struct AvCodecParametersDeleter {
  void operator()(AVCodecParameters* p) const { avcodec_parameters_free(&p); }
};
using AvCodecParametersPtr = std::unique_ptr<AVCodecParameters, AvCodecParametersDeleter>;

struct AvCodecContextDeleter {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
using AvCodecContextPtr = std::unique_ptr<AVCodecContext, AvCodecContextDeleter>;

struct AvFrameDeleter {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
using AvFramePtr = std::unique_ptr<AVFrame, AvFrameDeleter>;

struct AvFilterGraphDeleter {
  void operator()(AVFilterGraph* g) const { avfilter_graph_free(&g); }
};
using AvFilterGraphPtr = std::unique_ptr<AVFilterGraph, AvFilterGraphDeleter>;

struct AvInputContextDeleter {
  void operator()(AVFormatContext* c) const { avformat_close_input(&c); }
};
using AvInputContextPtr = std::unique_ptr<AVFormatContext, AvInputContextDeleter>;

// Closes the AVIO (if the muxer owns one) before freeing; the trailer is the writer's business.
struct AvOutputContextDeleter {
  void operator()(AVFormatContext* c) const {
    if (c && c->oformat && !(c->oformat->flags & AVFMT_NOFILE)) avio_closep(&c->pb);
    avformat_free_context(c);
  }
};
using AvOutputContextPtr = std::unique_ptr<AVFormatContext, AvOutputContextDeleter>;

// A custom AVIOContext and the buffer libavformat may have replaced meanwhile.
struct AvIoContextDeleter {
  void operator()(AVIOContext* c) const {
    if (c) av_freep(&c->buffer);
    avio_context_free(&c);
  }
};
using AvIoContextPtr = std::unique_ptr<AVIOContext, AvIoContextDeleter>;

// An option dictionary; get() for reading, slot() for libav calls that consume and rewrite it.
class AvDictionary {
 public:
  AvDictionary() = default;
  AvDictionary(const AvDictionary&) = delete;
  AvDictionary& operator=(const AvDictionary&) = delete;
  ~AvDictionary() { av_dict_free(&dict_); }
  void set(const char* key, const std::string& value) { av_dict_set(&dict_, key, value.c_str(), 0); }
  AVDictionary** slot() { return &dict_; }
  const AVDictionary* get() const { return dict_; }

 private:
  AVDictionary* dict_ = nullptr;
};

inline AvPacketPtr makePacket() { return AvPacketPtr(av_packet_alloc()); }

inline AvCodecParametersPtr copyParameters(const AVCodecParameters* src) {
  AvCodecParametersPtr p(avcodec_parameters_alloc());
  if (p && avcodec_parameters_copy(p.get(), src) < 0) p.reset();
  return p;
}

}  // namespace venuecast::ingest
