// FlvTagBuilder against the reference it must match: FFmpeg 5.1's FLV muxer (libavformat/flvenc.c), run
// in-process on the same codec parameters and packets, writing into memory.
#include "relay/flv_tag_builder.h"

#include <gtest/gtest.h>

extern "C" {
#include <libavformat/avformat.h>
}

#include "ingest/av_ptr.h"
#include "relay/flv_tag_h264.h"
#include "rtmp/rtmp_amf0.h"

namespace venuecast::relay {
namespace {

using Bytes = std::vector<uint8_t>;

// x264 (ffmpeg -profile:v high / baseline, 64x64) parameter sets.
const Bytes kHighSps = {0x67, 0x64, 0x00, 0x0a, 0xac, 0xb2, 0x08, 0x4d, 0x80, 0x88, 0x00, 0x00,
                        0x03, 0x00, 0x08, 0x00, 0x00, 0x03, 0x00, 0x50, 0x78, 0x91, 0x32, 0x40};
const Bytes kHighPps = {0x68, 0xeb, 0xc3, 0xcb, 0x22, 0xc0};
const Bytes kBaseSps = {0x67, 0x42, 0xc0, 0x0a, 0xd9, 0x04, 0x26, 0xc0, 0x44, 0x00, 0x00, 0x03,
                        0x00, 0x04, 0x00, 0x00, 0x03, 0x00, 0x28, 0x3c, 0x48, 0x99, 0x20};
const Bytes kBasePps = {0x68, 0xcb, 0x83, 0xcb, 0x20};
const Bytes kAsc = {0x11, 0x90};  // AAC LC, 48 kHz, stereo

Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}
Bytes startCode(const Bytes& nal, bool four = true) { return cat({four ? Bytes{0, 0, 0, 1} : Bytes{0, 0, 1}, nal}); }
Bytes lengthPrefixed(const Bytes& nal) {
  const auto n = static_cast<uint32_t>(nal.size());
  return cat({{static_cast<uint8_t>(n >> 24), static_cast<uint8_t>(n >> 16), static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n)}, nal});
}
Bytes nal(uint8_t header, std::size_t size, uint8_t seed) {
  Bytes b(size);
  b[0] = header;
  for (std::size_t i = 1; i < size; ++i) b[i] = static_cast<uint8_t>(seed + i * 13) | 0x80;  // no start codes
  return b;
}

ingest::AvCodecParametersPtr videoPar(const Bytes& extradata) {
  ingest::AvCodecParametersPtr p(avcodec_parameters_alloc());
  p->codec_type = AVMEDIA_TYPE_VIDEO;
  p->codec_id = AV_CODEC_ID_H264;
  p->width = 64;
  p->height = 64;
  p->bit_rate = 512000;
  p->extradata = static_cast<uint8_t*>(av_mallocz(extradata.size() + AV_INPUT_BUFFER_PADDING_SIZE));
  std::copy(extradata.begin(), extradata.end(), p->extradata);
  p->extradata_size = static_cast<int>(extradata.size());
  return p;
}

ingest::AvCodecParametersPtr audioPar(AVCodecID id, int rate, const Bytes& extradata) {
  ingest::AvCodecParametersPtr p(avcodec_parameters_alloc());
  p->codec_type = AVMEDIA_TYPE_AUDIO;
  p->codec_id = id;
  p->sample_rate = rate;
  p->bit_rate = 128000;
  av_channel_layout_default(&p->ch_layout, 2);
  if (!extradata.empty()) {
    p->extradata = static_cast<uint8_t*>(av_mallocz(extradata.size() + AV_INPUT_BUFFER_PADDING_SIZE));
    std::copy(extradata.begin(), extradata.end(), p->extradata);
    p->extradata_size = static_cast<int>(extradata.size());
  }
  return p;
}

struct In {
  AVMediaType kind;
  Bytes data;
  int64_t dts, pts;
  bool key = false;
};

ingest::AvPacketPtr makeAvPacket(const In& in) {
  auto pkt = ingest::makePacket();
  av_new_packet(pkt.get(), static_cast<int>(in.data.size()));
  std::copy(in.data.begin(), in.data.end(), pkt->data);
  pkt->dts = in.dts;
  pkt->pts = in.pts;
  if (in.key) pkt->flags |= AV_PKT_FLAG_KEY;
  return pkt;
}

