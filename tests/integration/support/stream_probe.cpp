#include "support/stream_probe.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
}

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>

namespace venuecast::testing {
namespace {

std::string avError(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(err, buf, sizeof buf);
  return buf;
}

MediaKind kindOf(AVMediaType t) {
  return t == AVMEDIA_TYPE_VIDEO ? MediaKind::Video : t == AVMEDIA_TYPE_AUDIO ? MediaKind::Audio : MediaKind::Other;
}

ProbeStreamInfo describe(const AVStream* st) {
  const AVCodecParameters* p = st->codecpar;
  ProbeStreamInfo info;
  info.kind = kindOf(p->codec_type);
  info.codecName = avcodec_get_name(p->codec_id);
  if (const char* prof = avcodec_profile_name(p->codec_id, p->profile)) info.profile = prof;
  info.width = p->width;
  info.height = p->height;
  info.sampleRate = p->sample_rate;
  info.channels = p->ch_layout.nb_channels;
  if (p->extradata && p->extradata_size > 0) info.extradata.assign(p->extradata, p->extradata + p->extradata_size);
  return info;
}

int interruptCb(void* opaque) {
  auto* flags = static_cast<std::atomic<bool>* const*>(opaque);
  return flags[0]->load() || flags[1]->load();
}

}  // namespace

// Per-connection libav state; the custom AVIOContext's reads record (end offset, arrival time).
struct StreamProbe::Session {
  AVIOContext* rtmp = nullptr;
  AVIOContext* custom = nullptr;
  AVFormatContext* ic = nullptr;
  int64_t bytes = 0;
  std::deque<std::pair<int64_t, int64_t>> arrivals;  // (stream offset after the read, µs)

  int64_t arrivalOf(int64_t pos) {
    if (pos < 0 || arrivals.empty()) return nowUs();
    while (arrivals.size() > 1 && arrivals[1].first <= pos) arrivals.pop_front();  // packets come in pos order
    for (const auto& [end, us] : arrivals)
      if (end > pos) return us;
    return arrivals.back().second;
  }
  ~Session() {
    avformat_close_input(&ic);  // custom IO: does not touch `custom`
    if (custom) av_freep(&custom->buffer);
    avio_context_free(&custom);
    avio_closep(&rtmp);
  }
};

const char* toString(MediaKind kind) {
  return kind == MediaKind::Video ? "video" : kind == MediaKind::Audio ? "audio" : "other";
}

const ProbeStreamInfo* ProbeSession::stream(MediaKind kind) const {
  for (const auto& s : streams) if (s.kind == kind) return &s;
  return nullptr;
}

int64_t StreamProbe::nowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void StreamProbe::initLibav() {
  static std::once_flag once;
  std::call_once(once, [] {
    avformat_network_init();
    int level = AV_LOG_ERROR;
    if (const char* env = std::getenv("VENUECAST_IT_AVLOG")) {
      std::string v(env);
      level = v == "debug" ? AV_LOG_DEBUG : v == "verbose" ? AV_LOG_VERBOSE : v == "info" ? AV_LOG_INFO
            : v == "warning" ? AV_LOG_WARNING : v == "quiet" ? AV_LOG_QUIET : AV_LOG_ERROR;
    }
    av_log_set_level(level);
  });
}

StreamProbe::StreamProbe(std::string url) : StreamProbe(Options{std::move(url)}) {}
StreamProbe::StreamProbe(Options options) : options_(std::move(options)) { initLibav(); }
StreamProbe::~StreamProbe() { stop(); }

void StreamProbe::start() {
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { run(); });
}

void StreamProbe::stop() {
  stop_ = true;
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void StreamProbe::addError(const std::string& what) {
  std::lock_guard lock(mutex_);
  errors_.push_back(what);
}

void StreamProbe::run() {
  auto delay = options_.retryDelay;
  for (int attempt = 0; !stop_ && attempt < options_.maxAttempts; ++attempt) {
    {
      std::lock_guard lock(mutex_);
      ++attempts_;
    }
    // Back off on consecutive failures (retryDelay, doubling, at most 1 s); a session that ran resets it.
    delay = runSession(attempt) ? options_.retryDelay : std::min<std::chrono::milliseconds>(delay * 2, std::chrono::seconds(1));
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, delay, [this] { return stop_.load(); });
  }
  std::lock_guard lock(mutex_);
  finished_ = true;
  cv_.notify_all();
}

int StreamProbe::readPacket(void* opaque, uint8_t* buf, int size) {
  auto* s = static_cast<Session*>(opaque);
  int n = avio_read_partial(s->rtmp, buf, size);
  if (n > 0) {
    s->bytes += n;
    s->arrivals.emplace_back(s->bytes, nowUs());
  }
  return n == 0 ? AVERROR_EOF : n;
}

