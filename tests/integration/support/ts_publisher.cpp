#include "support/ts_publisher.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

#include <algorithm>
#include <memory>

namespace venuecast::testing {
namespace {

std::string avError(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(err, buf, sizeof buf);
  return buf;
}

int interruptCb(void* opaque) { return static_cast<std::atomic<bool>*>(opaque)->load(); }

struct InputCloser {
  void operator()(AVFormatContext* c) const { avformat_close_input(&c); }
};
struct OutputCloser {
  void operator()(AVFormatContext* c) const {
    if (c && !(c->oformat->flags & AVFMT_NOFILE)) avio_closep(&c->pb);
    avformat_free_context(c);
  }
};
struct PacketFree {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
using Input = std::unique_ptr<AVFormatContext, InputCloser>;
using Output = std::unique_ptr<AVFormatContext, OutputCloser>;

Input openClip(const std::string& path, std::string& error) {
  AVFormatContext* ic = nullptr;
  int r = avformat_open_input(&ic, path.c_str(), nullptr, nullptr);
  if (r >= 0) r = avformat_find_stream_info(ic, nullptr);
  if (r < 0) {
    error = "open clip: " + avError(r);
    avformat_close_input(&ic);
    return nullptr;
  }
  return Input(ic);
}

}  // namespace

TsPublisher::TsPublisher(Options options) : options_(std::move(options)) { StreamProbe::initLibav(); }
TsPublisher::~TsPublisher() { stop(); }

TsPublisher::Transform TsPublisher::jumpAt(int64_t atSourceMs, int64_t byMs) {
  return [=](int64_t ms) { return ms >= atSourceMs ? ms + byMs : ms; };
}
TsPublisher::Transform TsPublisher::offset(int64_t byMs) {
  return [=](int64_t ms) { return ms + byMs; };
}

void TsPublisher::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
}

void TsPublisher::stop() {
  stop_ = true;
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void TsPublisher::addError(const std::string& e) {
  std::lock_guard lock(mutex_);
  errors_.push_back(e);
}

void TsPublisher::run() {
  publish();
  std::lock_guard lock(mutex_);
  finished_ = true;
  cv_.notify_all();
}

bool TsPublisher::publish() {
  std::string error;
  Input in = openClip(options_.clip.string(), error);
  if (!in) return addError(error), false;
  AVFormatContext* oc = nullptr;
  int r = avformat_alloc_output_context2(&oc, nullptr, "flv", options_.url.c_str());
  if (r < 0) return addError("alloc output: " + avError(r)), false;
  Output out(oc);
  oc->interrupt_callback = {interruptCb, &stop_};
  std::vector<int> map(in->nb_streams, -1);
  for (unsigned i = 0; i < in->nb_streams; ++i) {
    auto type = in->streams[i]->codecpar->codec_type;
    if (type != AVMEDIA_TYPE_VIDEO && type != AVMEDIA_TYPE_AUDIO) continue;
    AVStream* st = avformat_new_stream(oc, nullptr);
    avcodec_parameters_copy(st->codecpar, in->streams[i]->codecpar);
    st->codecpar->codec_tag = 0;
    map[i] = st->index;
  }
  AVDictionary* io = nullptr;
  av_dict_set_int(&io, "rw_timeout", std::chrono::microseconds(options_.rwTimeout).count(), 0);
  r = avio_open2(&oc->pb, options_.url.c_str(), AVIO_FLAG_WRITE, &oc->interrupt_callback, &io);
  av_dict_free(&io);
  if (r < 0) return addError("open output: " + avError(r)), false;
  AVDictionary* mo = nullptr;
  av_dict_set(&mo, "flvflags", "no_duration_filesize", 0);
  r = avformat_write_header(oc, &mo);
  av_dict_free(&mo);
  if (r < 0) return addError("write header: " + avError(r)), false;

  const AVRational ms{1, 1000};
  std::unique_ptr<AVPacket, PacketFree> pkt(av_packet_alloc());
  int64_t loopOffset = 0, loopEnd = 0, firstSource = kNoTimestamp;
  auto wallStart = std::chrono::steady_clock::now();
  bool done = false;  // duration reached: end cleanly (trailer is written, bounded by rw_timeout)
  for (int loop = 0; !stop_ && !done; ++loop) {
    if (loop > 0 && !(in = openClip(options_.clip.string(), error))) return addError(error), false;
    while (!stop_ && (r = av_read_frame(in.get(), pkt.get())) >= 0) {
      int outIndex = map[pkt->stream_index];
      if (outIndex < 0 || pkt->dts == AV_NOPTS_VALUE) {
        av_packet_unref(pkt.get());
        continue;
      }
      const AVStream* ist = in->streams[pkt->stream_index];
      int64_t srcDts = av_rescale_q(pkt->dts, ist->time_base, ms) + loopOffset;
      int64_t srcPts = (pkt->pts == AV_NOPTS_VALUE ? srcDts : av_rescale_q(pkt->pts, ist->time_base, ms) + loopOffset);
      int64_t durMs = av_rescale_q(pkt->duration, ist->time_base, ms);
      loopEnd = std::max(loopEnd, srcDts + durMs);
      if (firstSource == kNoTimestamp) firstSource = srcDts;
      if (options_.duration && srcDts - firstSource >= options_.duration->count()) {
        av_packet_unref(pkt.get());
        done = true;
        break;
      }
      {  // wall-clock pacing on the untransformed source time
        std::unique_lock lock(mutex_);
        cv_.wait_until(lock, wallStart + std::chrono::milliseconds(srcDts - firstSource), [this] { return stop_.load(); });
      }
      if (stop_) break;
      Written w;
      w.kind = ist->codecpar->codec_type == AVMEDIA_TYPE_VIDEO ? MediaKind::Video : MediaKind::Audio;
      w.sourceDtsMs = srcDts;
      w.dtsMs = options_.transform ? options_.transform(srcDts) : srcDts;
      w.ptsMs = !options_.transform ? srcPts
              : options_.ptsMode == PtsMode::KeepCts ? w.dtsMs + (srcPts - srcDts) : options_.transform(srcPts);
      w.key = pkt->flags & AV_PKT_FLAG_KEY;
      w.size = pkt->size;
      w.loop = loop;
      const AVStream* ost = oc->streams[outIndex];
      pkt->stream_index = outIndex;
      pkt->dts = av_rescale_q(w.dtsMs, ms, ost->time_base);
      pkt->pts = av_rescale_q(w.ptsMs, ms, ost->time_base);
      pkt->duration = av_rescale_q(durMs, ms, ost->time_base);
      pkt->pos = -1;
      w.sentUs = StreamProbe::nowUs();
      r = av_write_frame(oc, pkt.get());
      av_packet_unref(pkt.get());
      if (r < 0) {
        if (!stop_) addError("write: " + avError(r));
        return false;
      }
      std::lock_guard lock(mutex_);
      written_.push_back(w);
      cv_.notify_all();
    }
    if (!done && r < 0 && r != AVERROR_EOF) return addError("read clip: " + avError(r)), false;
    loopOffset = loopEnd;
  }
  r = av_write_trailer(oc);  // interrupted at once if stop() was called
  if (r < 0 && !stop_) addError("trailer: " + avError(r));
  return true;
}

bool TsPublisher::finished() const {
  std::lock_guard lock(mutex_);
  return finished_;
}

std::vector<TsPublisher::Written> TsPublisher::written() const {
  std::lock_guard lock(mutex_);
  return written_;
}

std::size_t TsPublisher::writtenCount() const {
  std::lock_guard lock(mutex_);
  return written_.size();
}

std::vector<std::string> TsPublisher::errors() const {
  std::lock_guard lock(mutex_);
  return errors_;
}

bool TsPublisher::waitForWritten(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return cv_.wait_for(lock, timeout, [&] { return written_.size() >= n || finished_; }) && written_.size() >= n;
}

bool TsPublisher::waitFinished(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return cv_.wait_for(lock, timeout, [&] { return finished_; });
}

}  // namespace venuecast::testing