struct Tag {
  uint8_t type;
  uint32_t ts;
  Bytes body;
};

// flvenc's output for the same streams and packets (bitexact: no "encoder" entry; no_duration_filesize).
std::vector<Tag> flvenc(const AVCodecParameters* v, const AVCodecParameters* a, const std::vector<In>& packets,
                        bool sequenceEnd = false) {
  AVFormatContext* oc = nullptr;
  EXPECT_GE(avformat_alloc_output_context2(&oc, nullptr, "flv", nullptr), 0);
  ingest::AvOutputContextPtr owner(oc);
  oc->flags |= AVFMT_FLAG_BITEXACT;
  int index[2] = {-1, -1};
  for (const AVCodecParameters* par : {v, a}) {
    if (!par) continue;
    AVStream* st = avformat_new_stream(oc, nullptr);
    avcodec_parameters_copy(st->codecpar, par);
    st->codecpar->codec_tag = 0;
    st->time_base = {1, 1000};
    if (par == v) st->avg_frame_rate = {30, 1};
    index[par == v ? 0 : 1] = st->index;
  }
  EXPECT_GE(avio_open_dyn_buf(&oc->pb), 0);
  ingest::AvDictionary opts;
  opts.set("flvflags", sequenceEnd ? "no_duration_filesize" : "no_duration_filesize+no_sequence_end");
  EXPECT_GE(avformat_write_header(oc, opts.slot()), 0);
  for (const auto& in : packets) {
    auto pkt = makeAvPacket(in);
    pkt->stream_index = index[in.kind == AVMEDIA_TYPE_VIDEO ? 0 : 1];
    EXPECT_GE(av_write_frame(oc, pkt.get()), 0);
  }
  av_write_trailer(oc);
  uint8_t* buf = nullptr;
  const int size = avio_close_dyn_buf(oc->pb, &buf);
  oc->pb = nullptr;
  std::vector<Tag> tags;
  for (int pos = 13; pos + 11 <= size;) {  // 9-byte header + PreviousTagSize0
    const uint8_t* t = buf + pos;
    const int len = (t[1] << 16) | (t[2] << 8) | t[3];
    const uint32_t ts = static_cast<uint32_t>((t[7] << 24) | (t[4] << 16) | (t[5] << 8) | t[6]);
    tags.push_back({t[0], ts, Bytes(t + 11, t + 11 + len)});
    pos += 11 + len + 4;
  }
  av_free(buf);
  return tags;
}

Bytes bodyOf(const rtmp::RtmpMediaMessage& m) {
  Bytes b(m.prefixBytes().begin(), m.prefixBytes().end());
  b.insert(b.end(), m.payload.begin(), m.payload.end());
  return b;
}

// Our messages for the same input: header() then packet() for each.
std::vector<rtmp::RtmpMediaMessage> ours(const AVCodecParameters* v, const AVCodecParameters* a, const std::vector<In>& packets,
                                   std::vector<ingest::AvPacketPtr>* keep = nullptr) {
  FlvTagBuilder builder(v, a, 30, "");
  std::vector<rtmp::RtmpMediaMessage> out;
  std::string error;
  EXPECT_TRUE(builder.header(out, error)) << error;
  for (const auto& in : packets) {
    auto pkt = makeAvPacket(in);
    EXPECT_TRUE(builder.packet({in.kind, pkt.get(), in.dts, in.pts, nullptr}, out, error)) << error;
    if (keep) keep->push_back(std::move(pkt));
  }
  return out;
}

void expectSameAsFlvenc(const AVCodecParameters* v, const AVCodecParameters* a, const std::vector<In>& packets) {
  const auto ref = flvenc(v, a, packets);
  const auto got = ours(v, a, packets);
  ASSERT_EQ(got.size(), ref.size());
  for (std::size_t i = 0; i < ref.size(); ++i) {
    SCOPED_TRACE("tag " + std::to_string(i));
    EXPECT_EQ(got[i].type, ref[i].type);
    EXPECT_EQ(got[i].timestamp, ref[i].ts);
    Bytes body = bodyOf(got[i]);
    if (ref[i].type == 18) {  // over RTMP the script tag carries "@setDataFrame" in front (02 00 0d + 13 bytes)
      ASSERT_GE(body.size(), 16u);
      EXPECT_EQ(Bytes(body.begin() + 3, body.begin() + 16), Bytes({'@', 's', 'e', 't', 'D', 'a', 't', 'a', 'F', 'r', 'a', 'm', 'e'}));
      body.erase(body.begin(), body.begin() + 16);
    }
    EXPECT_EQ(body, ref[i].body);
  }
}