bool StreamProbe::runSession(int attempt) {
  closing_ = false;
  std::atomic<bool>* flags[2] = {&stop_, &closing_};
  AVIOInterruptCB cb{interruptCb, flags};
  auto s = std::make_unique<Session>();
  AVDictionary* io = nullptr;
  av_dict_set_int(&io, "rw_timeout", std::chrono::microseconds(options_.rwTimeout).count(), 0);
  av_dict_set(&io, "rtmp_live", options_.rtmpLive.c_str(), 0);
  int r = avio_open2(&s->rtmp, options_.url.c_str(), AVIO_FLAG_READ, &cb, &io);
  av_dict_free(&io);
  if (r < 0) {
    addError("attempt " + std::to_string(attempt) + ": open: " + avError(r));
    return false;
  }
  constexpr int kBuf = 1 << 16;
  auto* buffer = static_cast<unsigned char*>(av_malloc(kBuf));
  s->custom = avio_alloc_context(buffer, kBuf, 0, s.get(), &StreamProbe::readPacket, nullptr, nullptr);
  s->ic = avformat_alloc_context();
  s->ic->pb = s->custom;
  s->ic->flags |= AVFMT_FLAG_CUSTOM_IO;
  s->ic->interrupt_callback = cb;
  AVDictionary* fo = nullptr;
  av_dict_set_int(&fo, "analyzeduration", std::chrono::microseconds(options_.analyzeDuration).count(), 0);
  av_dict_set_int(&fo, "correct_ts_overflow", options_.correctTsOverflow ? 1 : 0, 0);
  r = avformat_open_input(&s->ic, options_.url.c_str(), av_find_input_format("flv"), &fo);
  av_dict_free(&fo);
  if (r >= 0) r = avformat_find_stream_info(s->ic, nullptr);
  if (r < 0) {
    addError("attempt " + std::to_string(attempt) + ": demux open: " + avError(r));
    closing_ = true;
    return false;
  }
  int index;
  {
    std::lock_guard lock(mutex_);
    index = static_cast<int>(sessions_.size());
    ProbeSession ps;
    ps.index = index;
    ps.openedUs = nowUs();
    for (unsigned i = 0; i < s->ic->nb_streams; ++i) ps.streams.push_back(describe(s->ic->streams[i]));
    sessions_.push_back(std::move(ps));
    ++connects_;
  }
  cv_.notify_all();
  std::vector<bool> known(s->ic->nb_streams, true);
  AVPacket* pkt = av_packet_alloc();
  for (;;) {
    r = av_read_frame(s->ic, pkt);
    if (r < 0) break;
    const AVStream* st = s->ic->streams[pkt->stream_index];
    ProbePacket p;
    p.arrivalUs = s->arrivalOf(pkt->pos);
    p.kind = kindOf(st->codecpar->codec_type);
    const AVRational ms{1, 1000};
    if (pkt->dts != AV_NOPTS_VALUE) p.dtsMs = av_rescale_q(pkt->dts, st->time_base, ms);
    if (pkt->pts != AV_NOPTS_VALUE) p.ptsMs = av_rescale_q(pkt->pts, st->time_base, ms);
    p.key = pkt->flags & AV_PKT_FLAG_KEY;
    p.size = pkt->size;
    size_t sd = 0;
    p.newExtradata = av_packet_get_side_data(pkt, AV_PKT_DATA_NEW_EXTRADATA, &sd) != nullptr;
    p.newExtradataSize = static_cast<int>(sd);
    p.session = index;
    p.bytePos = pkt->pos;
    {
      std::lock_guard lock(mutex_);
      if (static_cast<unsigned>(pkt->stream_index) >= known.size()) known.resize(pkt->stream_index + 1, false);
      if (!known[pkt->stream_index]) {  // stream created after find_stream_info (flv over rtmp is NOHEADER)
        known[pkt->stream_index] = true;
        sessions_[index].streams.push_back(describe(st));
      }
      packets_.push_back(p);
      ++sessions_[index].packets;
    }
    cv_.notify_all();
    av_packet_unref(pkt);
  }
  av_packet_free(&pkt);
  {
    std::lock_guard lock(mutex_);
    sessions_[index].endedUs = nowUs();
    sessions_[index].endReason = stop_ ? "stopped" : avError(r);
  }
  cv_.notify_all();
  closing_ = true;  // do not let close block on a dead peer
  return true;
}

std::vector<ProbePacket> StreamProbe::packets() const {
  std::lock_guard lock(mutex_);
  return packets_;
}

std::vector<ProbePacket> StreamProbe::packets(MediaKind kind) const {
  std::lock_guard lock(mutex_);
  std::vector<ProbePacket> out;
  std::copy_if(packets_.begin(), packets_.end(), std::back_inserter(out), [&](const auto& p) { return p.kind == kind; });
  return out;
}

std::size_t StreamProbe::packetCount() const {
  std::lock_guard lock(mutex_);
  return packets_.size();
}

std::vector<ProbeSession> StreamProbe::sessions() const {
  std::lock_guard lock(mutex_);
  return sessions_;
}

std::optional<ProbeSession> StreamProbe::lastSession() const {
  std::lock_guard lock(mutex_);
  if (sessions_.empty()) return std::nullopt;
  return sessions_.back();
}

int StreamProbe::connectCount() const {
  std::lock_guard lock(mutex_);
  return connects_;
}

int StreamProbe::attemptCount() const {
  std::lock_guard lock(mutex_);
  return attempts_;
}

std::vector<std::string> StreamProbe::errors() const {
  std::lock_guard lock(mutex_);
  return errors_;
}

bool StreamProbe::finished() const {
  std::lock_guard lock(mutex_);
  return finished_;
}

bool StreamProbe::waitUntil(const std::function<bool(const std::vector<ProbePacket>&)>& pred,
                            std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(mutex_);
  for (;;) {
    if (pred(packets_)) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    cv_.wait_until(lock, std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(100)));
  }
}

bool StreamProbe::waitForPackets(std::size_t n, std::chrono::milliseconds timeout, std::optional<MediaKind> kind) const {
  return waitUntil([&](const std::vector<ProbePacket>& ps) {
    if (!kind) return ps.size() >= n;
    return static_cast<std::size_t>(std::count_if(ps.begin(), ps.end(), [&](const auto& p) { return p.kind == *kind; })) >= n;
  }, timeout);
}

bool StreamProbe::waitForConnects(int n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return cv_.wait_for(lock, timeout, [&] { return connects_ >= n; });
}

}  // namespace venuecast::testing
