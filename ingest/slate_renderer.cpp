#include "ingest/slate_renderer.h"

extern "C" {
#include <libavfilter/buffersink.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libavutil/samplefmt.h>
}

#include <algorithm>
#include <initializer_list>
#include <stdexcept>
#include <unistd.h>
#include <utility>

#include "ingest/av_error.h"

namespace venuecast::ingest {
namespace {

constexpr int64_t kLoopUs = 2'000'000;
constexpr const char* kSubtitle = "back shortly / 信号中断，马上回来";
// CJK-capable fonts Debian packages (fonts-wqy-microhei is installed by scripts/setup.sh); without one, drawtext
// falls back to fontconfig's "Sans" and the Chinese line shows as boxes.
constexpr const char* kFontFiles[] = {
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
};

void check(int err, const std::string& what) {
  if (err < 0) throw std::runtime_error("slate: " + what + ": " + avErrorText(err));
}

std::string fontFile() {
  for (const char* f : kFontFiles) {
    if (access(f, R_OK) == 0) return f;
  }
  return {};
}

size_t codepoints(const std::string& utf8) {
  return static_cast<size_t>(std::count_if(utf8.begin(), utf8.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

using Options = std::initializer_list<std::pair<const char*, std::string>>;

AVFilterContext* addFilter(AVFilterGraph* graph, const char* filter, const char* name, Options options) {
  const AVFilter* f = avfilter_get_by_name(filter);
  if (!f) throw std::runtime_error(std::string("slate: libavfilter lacks the ") + filter + " filter");
  AVFilterContext* ctx = avfilter_graph_alloc_filter(graph, f, name);
  if (!ctx) throw std::runtime_error("slate: out of memory");
  // Options set one by one, never through a filter-graph string: the venue's name needs no escaping.
  for (const auto& [key, value] : options) {
    if (value.empty()) continue;
    check(av_opt_set(ctx, key, value.c_str(), AV_OPT_SEARCH_CHILDREN), std::string(filter) + " " + key);
  }
  check(avfilter_init_str(ctx, nullptr), filter);
  return ctx;
}

AvFramePtr drawCard(const SlateFormat& f, const std::string& title) {
  AvFilterGraphPtr graph(avfilter_graph_alloc());
  if (!graph) throw std::runtime_error("slate: out of memory");
  graph->nb_threads = 1;
  const std::string font = fontFile();
  const int w = f.width, h = f.height;
  const size_t titleChars = std::max<size_t>(codepoints(title), 1);
  const int titleSize = std::max(8, std::min(h / 9, static_cast<int>(1.6 * w / static_cast<double>(titleChars))));
  const int subtitleSize = std::max(8, std::min(h / 16, static_cast<int>(1.6 * w / 30)));
  AVFilterGraph* g = graph.get();
  auto* color = addFilter(g, "color", "background",
                          {{"color", "0x1b2631"}, {"size", std::to_string(w) + "x" + std::to_string(h)}, {"rate", "1"}});
  auto* name = addFilter(g, "drawtext", "title",
                         {{"fontfile", font}, {"text", title}, {"expansion", "none"}, {"fontcolor", "white"},
                          {"fontsize", std::to_string(titleSize)}, {"x", "(w-text_w)/2"}, {"y", "h*0.38-text_h/2"}});
  auto* note = addFilter(g, "drawtext", "subtitle",
                         {{"fontfile", font}, {"text", kSubtitle}, {"expansion", "none"}, {"fontcolor", "0xd5dbdb"},
                          {"fontsize", std::to_string(subtitleSize)}, {"x", "(w-text_w)/2"}, {"y", "h*0.6-text_h/2"}});
  auto* format = addFilter(g, "format", "yuv420p", {{"pix_fmts", "yuv420p"}});
  auto* sink = addFilter(g, "buffersink", "out", {});
  check(avfilter_link(color, 0, name, 0), "linking the slate filters");
  check(avfilter_link(name, 0, note, 0), "linking the slate filters");
  check(avfilter_link(note, 0, format, 0), "linking the slate filters");
  check(avfilter_link(format, 0, sink, 0), "linking the slate filters");
  check(avfilter_graph_config(g, nullptr), "configuring the slate filters");
  AvFramePtr frame(av_frame_alloc());
  check(av_buffersink_get_frame(sink, frame.get()), "drawing the slate");
  return frame;
}

// Drains every packet the encoder has ready (all of them once flushed).
void drain(AVCodecContext* enc, std::vector<AvPacketPtr>& out) {
  for (;;) {
    AvPacketPtr pkt = makePacket();
    const int r = avcodec_receive_packet(enc, pkt.get());
    if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) return;
    check(r, "encoding the slate");
    out.push_back(std::move(pkt));
  }
}

// One GOP of the same picture: a keyframe, then frames that only say "unchanged".
std::vector<AvPacketPtr> encodeVideo(const SlateFormat& f, AVFrame* picture, int frames, AvCodecParametersPtr& par) {
  const AVCodec* codec = avcodec_find_encoder_by_name("libx264");
  if (!codec) codec = avcodec_find_encoder(AV_CODEC_ID_H264);
  if (!codec) throw std::runtime_error("slate: libavcodec has no H.264 encoder");
  AvCodecContextPtr enc(avcodec_alloc_context3(codec));
  if (!enc) throw std::runtime_error("slate: out of memory");
  enc->width = f.width;
  enc->height = f.height;
  enc->pix_fmt = AV_PIX_FMT_YUV420P;
  enc->time_base = AVRational{f.frameRateDen, f.frameRateNum};
  enc->framerate = AVRational{f.frameRateNum, f.frameRateDen};
  enc->sample_aspect_ratio = AVRational{1, 1};
  enc->gop_size = frames;
  enc->keyint_min = frames;
  enc->max_b_frames = 0;  // dts == pts: the loop's timestamps are simply shifted
  enc->thread_count = 1;  // a one-off render must not take every core from the live venues
  enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;  // SPS/PPS as extradata: the FLV sequence header
  av_opt_set(enc->priv_data, "preset", "veryfast", 0);
  av_opt_set(enc->priv_data, "tune", "stillimage", 0);
  check(avcodec_open2(enc.get(), codec, nullptr), "opening the H.264 encoder");
  std::vector<AvPacketPtr> packets;
  for (int i = 0; i < frames; ++i) {
    picture->pts = i;
    picture->pict_type = i == 0 ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
    check(avcodec_send_frame(enc.get(), picture), "encoding the slate picture");
    drain(enc.get(), packets);
  }
  check(avcodec_send_frame(enc.get(), nullptr), "flushing the H.264 encoder");
  drain(enc.get(), packets);
  if (static_cast<int>(packets.size()) != frames || !(packets.front()->flags & AV_PKT_FLAG_KEY)) {
    throw std::runtime_error("slate: the H.264 encoder gave " + std::to_string(packets.size()) + " packets for " +
                             std::to_string(frames) + " frames");
  }
  for (int i = 0; i < frames; ++i) {
    AVPacket* p = packets[static_cast<size_t>(i)].get();
    p->pts = p->dts = i;  // no B-frames: out in order
    p->duration = 1;
    av_packet_rescale_ts(p, enc->time_base, AV_TIME_BASE_Q);
  }
  par.reset(avcodec_parameters_alloc());
  check(avcodec_parameters_from_context(par.get(), enc.get()), "H.264 parameters");
  return packets;
}

// `frames` AAC frames of silence, numbered from 0 (the encoder's priming frame dropped: silence is silence).
std::vector<AvPacketPtr> encodeSilence(const SlateFormat& f, int frames, AvCodecParametersPtr& par) {
  const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_AAC);
  if (!codec) throw std::runtime_error("slate: libavcodec has no AAC encoder");
  AvCodecContextPtr enc(avcodec_alloc_context3(codec));
  if (!enc) throw std::runtime_error("slate: out of memory");
  enc->sample_rate = f.sampleRate;
  av_channel_layout_default(&enc->ch_layout, f.channels);
  enc->sample_fmt = AV_SAMPLE_FMT_FLTP;
  enc->bit_rate = 64'000 * std::min(f.channels, 2);
  enc->time_base = AVRational{1, f.sampleRate};
  enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;  // the AudioSpecificConfig as extradata
  check(avcodec_open2(enc.get(), codec, nullptr), "opening the AAC encoder");
  AvFramePtr frame(av_frame_alloc());
  frame->nb_samples = enc->frame_size;
  frame->format = enc->sample_fmt;
  frame->sample_rate = enc->sample_rate;
  check(av_channel_layout_copy(&frame->ch_layout, &enc->ch_layout), "AAC channel layout");
  check(av_frame_get_buffer(frame.get(), 0), "AAC frame");
  av_samples_set_silence(frame->extended_data, 0, frame->nb_samples, f.channels, enc->sample_fmt);
  std::vector<AvPacketPtr> packets;
  for (int i = 0; i < frames + 2; ++i) {
    frame->pts = int64_t{i} * enc->frame_size;
    check(avcodec_send_frame(enc.get(), frame.get()), "encoding silence");
    drain(enc.get(), packets);
  }
  check(avcodec_send_frame(enc.get(), nullptr), "flushing the AAC encoder");
  drain(enc.get(), packets);
  if (static_cast<int>(packets.size()) < frames + 1) throw std::runtime_error("slate: the AAC encoder gave too few frames");
  packets.erase(packets.begin());
  packets.resize(static_cast<size_t>(frames));
  for (int i = 0; i < frames; ++i) {
    AVPacket* p = packets[static_cast<size_t>(i)].get();
    p->pts = p->dts = int64_t{i} * enc->frame_size;
    p->duration = enc->frame_size;
    p->flags |= AV_PKT_FLAG_KEY;
    av_packet_rescale_ts(p, enc->time_base, AV_TIME_BASE_Q);
  }
  par.reset(avcodec_parameters_alloc());
  check(avcodec_parameters_from_context(par.get(), enc.get()), "AAC parameters");
  return packets;
}

}  // namespace

SlateClipPtr renderSlate(const SlateFormat& format, const std::string& title) {
  if (!format.video() && !format.audio()) throw std::runtime_error("slate: the venue had neither video nor audio");
  auto clip = std::make_shared<SlateClip>();
  auto streams = std::make_shared<StreamSet>();
  std::vector<AvPacketPtr> video, audio;
  int64_t loopUs = kLoopUs;
  if (format.video()) {
    // A whole number of frames near two seconds; the loop length is exactly their duration.
    const int frames = std::max(1, static_cast<int>(av_rescale(kLoopUs, format.frameRateNum, format.frameRateDen * int64_t{1'000'000})));
    loopUs = av_rescale(frames, format.frameRateDen * int64_t{1'000'000}, format.frameRateNum);
    video = encodeVideo(format, drawCard(format, title).get(), frames, streams->video);
  }
  if (format.audio()) {
    // As many whole AAC frames as fit in the loop (audio leaves a gap of less than a frame at the loop's end, the
    // video grid stays exact); audio alone loops on its own frames.
    const int64_t frameUs = av_rescale(1024, 1'000'000, format.sampleRate);
    const int frames = std::max<int>(1, static_cast<int>(loopUs / std::max<int64_t>(frameUs, 1)));
    audio = encodeSilence(format, frames, streams->audio);
    if (!format.video()) loopUs = av_rescale(int64_t{frames} * 1024, 1'000'000, format.sampleRate);
  }
  // Interleaved by dts, video first on a tie (the loop starts on the keyframe).
  size_t v = 0, a = 0;
  while (v < video.size() || a < audio.size()) {
    const bool takeVideo = a == audio.size() || (v < video.size() && video[v]->dts <= audio[a]->dts);
    if (takeVideo) {
      clip->items.push_back({MediaKind::Video, std::move(video[v++])});
    } else {
      clip->items.push_back({MediaKind::Audio, std::move(audio[a++])});
    }
  }
  clip->streams = std::move(streams);
  clip->loopUs = loopUs;
  clip->origin = "rendered for " + format.describe();
  return clip;
}

}  // namespace venuecast::ingest
