#include "ingest/slate_file.h"

#include <algorithm>
#include <stdexcept>

#include "ingest/av_error.h"

namespace venuecast::ingest {
namespace {

constexpr int64_t kMaxBytes = 64 << 20;
constexpr int64_t kMaxUs = 600'000'000;

}  // namespace

SlateClipPtr loadSlateFile(const std::string& path) {
  auto fail = [&](const std::string& why) { return std::runtime_error("slate file " + path + ": " + why); };
  AVFormatContext* raw = nullptr;
  if (const int r = avformat_open_input(&raw, path.c_str(), nullptr, nullptr); r < 0) throw fail(avErrorText(r));
  AvInputContextPtr input(raw);
  if (const int r = avformat_find_stream_info(input.get(), nullptr); r < 0) throw fail(avErrorText(r));
  const int v = av_find_best_stream(input.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  const int a = av_find_best_stream(input.get(), AVMEDIA_TYPE_AUDIO, -1, -1, nullptr, 0);
  if (v < 0 && a < 0) throw fail("no audio or video stream");
  auto streams = std::make_shared<StreamSet>();
  if (v >= 0) {
    const AVCodecParameters* par = input->streams[v]->codecpar;
    if (par->codec_id != AV_CODEC_ID_H264) throw fail(std::string("video must be H.264, not ") + avcodec_get_name(par->codec_id));
    if (par->extradata_size <= 0) throw fail("H.264 without its parameter sets in the container (use MP4 or FLV)");
    streams->video = copyParameters(par);
  }
  if (a >= 0) {
    const AVCodecParameters* par = input->streams[a]->codecpar;
    if (par->codec_id != AV_CODEC_ID_AAC) throw fail(std::string("audio must be AAC, not ") + avcodec_get_name(par->codec_id));
    if (par->extradata_size <= 0) throw fail("AAC without its AudioSpecificConfig (ADTS; use MP4 or FLV)");
    streams->audio = copyParameters(par);
  }

  auto clip = std::make_shared<SlateClip>();
  int64_t bytes = 0, start = AV_NOPTS_VALUE, end = 0;
  bool started = v < 0;  // with video, the loop starts on its first keyframe
  for (;;) {
    AvPacketPtr pkt = makePacket();
    const int r = av_read_frame(input.get(), pkt.get());
    if (r == AVERROR_EOF) break;
    if (r < 0) throw fail(avErrorText(r));
    if (pkt->stream_index != v && pkt->stream_index != a) continue;
    const bool isVideo = pkt->stream_index == v;
    if (!started && !(isVideo && (pkt->flags & AV_PKT_FLAG_KEY))) continue;
    started = true;
    if (pkt->dts == AV_NOPTS_VALUE) pkt->dts = pkt->pts;
    if (pkt->dts == AV_NOPTS_VALUE) continue;
    if (pkt->pts == AV_NOPTS_VALUE) pkt->pts = pkt->dts;
    av_packet_rescale_ts(pkt.get(), input->streams[pkt->stream_index]->time_base, AV_TIME_BASE_Q);
    if (!isVideo) pkt->flags |= AV_PKT_FLAG_KEY;
    if (start == AV_NOPTS_VALUE) start = pkt->dts;
    if (pkt->dts < start) continue;  // audio interleaved just before the first keyframe
    pkt->dts -= start;
    pkt->pts -= start;
    bytes += pkt->size;
    if (bytes > kMaxBytes) throw fail("larger than 64 MiB");
    if (pkt->dts > kMaxUs) throw fail("longer than ten minutes");
    clip->items.push_back({isVideo ? MediaKind::Video : MediaKind::Audio, std::move(pkt)});
  }
  if (clip->items.empty()) throw fail("no frames after the first keyframe");
  // Packets without a duration (often the last one) last as long as the one before them in their stream.
  int64_t lastDts[kMediaKinds] = {AV_NOPTS_VALUE, AV_NOPTS_VALUE}, lastDuration[kMediaKinds] = {0, 0};
  for (auto& item : clip->items) {
    const auto k = static_cast<size_t>(item.kind);
    AVPacket* p = item.packet.get();
    if (p->dts < (lastDts[k] == AV_NOPTS_VALUE ? 0 : lastDts[k] + 1)) throw fail("timestamps go backwards");
    if (p->duration <= 0) p->duration = lastDuration[k];
    lastDts[k] = p->dts;
    lastDuration[k] = p->duration;
    end = std::max(end, p->dts + p->duration);
  }
  if (end <= 0) throw fail("shorter than one frame");
  clip->streams = std::move(streams);
  clip->loopUs = end;
  clip->origin = path;
  return clip;
}

}  // namespace venuecast::ingest
