// RtmpPublisher + FlvTagBuilder against a private nginx-rtmp: the frames of a generated FLV clip (read with
// libavformat's flv demuxer, as the relay's sources read them) are published natively, nginx records them,
// and ffprobe must find the same codec parameters and the same packets (dts, pts, size, payload hash) as in
// the source; plus refusal, Bilibili-style playpaths, a dropped connection, a stalled peer and timeouts.
#include "relay/flv_tag_builder.h"
#include "relay/rtmp_publisher.h"

#include <gtest/gtest.h>
#include <unistd.h>

extern "C" {
#include <libavformat/avformat.h>
}

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <cstdlib>
#include <future>
#include <iostream>
#include <thread>

#include "support/child_process.h"
#include "support/ffprobe_reader.h"
#include "support/free_port.h"
#include "support/nginx_rtmp.h"
#include "support/poll_until.h"
#include "support/test_clip.h"

namespace venuecast::testing {
namespace {

using namespace std::chrono_literals;
using relay::FlvTagBuilder;
using rtmp::RtmpMediaMessage;
using relay::RtmpPublisher;
namespace asio = boost::asio;

class IoThread {
 public:
  IoThread() : guard_(asio::make_work_guard(io_)), thread_([this] { io_.run(); }) {}
  ~IoThread() {
    guard_.reset();
    io_.stop();
    thread_.join();
  }
  asio::io_context& io() { return io_; }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::thread thread_;
};

// A clip as the relay sees it: codec parameters and refcounted packets from libavformat's flv demuxer.
struct Source {
  struct Frame {
    AVMediaType kind;
    AVPacket* packet;
    int64_t dtsMs, ptsMs;
  };
  AVFormatContext* context = nullptr;
  const AVCodecParameters* video = nullptr;
  const AVCodecParameters* audio = nullptr;
  double frameRate = 0;
  std::vector<Frame> frames;

