#pragma once
// Demuxes an in-memory FLV byte stream with libavformat's flv demuxer, the reference for ingest's FLV code.
extern "C" {
#include <libavformat/avformat.h>
}
#include <algorithm>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "ingest/av_ptr.h"
#include "ingest/stream_set.h"

namespace venuecast::ingest::testing {

struct Demuxed {
  int flags = -1;
  std::vector<std::pair<AVMediaType, int64_t>> packets;  // kind, dts ms
  std::vector<AvPacketPtr> avPackets;                    // the same packets, whole (timestamps in ms)
  bool sawMetadata = false;
};

struct Reader {
  const std::vector<uint8_t>* bytes;
  std::size_t at = 0;
  static int read(void* opaque, uint8_t* buf, int size) {
    auto* r = static_cast<Reader*>(opaque);
    const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(size), r->bytes->size() - r->at);
    if (n == 0) return AVERROR_EOF;
    std::memcpy(buf, r->bytes->data() + r->at, n);
    r->at += n;
    return static_cast<int>(n);
  }
};

// Mutes libav's log while it lives: synthetic streams make its parsers complain.
struct QuietLibav {
  int level = av_log_get_level();
  explicit QuietLibav(int quietLevel = AV_LOG_FATAL) { av_log_set_level(quietLevel); }
  ~QuietLibav() { av_log_set_level(level); }
};

// The flv demuxer reading `flv` from memory; input is null if it cannot open it.
struct FlvInput {
  Reader reader;
  AvIoContextPtr avio;
  AvInputContextPtr input;

  explicit FlvInput(const std::vector<uint8_t>& flv) : reader{&flv} {
    auto* buffer = static_cast<unsigned char*>(av_malloc(4096));
    avio.reset(avio_alloc_context(buffer, 4096, 0, &reader, &Reader::read, nullptr, nullptr));
    AVFormatContext* raw = avformat_alloc_context();
    raw->pb = avio.get();
    raw->flags |= AVFMT_FLAG_CUSTOM_IO;
    if (avformat_open_input(&raw, "", av_find_input_format("flv"), nullptr) >= 0) input.reset(raw);
  }
};

inline Demuxed demuxFlv(const std::vector<uint8_t>& flv) {
  QuietLibav quiet;
  Demuxed out;
  if (flv.size() > 4) out.flags = flv[4];
  FlvInput in(flv);
  EXPECT_TRUE(in.input) << "flvdec cannot open the stream";
  if (!in.input) return out;
  AVFormatContext* input = in.input.get();
  AvPacketPtr pkt = makePacket();
  while (av_read_frame(input, pkt.get()) >= 0) {
    const AVStream* st = input->streams[pkt->stream_index];
    out.packets.emplace_back(st->codecpar->codec_type, av_rescale_q(pkt->dts, st->time_base, {1, 1000}));
    out.avPackets.push_back(std::move(pkt));
    pkt = makePacket();
  }
  const AVDictionaryEntry* encoder = av_dict_get(input->metadata, "encoder", nullptr, 0);
  out.sawMetadata = encoder && std::string(encoder->value) == "obs-output module";
  return out;
}


// What avformat_find_stream_info makes of an in-memory FLV stream (the first video and audio stream).
inline StreamSet probeFlv(const std::vector<uint8_t>& flv) {
  QuietLibav quiet;
  StreamSet out;
  FlvInput in(flv);
  if (!in.input) return out;
  AVFormatContext* input = in.input.get();
  if (avformat_find_stream_info(input, nullptr) < 0) return out;
  for (unsigned i = 0; i < input->nb_streams; ++i) {
    const AVCodecParameters* par = input->streams[i]->codecpar;
    auto& slot = par->codec_type == AVMEDIA_TYPE_VIDEO ? out.video : out.audio;
    if (!slot) slot = copyParameters(par);
  }
  return out;
}
}  // namespace venuecast::ingest::testing