const Bytes kIdr = nal(0x65, 300, 1), kP = nal(0x41, 40, 2), kSei = nal(0x06, 20, 3);

TEST(FlvTagBuilder, AvccH264AndAacMatchFlvenc) {
  Bytes avcc;
  std::string error;
  ASSERT_TRUE(FlvTagH264::avcc(cat({startCode(kHighSps), startCode(kHighPps)}), avcc, error)) << error;
  auto v = videoPar(avcc);
  auto a = audioPar(AV_CODEC_ID_AAC, 48000, kAsc);
  expectSameAsFlvenc(v.get(), a.get(),
                     {{AVMEDIA_TYPE_VIDEO, cat({lengthPrefixed(kSei), lengthPrefixed(kIdr)}), 0, 66, true},
                      {AVMEDIA_TYPE_AUDIO, Bytes(200, 0x21), 0, 0},
                      {AVMEDIA_TYPE_VIDEO, lengthPrefixed(kP), 33, 133},
                      {AVMEDIA_TYPE_VIDEO, lengthPrefixed(kP), 66, 66},
                      {AVMEDIA_TYPE_AUDIO, Bytes(180, 0x22), 21, 21}});
}

TEST(FlvTagBuilder, EndOfSequenceMatchesFlvencsTrailer) {
  Bytes avcc;
  std::string error;
  ASSERT_TRUE(FlvTagH264::avcc(cat({startCode(kHighSps), startCode(kHighPps)}), avcc, error)) << error;
  auto v = videoPar(avcc);
  auto a = audioPar(AV_CODEC_ID_AAC, 48000, kAsc);
  const std::vector<In> packets = {{AVMEDIA_TYPE_VIDEO, lengthPrefixed(kIdr), 0, 33, true},
                                   {AVMEDIA_TYPE_VIDEO, lengthPrefixed(kP), 33, 66},
                                   {AVMEDIA_TYPE_AUDIO, Bytes(180, 0x22), 40, 40}};
  const auto ref = flvenc(v.get(), a.get(), packets, true);
  ASSERT_FALSE(ref.empty());
  FlvTagBuilder builder(v.get(), a.get());
  const auto eos = builder.endOfSequence(33);  // flvenc: the video stream's last DTS
  ASSERT_TRUE(eos);
  EXPECT_EQ(eos->type, ref.back().type);
  EXPECT_EQ(eos->timestamp, ref.back().ts);
  EXPECT_EQ(bodyOf(*eos), ref.back().body);
  EXPECT_FALSE(FlvTagBuilder(nullptr, a.get()).endOfSequence(0)) << "no video, no end of sequence";
}

TEST(FlvTagBuilder, AnnexBExtradataAndPayloadsMatchFlvenc) {
  for (const auto& [sps, pps] : {std::pair{kHighSps, kHighPps}, std::pair{kBaseSps, kBasePps}}) {
    auto v = videoPar(cat({startCode(sps), startCode(pps, false)}));
    expectSameAsFlvenc(v.get(), nullptr,
                       {{AVMEDIA_TYPE_VIDEO, cat({startCode(kSei), startCode(kIdr, false), Bytes{0, 0}}), 0, 0, true},
                        {AVMEDIA_TYPE_VIDEO, startCode(kP), 40, 40}});
  }
}

TEST(FlvTagBuilder, Mp3AndPcmSoundFormatsMatchFlvenc) {
  for (auto [id, rate] : {std::pair{AV_CODEC_ID_MP3, 44100}, std::pair{AV_CODEC_ID_MP3, 48000},
                          std::pair{AV_CODEC_ID_MP3, 22050}, std::pair{AV_CODEC_ID_PCM_S16LE, 11025}}) {
    auto a = audioPar(id, rate, {});
    if (id == AV_CODEC_ID_PCM_S16LE) a->bits_per_coded_sample = 16;
    expectSameAsFlvenc(nullptr, a.get(), {{AVMEDIA_TYPE_AUDIO, Bytes(100, 0x55), 0, 0}, {AVMEDIA_TYPE_AUDIO, Bytes(90, 0x56), 26, 26}});
  }
  std::string error;
  auto bad = audioPar(AV_CODEC_ID_AAC, 44100, kAsc);
  bad->codec_id = AV_CODEC_ID_OPUS;
  FlvTagBuilder builder(nullptr, bad.get());
  EXPECT_NE(builder.unsupported().find("opus"), std::string::npos);
}