  explicit Source(const std::filesystem::path& path) {
    if (avformat_open_input(&context, path.c_str(), nullptr, nullptr) < 0 ||
        avformat_find_stream_info(context, nullptr) < 0) {
      throw std::runtime_error("cannot open " + path.string());
    }
    for (unsigned i = 0; i < context->nb_streams; ++i) {
      const AVStream* st = context->streams[i];
      if (st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO) {
        video = st->codecpar;
        if (st->avg_frame_rate.num > 0) frameRate = av_q2d(st->avg_frame_rate);
      } else if (st->codecpar->codec_type == AVMEDIA_TYPE_AUDIO) {
        audio = st->codecpar;
      }
    }
    AVPacket* p = av_packet_alloc();
    for (; av_read_frame(context, p) >= 0; p = av_packet_alloc()) {
      const AVStream* st = context->streams[p->stream_index];
      frames.push_back({st->codecpar->codec_type, p, av_rescale_q(p->dts, st->time_base, {1, 1000}),
                        av_rescale_q(p->pts, st->time_base, {1, 1000})});
    }
    av_packet_free(&p);
  }
  ~Source() {
    for (auto& f : frames) av_packet_free(&f.packet);
    avformat_close_input(&context);
  }
  // Timestamps moved by `offsetMs` (for sending the clip again after itself).
  bool tags(FlvTagBuilder& builder, std::size_t i, int64_t offsetMs, std::vector<rtmp::RtmpMediaMessage>& out) const {
    const auto& f = frames[i];
    std::string error;
    const bool ok = builder.packet({f.kind, f.packet, f.dtsMs + offsetMs, f.ptsMs + offsetMs, nullptr}, out, error);
    EXPECT_TRUE(ok) << error;
    return ok;
  }
};

template <typename T>
std::optional<T> await(std::future<T>& f, std::chrono::milliseconds timeout) {
  if (f.wait_for(timeout) != std::future_status::ready) return std::nullopt;
  return f.get();
}

RtmpPublisher::Target target(const NginxRtmp& nginx, const std::string& app, const std::string& playpath) {
  return {"127.0.0.1", nginx.rtmpPort(), app, "rtmp://127.0.0.1:" + std::to_string(nginx.rtmpPort()) + "/" + app,
          playpath};
}

// Publishes and waits for the outcome; "" = publishing.
std::string publish(const std::shared_ptr<RtmpPublisher>& p, RtmpPublisher::Target t) {
  auto done = std::make_shared<std::promise<std::string>>();
  auto result = done->get_future();
  p->asyncPublish(std::move(t), [done](const std::string& e) { done->set_value(e); });
  return await(result, 15s).value_or("asyncPublish handler not called within 15 s");
}

std::string close(const std::shared_ptr<RtmpPublisher>& p) {
  auto done = std::make_shared<std::promise<std::string>>();
  auto result = done->get_future();
  p->close([done](const std::string& e) { done->set_value(e); });
  return await(result, 5s).value_or("close handler not called within 5 s");
}

void sendClip(RtmpPublisher& p, const Source& source, FlvTagBuilder& builder) {
  std::vector<rtmp::RtmpMediaMessage> messages;
  std::string error;
  ASSERT_TRUE(builder.header(messages, error)) << error;
  p.send(std::move(messages));
  for (std::size_t i = 0; i < source.frames.size(); ++i) {
    std::vector<rtmp::RtmpMediaMessage> tags;
    ASSERT_TRUE(source.tags(builder, i, 0, tags));
    p.send(std::move(tags));
  }
}

TEST(RtmpPublisher, RecordingMatchesTheSourcePacketForPacket) {
  const TestClip clip = TestClip::standard();
  NginxRtmp nginx({NginxApp{.name = "live", .record = true}});
  nginx.start();
  IoThread io;
  Source source(clip.path);
  auto publisher = RtmpPublisher::create(io.io());
  ASSERT_EQ(publish(publisher, target(nginx, "live", "clip")), "");
  FlvTagBuilder builder(source.video, source.audio, source.frameRate);
  sendClip(*publisher, source, builder);
  ASSERT_TRUE(pollUntil([&] { return publisher->queuedBytes() == 0; }, 10s)) << publisher->queuedBytes();
  EXPECT_EQ(publisher->messagesWritten(), source.frames.size() + 3);  // + metadata and two sequence headers
  EXPECT_EQ(close(publisher), "");
  EXPECT_EQ(publisher->state(), RtmpPublisher::State::Closed);
  std::cerr << "[ info ] " << publisher->messagesWritten() << " messages, " << publisher->bytesWritten()
            << " bytes in " << publisher->writeBatches() << " gathered writes / " << publisher->sendCalls()
            << " sendmsg calls\n";

  // nginx finishes the recording when the session ends, which the access log shows.
  ASSERT_TRUE(pollUntil([&] { return !nginx.accessLog().empty(); }, 5s)) << nginx.errorLogText();
  const auto src = FfprobeReader::read(clip.path);
  const auto rec = FfprobeReader::read(nginx.recordPath("live", "clip"));
  ASSERT_TRUE(src.ok) << src.error;
  ASSERT_TRUE(rec.ok) << rec.error;
  for (const char* kind : {"video", "audio"}) {
    SCOPED_TRACE(kind);
    const auto* a = src.stream(kind);
    const auto* b = rec.stream(kind);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(b->codecName, a->codecName);
    EXPECT_EQ(b->profile, a->profile);
    EXPECT_EQ(b->width, a->width);
    EXPECT_EQ(b->height, a->height);
    EXPECT_EQ(b->sampleRate, a->sampleRate);
    EXPECT_EQ(b->channels, a->channels);
    EXPECT_EQ(b->extradataHash, a->extradataHash);
    const auto pa = src.packetsOf(kind), pb = rec.packetsOf(kind);
    ASSERT_EQ(pb.size(), pa.size());
    int mismatches = 0;
    for (std::size_t i = 0; i < pa.size() && mismatches < 5; ++i) {
      const bool same = pa[i].dtsMs == pb[i].dtsMs && pa[i].ptsMs == pb[i].ptsMs && pa[i].size == pb[i].size &&
                        pa[i].key == pb[i].key && pa[i].dataHash == pb[i].dataHash;
      if (!same) ++mismatches;
      EXPECT_TRUE(same) << "packet " << i << ": dts " << pa[i].dtsMs.value_or(-1) << "/" << pb[i].dtsMs.value_or(-1)
                        << " pts " << pa[i].ptsMs.value_or(-1) << "/" << pb[i].ptsMs.value_or(-1) << " size "
                        << pa[i].size << "/" << pb[i].size << " hash " << pa[i].dataHash << "/" << pb[i].dataHash;
    }
  }
  const auto decode = FfprobeReader::decodeCheck(nginx.recordPath("live", "clip"));
  EXPECT_TRUE(decode.ok()) << decode.exitCode << ": " << decode.stderrText;
}

TEST(RtmpPublisher, SecondPublisherOfTheSameNameIsRefused) {
  NginxRtmp nginx({NginxApp{.name = "live"}});
  nginx.start();
  IoThread io;
  auto first = RtmpPublisher::create(io.io());
  auto second = RtmpPublisher::create(io.io());
  auto byName = target(nginx, "live", "dup");
  byName.host = "localhost";  // the resolver path (nginx listens on 127.0.0.1 only: ::1 may be tried first)
  ASSERT_EQ(publish(first, byName), "");
  const std::string refused = publish(second, target(nginx, "live", "dup"));
  EXPECT_EQ(refused, "NetStream.Publish.BadName: Already publishing");
  EXPECT_EQ(second->state(), RtmpPublisher::State::Failed);
  EXPECT_EQ(first->state(), RtmpPublisher::State::Live);
  EXPECT_EQ(close(first), "");
}

// The key of a Bilibili-style endpoint is a query string; nginx must see what FFmpeg sends for
// -rtmp_app live-bvc -rtmp_playpath '?streamname=...' (notes/ffmpeg-rtmp.md §1).
TEST(RtmpPublisher, BilibiliStylePlaypathArrivesLikeFfmpegSendsIt) {
  const TestClip clip = TestClip::standard();
  const std::string key = "?streamname=live_1_2&key=abc&schedule=rtmp&pflag=1";
  NginxRtmp nginx({NginxApp{.name = "live-bvc"}});
  nginx.start();
  {
    IoThread io;
    Source source(clip.path);
    auto publisher = RtmpPublisher::create(io.io());
    ASSERT_EQ(publish(publisher, target(nginx, "live-bvc", key)), "");
    FlvTagBuilder builder(source.video, source.audio, source.frameRate);
    sendClip(*publisher, source, builder);
    EXPECT_EQ(close(publisher), "");
  }
  ASSERT_TRUE(pollUntil([&] { return nginx.accessLog().size() == 1; }, 5s)) << nginx.accessLogText();
  ChildProcess ffmpeg({{"ffmpeg", "-nostdin", "-v", "error", "-i", clip.path.string(), "-t", "1", "-c", "copy", "-f",
                        "flv", "-rtmp_app", "live-bvc", "-rtmp_playpath", key,
                        "rtmp://127.0.0.1:" + std::to_string(nginx.rtmpPort()) + "/"},
                       {}, nginx.dir() / "ffmpeg.log", {}, {}});
  auto exit = ffmpeg.waitExit(20s);
  ASSERT_TRUE(exit && exit->ok()) << ffmpeg.logText();
  ASSERT_TRUE(pollUntil([&] { return nginx.accessLog().size() == 2; }, 5s)) << nginx.accessLogText();
  const auto log = nginx.accessLog();
  const auto& ours = log[0];
  const auto& theirs = log[1];
  EXPECT_EQ(ours.command, "PUBLISH");
  EXPECT_EQ(ours.app, "live-bvc");
  EXPECT_EQ(ours.name, "");
  EXPECT_EQ(ours.args, "streamname=live_1_2&key=abc&schedule=rtmp&pflag=1");
  EXPECT_EQ(ours.flashver, "FMLE/3.0 (compatible; FMSc/1.0)");
  EXPECT_EQ(ours.command, theirs.command);
  EXPECT_EQ(ours.app, theirs.app);
  EXPECT_EQ(ours.name, theirs.name);
  EXPECT_EQ(ours.args, theirs.args);
  EXPECT_EQ(ours.tcurl, theirs.tcurl);
  std::cerr << "[ info ] ours:   " << ours.line << "\n[ info ] ffmpeg: " << theirs.line << "\n";
}

TEST(RtmpPublisher, ServerDroppingThePublisherReachesTheErrorHandler) {
  NginxRtmp nginx({NginxApp{.name = "live"}});
  nginx.start();
  IoThread io;
  auto publisher = RtmpPublisher::create(io.io());
  std::promise<std::string> failed;
  auto error = failed.get_future();
  publisher->setErrorHandler([&failed](const std::string& e) { failed.set_value(e); });
  ASSERT_EQ(publish(publisher, target(nginx, "live", "drop")), "");
  ASSERT_TRUE(nginx.waitForPublishing("live", "drop", 5s));
  EXPECT_EQ(nginx.dropPublisher("live", "drop"), 1);
  const auto e = await(error, 5s);
  ASSERT_TRUE(e.has_value());
  EXPECT_TRUE(*e == "server closed the connection" || e->find("read failed") == 0) << *e;
  EXPECT_EQ(publisher->state(), RtmpPublisher::State::Failed);
}

TEST(RtmpPublisher, StalledEndpointTripsTheWriteWatchdog) {
  const TestClip clip = TestClip::standard();
  NginxRtmp nginx({NginxApp{.name = "live"}});
  nginx.start();
  IoThread io;
  Source source(clip.path);
  RtmpPublisher::Options options;
  options.writeStall = 1000ms;
  options.sendBufferBytes = 64 * 1024;
  auto publisher = RtmpPublisher::create(io.io(), options);
  std::promise<std::string> failed;
  auto error = failed.get_future();
  publisher->setErrorHandler([&failed](const std::string& e) { failed.set_value(e); });
  ASSERT_EQ(publish(publisher, target(nginx, "live", "stall")), "");
  ASSERT_TRUE(nginx.suspend());
  FlvTagBuilder builder(source.video, source.audio, source.frameRate);
  const auto start = std::chrono::steady_clock::now();
  // The clip over and over, until the kernel buffers are full and the watchdog fires (memory bounded).
  for (int64_t loop = 0; error.wait_for(0s) != std::future_status::ready && std::chrono::steady_clock::now() - start < 8s; ++loop) {
    for (std::size_t i = 0; i < source.frames.size() && publisher->queuedBytes() < (8u << 20); ++i) {
      std::vector<rtmp::RtmpMediaMessage> tags;
      source.tags(builder, i, loop * 10'100, tags);
      publisher->send(std::move(tags));
    }
    std::this_thread::sleep_for(50ms);
  }
  const auto e = await(error, 1s);
  nginx.resume();
  ASSERT_TRUE(e.has_value()) << "no stall reported; queued " << publisher->queuedBytes();
  EXPECT_EQ(*e, "endpoint stalled: a write made no progress for 1000 ms");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 6s);
  EXPECT_TRUE(pollUntil([&] { return publisher->queuedBytes() == 0; }, 1s)) << "queued payloads not released";
}

// A producer that holds back while a write waits (as the relay's output pump does) must hear from the idle
// handler once the endpoint reads again, however the waiting batch ends (in part at once or after more waits).
TEST(RtmpPublisher, IdleHandlerResumesAProducerAfterTheEndpointWasSuspended) {
  const TestClip clip = TestClip::standard();
  NginxRtmp nginx({NginxApp{.name = "live"}});
  nginx.start();
  IoThread io;
  Source source(clip.path);
  RtmpPublisher::Options options;
  options.sendBufferBytes = 64 * 1024;  // no write watchdog: the suspension is only a pause
  auto publisher = RtmpPublisher::create(io.io(), options);
  std::atomic<int> idleCalls{0};
  publisher->setIdleHandler([&] { ++idleCalls; });
  ASSERT_EQ(publish(publisher, target(nginx, "live", "pause")), "");
  FlvTagBuilder builder(source.video, source.audio, source.frameRate);
  std::vector<rtmp::RtmpMediaMessage> header;
  std::string error;
  ASSERT_TRUE(builder.header(header, error)) << error;
  publisher->send(std::move(header));
  ASSERT_TRUE(nginx.suspend());
  // Until a write has been waiting for the socket for a while (the kernel buffers are full).
  const auto waiting = [&] {
    const auto at = publisher->writeProgressAt();
    return at && std::chrono::steady_clock::now() - *at > 200ms;
  };
  std::size_t sent = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int64_t loop = 0; !waiting() && std::chrono::steady_clock::now() - start < 8s; ++loop) {
    for (std::size_t i = 0; i < source.frames.size() && publisher->queuedBytes() < (8u << 20); ++i) {
      std::vector<rtmp::RtmpMediaMessage> tags;
      source.tags(builder, i, loop * 10'100, tags);
      sent += tags.size();
      publisher->send(std::move(tags));
    }
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(waiting()) << "the suspended endpoint never filled the socket";
  EXPECT_EQ(idleCalls.load(), 0) << "idle while a write still waits";
  nginx.resume();
  EXPECT_TRUE(pollUntil([&] { return idleCalls.load() > 0; }, 5s))
      << "the idle handler never resumed the producer; pending " << publisher->writePending() << ", queued "
      << publisher->queuedBytes() << ", written " << publisher->messagesWritten() << " of " << sent << ", state "
      << static_cast<int>(publisher->state());
  EXPECT_TRUE(pollUntil([&] { return publisher->queuedBytes() == 0 && !publisher->writePending(); }, 5s));
  EXPECT_GE(publisher->messagesWritten(), sent);
  close(publisher);
}

TEST(RtmpPublisher, ConnectFailuresAreBoundedAndNamed) {
  IoThread io;
  const uint16_t closedPort = freePort();
  auto refused = RtmpPublisher::create(io.io());
  EXPECT_EQ(publish(refused, {"127.0.0.1", closedPort, "live", "rtmp://127.0.0.1/live", "x"}),
            "cannot connect to 127.0.0.1:" + std::to_string(closedPort) + ": Connection refused");

  // A peer that accepts TCP but never answers the handshake.
  asio::ip::tcp::acceptor silent(io.io(), {asio::ip::make_address("127.0.0.1"), 0});
  RtmpPublisher::Options options;
  options.connectTimeout = 500ms;
  auto hung = RtmpPublisher::create(io.io(), options);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(publish(hung, {"127.0.0.1", silent.local_endpoint().port(), "live", "rtmp://127.0.0.1/live", "x"}),
            "publish timed out after 500 ms (during RTMP handshake)");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

// Real-time publishing of a 6 Mbit/s clip, for syscall counting under strace (skipped unless
// VENUECAST_RTMP_REALTIME_SECONDS is set): a feeder thread hands each packet over at its timestamp, the way a
// venue's ingest thread would.
TEST(RtmpPublisher, RealtimeSixMbitForStrace) {
  const char* env = std::getenv("VENUECAST_RTMP_REALTIME_SECONDS");
  if (!env || !*env) GTEST_SKIP() << "set VENUECAST_RTMP_REALTIME_SECONDS to run";
  const int seconds = std::max(1, std::atoi(env));
  ClipSpec spec;
  spec.width = 1280;
  spec.height = 720;
  spec.videoKbps = 6000;
  const TestClip clip = TestClip::get(spec);
  NginxRtmp nginx({NginxApp{.name = "live"}});
  nginx.start();
  IoThread io;
  Source source(clip.path);
  auto publisher = RtmpPublisher::create(io.io());
  ASSERT_EQ(publish(publisher, target(nginx, "live", "realtime")), "");
  FlvTagBuilder builder(source.video, source.audio, source.frameRate);
  std::vector<rtmp::RtmpMediaMessage> header;
  std::string error;
  ASSERT_TRUE(builder.header(header, error)) << error;
  publisher->send(std::move(header));
  std::cerr << "[ info ] REALTIME START tid-owner pid " << ::getpid() << "\n";
  const auto start = std::chrono::steady_clock::now();
  std::size_t sent = 0;
  for (std::size_t i = 0; i < source.frames.size() && source.frames[i].dtsMs < seconds * 1000; ++i) {
    std::this_thread::sleep_until(start + std::chrono::milliseconds(source.frames[i].dtsMs));
    std::vector<rtmp::RtmpMediaMessage> tags;
    source.tags(builder, i, 0, tags);
    publisher->send(std::move(tags));
    ++sent;
  }
  ASSERT_TRUE(pollUntil([&] { return publisher->queuedBytes() == 0; }, 5s));
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cerr << "[ info ] REALTIME " << sent << " packets in " << s << " s: " << publisher->bytesWritten() * 8 / s / 1e6
            << " Mbit/s, " << publisher->messagesWritten() / s << " messages/s, " << publisher->writeBatches() / s
            << " gathered writes/s, " << publisher->sendCalls() / s << " sendmsg/s\n";
  EXPECT_EQ(close(publisher), "");
}

}  // namespace
}  // namespace venuecast::testing