TEST(FlvTagBuilder, VideoTagBytesCarryFrameTypeAndCompositionTime) {
  auto v = videoPar({1, 0x64, 0, 0x0a, 0xff, 0xe0, 0});
  FlvTagBuilder builder(v.get(), nullptr);
  std::vector<rtmp::RtmpMediaMessage> out;
  std::string error;
  auto key = makeAvPacket({AVMEDIA_TYPE_VIDEO, lengthPrefixed(kIdr), 1000, 1067, true});
  auto inter = makeAvPacket({AVMEDIA_TYPE_VIDEO, lengthPrefixed(kP), 1033, 1000});
  ASSERT_TRUE(builder.packet({AVMEDIA_TYPE_VIDEO, key.get(), 1000, 1067, nullptr}, out, error));
  ASSERT_TRUE(builder.packet({AVMEDIA_TYPE_VIDEO, inter.get(), 1033, 1000, nullptr}, out, error));
  EXPECT_EQ(Bytes(out[0].prefixBytes().begin(), out[0].prefixBytes().end()), (Bytes{0x17, 1, 0, 0, 67}));
  EXPECT_EQ(Bytes(out[1].prefixBytes().begin(), out[1].prefixBytes().end()), (Bytes{0x27, 1, 0xFF, 0xFF, 0xDF}));  // -33
  EXPECT_EQ(out[0].timestamp, 1000u);
  // The payload is the packet's own buffer, kept alive by a reference, not a copy.
  EXPECT_EQ(out[0].payload.data(), key->data);
  EXPECT_EQ(av_buffer_get_ref_count(key->buf), 2);
  out.clear();
  EXPECT_EQ(av_buffer_get_ref_count(key->buf), 1);
}

TEST(FlvTagBuilder, SequenceHeadersAndMetadata) {
  auto v = videoPar(cat({startCode(kBaseSps), startCode(kBasePps)}));
  auto a = audioPar(AV_CODEC_ID_AAC, 48000, kAsc);
  FlvTagBuilder builder(v.get(), a.get(), 30);
  std::vector<rtmp::RtmpMediaMessage> out;
  std::string error;
  ASSERT_TRUE(builder.header(out, error)) << error;
  ASSERT_EQ(out.size(), 3u);
  const Bytes avcc = cat({{1, 0x42, 0xc0, 0x0a, 0xff, 0xe1, 0, 23}, kBaseSps, {1, 0, 5}, kBasePps});
  EXPECT_EQ(bodyOf(out[1]), cat({{0x17, 0, 0, 0, 0}, avcc}));
  EXPECT_EQ(bodyOf(out[2]), cat({{0xAF, 0}, kAsc}));
  std::vector<rtmp::RtmpAmf0::Value> values;
  ASSERT_TRUE(rtmp::RtmpAmf0::decodeAll(out[0].payload, values, error)) << error;
  ASSERT_EQ(values.size(), 3u);
  EXPECT_EQ(values[0].string, "@setDataFrame");
  EXPECT_EQ(values[1].string, "onMetaData");
  const auto& meta = values[2];
  EXPECT_EQ(meta.find("width")->number, 64);
  EXPECT_EQ(meta.find("framerate")->number, 30);
  EXPECT_EQ(meta.find("videocodecid")->number, 7);
  EXPECT_EQ(meta.find("audiocodecid")->number, 10);
  EXPECT_EQ(meta.find("audiosamplerate")->number, 48000);
  EXPECT_TRUE(meta.find("stereo")->boolean);
  EXPECT_EQ(meta.stringProperty("encoder"), "venuecast");
}

TEST(FlvTagBuilder, AdtsHeadersAreSkippedAndYieldTheAudioConfig) {
  auto a = audioPar(AV_CODEC_ID_AAC, 48000, {});  // no extradata: as from an MPEG-TS source
  FlvTagBuilder builder(nullptr, a.get(), 0, "");
  std::vector<rtmp::RtmpMediaMessage> out;
  std::string error;
  ASSERT_TRUE(builder.header(out, error));
  ASSERT_EQ(out.size(), 1u);  // metadata only: the config is not known yet
  const Bytes raw(50, 0x33);
  const uint32_t len = 7 + 50;  // ADTS: LC, 48 kHz (index 3), 2 channels, no CRC
  const Bytes adts = {0xFF, 0xF1, 0x4C, static_cast<uint8_t>(0x80 | (len >> 11)), static_cast<uint8_t>(len >> 3),
                      static_cast<uint8_t>((len & 7) << 5 | 0x1F), 0xFC};
  auto pkt = makeAvPacket({AVMEDIA_TYPE_AUDIO, cat({adts, raw}), 0, 0});
  ASSERT_TRUE(builder.packet({AVMEDIA_TYPE_AUDIO, pkt.get(), 23, 23, nullptr}, out, error)) << error;
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(bodyOf(out[1]), cat({{0xAF, 0}, kAsc}));  // derived like aac_adtstoasc
  EXPECT_EQ(out[1].timestamp, 23u);
  EXPECT_EQ(bodyOf(out[2]), cat({{0xAF, 1}, raw}));
  EXPECT_EQ(out[2].payload.data(), pkt->data + 7);  // skipped in place
  // A second frame: no second sequence header.
  ASSERT_TRUE(builder.packet({AVMEDIA_TYPE_AUDIO, pkt.get(), 44, 44, nullptr}, out, error));
  EXPECT_EQ(out.size(), 4u);
  // Truncated ADTS frame length: refused rather than guessed.
  auto bad = makeAvPacket({AVMEDIA_TYPE_AUDIO, cat({adts, Bytes(10, 1)}), 0, 0});
  EXPECT_FALSE(builder.packet({AVMEDIA_TYPE_AUDIO, bad.get(), 66, 66, nullptr}, out, error));
}

TEST(FlvTagBuilder, NewExtradataSideDataSendsANewSequenceHeaderFirst) {
  auto v = videoPar(cat({startCode(kBaseSps), startCode(kBasePps)}));
  FlvTagBuilder builder(v.get(), nullptr, 0, "");
  std::vector<rtmp::RtmpMediaMessage> out;
  std::string error;
  auto pkt = makeAvPacket({AVMEDIA_TYPE_VIDEO, lengthPrefixed(kIdr), 500, 500, true});
  const Bytes fresh = cat({startCode(kHighSps), startCode(kHighPps)});
  uint8_t* side = av_packet_new_side_data(pkt.get(), AV_PKT_DATA_NEW_EXTRADATA, fresh.size());
  std::copy(fresh.begin(), fresh.end(), side);
  ASSERT_TRUE(builder.packet({AVMEDIA_TYPE_VIDEO, pkt.get(), 500, 500, nullptr}, out, error)) << error;
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].prefix[1], 0);  // AVC sequence header
  EXPECT_EQ(out[0].timestamp, 500u);
  EXPECT_EQ(out[0].payload[1], 0x64);  // High profile now
  ASSERT_TRUE(builder.packet({AVMEDIA_TYPE_VIDEO, pkt.get(), 533, 533, nullptr}, out, error));
  EXPECT_EQ(out.size(), 3u);  // same extradata again: no repeat
}

TEST(FlvTagH264, AnnexBDetectionIsNotFooledByAvccLengths) {
  const Bytes avcc = lengthPrefixed(nal(0x41, 0x1A0, 5));  // length 00 00 01 A0 looks like a start code
  EXPECT_TRUE(FlvTagH264::startsWithStartCode(avcc));
  EXPECT_FALSE(FlvTagH264::payloadIsAnnexB(avcc, Bytes{1, 0x64, 0, 0x1f}));
  EXPECT_TRUE(FlvTagH264::payloadIsAnnexB(startCode(kIdr), Bytes{1, 0x64, 0, 0x1f}));
  EXPECT_EQ(FlvTagH264::annexBToAvcc(cat({startCode(kSei, false), startCode(kP)})),
            cat({lengthPrefixed(kSei), lengthPrefixed(kP)}));
  Bytes out;
  std::string error;
  EXPECT_FALSE(FlvTagH264::avcc(startCode(kHighSps), out, error));  // no PPS
  EXPECT_FALSE(FlvTagH264::avcc(Bytes{0, 0, 1}, out, error));
}

}  // namespace
}  // namespace venuecast::relay
