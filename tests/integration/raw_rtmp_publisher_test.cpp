// RawRtmpPublisher against a private nginx-rtmp, read back with ffprobe (FFmpeg 5.1's rtmp + flv demuxer, i.e.
// what the relay sees through libavformat). Self-contained on purpose (own nginx launcher, process and
// HTTP helpers below), so that it depends on nothing but the publisher itself, nginx, ffmpeg and ffprobe.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/raw_rtmp_publisher.h"

namespace {

namespace fs = std::filesystem;
using venuecast::testing::RawRtmpPublisher;
using Tag = RawRtmpPublisher::FlvTag;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr const char* kRtmpModule = "/usr/lib/nginx/modules/ngx_rtmp_module.so";

// ---- small helpers (local to this file) ------------------------------------------------------------------

class ScratchDir {
 public:
  ScratchDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/venuecast-rawpub-XXXXXX";
    if (!::mkdtemp(templ.data())) throw std::runtime_error("mkdtemp failed");
    path_ = templ;
  }
  ~ScratchDir() {
    const char* keep = std::getenv("VENUECAST_IT_KEEP");
    if (keep && *keep == '1') {
      std::cerr << "[ keeping ] " << path_ << "\n";
      return;
    }
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A child process, signalled only by its own PID; SIGKILLed (and reaped) on destruction.
class Proc {
 public:
  Proc(const std::vector<std::string>& argv, const fs::path& out, const fs::path& err) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const std::string outPath = out.string(), errPath = err.string();
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      ::setpgid(0, 0);
      const int in = ::open("/dev/null", O_RDONLY);
      const int o = ::open(outPath.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      const int e = ::open(errPath.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (in < 0 || o < 0 || e < 0) ::_exit(126);
      ::dup2(in, 0);
      ::dup2(o, 1);
      ::dup2(e, 2);
      ::execvp(args[0], args.data());
      ::_exit(127);
    }
  }
  ~Proc() { kill(); }
  Proc(const Proc&) = delete;
  Proc& operator=(const Proc&) = delete;

  pid_t pid() const { return pid_; }
  bool running() { return !reap(false); }
  // Exit code (or 128+signal) once it exited within `timeout`.
  std::optional<int> wait(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!reap(false)) {
      if (Clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(20ms);
    }
    return status_;
  }
  void kill() {
    if (reap(false)) return;
    ::kill(pid_, SIGTERM);
    if (wait(3s)) return;
    ::kill(pid_, SIGKILL);
    reap(true);
  }

 private:
  bool reap(bool block) {
    if (status_) return true;
    int st = 0;
    const pid_t r = ::waitpid(pid_, &st, block ? 0 : WNOHANG);
    if (r != pid_) return false;
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return true;
  }
  pid_t pid_ = -1;
  std::optional<int> status_;
};

int freePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("cannot bind 127.0.0.1:0");
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

int connectLoopback(int port, int timeoutMs) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    pollfd p{fd, POLLOUT, 0};
    int err = 0;
    socklen_t len = sizeof err;
    if (errno != EINPROGRESS || ::poll(&p, 1, timeoutMs) != 1 ||
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
      ::close(fd);
      return -1;
    }
  }
  return fd;
}

// GET http://127.0.0.1:port/path (HTTP/1.0); the body, or "" if there was no complete 200 answer in time.
std::string httpGet(int port, const std::string& path, int timeoutMs = 2000) {
  const int fd = connectLoopback(port, timeoutMs);
  if (fd < 0) return "";
  const std::string req = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  std::string resp;
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeoutMs);
  size_t sent = 0;
  bool eof = false;
  while (Clock::now() < deadline && !eof) {
    pollfd p{fd, static_cast<short>(sent < req.size() ? POLLOUT : POLLIN), 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    if (sent < req.size()) {
      const ssize_t n = ::send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += static_cast<size_t>(n);
    } else {
      char buf[8192];
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n < 0 && errno == EAGAIN) continue;
      if (n <= 0) eof = true;
      else resp.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  const auto bodyAt = resp.find("\r\n\r\n");
  if (!eof || resp.rfind("HTTP/1.1 200", 0) != 0 || bodyAt == std::string::npos) return "";
  return resp.substr(bodyAt + 4);
}

// nginx + nginx-rtmp (application "live") on free loopback ports, one process, stopped by its PID.
class Nginx {
 public:
  Nginx() {
    for (int attempt = 0; attempt < 5; ++attempt) {
      rtmpPort_ = freePort();
      httpPort_ = freePort();
      if (rtmpPort_ == httpPort_) continue;
      writeConfig();
      proc_ = std::make_unique<Proc>(std::vector<std::string>{"nginx", "-p", dir_.path().string() + "/", "-c",
                                                              (dir_.path() / "nginx.conf").string()},
                                     dir_.path() / "stdout.log", dir_.path() / "stderr.log");
      const auto deadline = Clock::now() + 10s;
      while (Clock::now() < deadline && proc_->running()) {
        if (accepts(rtmpPort_) && accepts(httpPort_) && !stat().empty()) return;
        std::this_thread::sleep_for(50ms);
      }
      proc_.reset();  // exited (port taken?) or never came up: try other ports
    }
    throw std::runtime_error("nginx did not start: " + slurp(dir_.path() / "error.log") +
                             slurp(dir_.path() / "stderr.log"));
  }
  ~Nginx() { proc_.reset(); }  // SIGTERM, SIGKILL after 3 s, by PID

  int rtmpPort() const { return rtmpPort_; }
  std::string url(const std::string& name) const {
    return "rtmp://127.0.0.1:" + std::to_string(rtmpPort_) + "/live/" + name;
  }
  std::string stat() const { return httpGet(httpPort_, "/stat"); }
  bool alive() { return proc_ && proc_->running(); }
  std::string errorLog() const { return slurp(dir_.path() / "error.log"); }
  // Polls /stat until `pred(xml)` holds.
  template <typename Pred>
  bool waitStat(Pred pred, std::chrono::milliseconds timeout) const {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      if (pred(stat())) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }
  // The <stream> element for `name` in /stat, or "".
  static std::string streamXml(const std::string& xml, const std::string& name) {
    const auto at = xml.find("<name>" + name + "</name>");
    if (at == std::string::npos) return "";
    const auto begin = xml.rfind("<stream>", at);
    const auto end = xml.find("</stream>", at);
    if (begin == std::string::npos || end == std::string::npos) return "";
    return xml.substr(begin, end - begin);
  }

 private:
  static bool accepts(int port) {
    const int fd = connectLoopback(port, 200);
    if (fd < 0) return false;
    ::close(fd);
    return true;
  }
  void writeConfig() {
    const std::string d = dir_.path().string();
    std::ofstream c(dir_.path() / "nginx.conf");
    c << "load_module " << kRtmpModule << ";\n"
      << "daemon off;\nmaster_process off;\nworker_processes 1;\n"
      << "error_log " << d << "/error.log info;\npid " << d << "/nginx.pid;\n"
      << "events { worker_connections 256; }\n"
      << "rtmp {\n  server {\n    listen 127.0.0.1:" << rtmpPort_ << ";\n"
      << "    application live {\n      live on;\n      publish_notify on;\n    }\n  }\n}\n"
      << "http {\n  access_log off;\n";
    for (const char* t : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"}) {
      fs::create_directories(dir_.path() / "tmp" / t);
      c << "  " << t << "_temp_path " << d << "/tmp/" << t << ";\n";
    }
    c << "  server {\n    listen 127.0.0.1:" << httpPort_ << ";\n"
      << "    location /stat { rtmp_stat all; }\n  }\n}\n";
  }

  ScratchDir dir_;
  int rtmpPort_ = 0;
  int httpPort_ = 0;
  std::unique_ptr<Proc> proc_;
};

// Runs a command to completion (bounded); its exit code, stdout in *out, stderr in *err.
int run(const std::vector<std::string>& argv, const fs::path& dir, std::string* out = nullptr,
        std::string* err = nullptr, std::chrono::milliseconds timeout = 60s) {
  static std::atomic<int> n{0};
  const int id = n++;
  const fs::path o = dir / ("run" + std::to_string(id) + ".out"), e = dir / ("run" + std::to_string(id) + ".err");
  Proc p(argv, o, e);
  const auto rc = p.wait(timeout);
  if (out) *out = slurp(o);
  if (err) *err = slurp(e);
  return rc.value_or(-1);
}

// The 4 s test clip (320x240@30 H.264 with B-frames, GOP 30, + 48 kHz AAC), made once per process.
const fs::path& testClip() {
  static ScratchDir dir;
  static fs::path clip = [] {
    const fs::path p = dir.path() / "clip.flv";
    std::string err;
    const int rc = run({"ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                        "testsrc2=size=320x240:rate=30", "-f", "lavfi", "-i", "sine=sample_rate=48000", "-t", "4",
                        "-c:v", "libx264", "-g", "30", "-bf", "2", "-c:a", "aac", "-f", "flv", p.string()},
                       dir.path(), nullptr, &err);
    if (rc != 0) throw std::runtime_error("ffmpeg could not make the test clip: " + err);
    return p;
  }();
  return clip;
}

struct Probe {
  int exitCode = -1;
  std::string out;  // -of compact: "stream|..." and "packet|..." lines
  std::string err;
  int packets(const std::string& codecType) const {
    int n = 0;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);)
      if (line.rfind("packet|codec_type=" + codecType + "|", 0) == 0) ++n;
    return n;
  }
  // Value of `key` in the first "stream|" line with codec_type=codecType.
  std::string stream(const std::string& codecType, const std::string& key) const {
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("stream|", 0) != 0 || line.find("|codec_type=" + codecType + "|") == std::string::npos) continue;
      const auto at = line.find("|" + key + "=");
      if (at == std::string::npos) return "";
      const auto begin = at + key.size() + 2;
      return line.substr(begin, line.find('|', begin) - begin);
    }
    return "";
  }
  // Largest dts=... among the packets of codecType (-1 if none).
  long long maxDts(const std::string& codecType) const {
    long long best = -1;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("packet|codec_type=" + codecType + "|", 0) != 0) continue;
      const auto at = line.find("|dts=");
      if (at != std::string::npos) best = std::max(best, std::atoll(line.c_str() + at + 5));
    }
    return best;
  }
  std::string streamLines() const {
    std::string s;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);)
      if (line.rfind("stream|", 0) == 0) s += line + "\n";
    return s;
  }
};

std::vector<std::string> probeArgs(const std::string& input, const std::string& level) {
  return {"ffprobe", "-hide_banner", "-v", level, "-show_streams", "-show_packets",
          "-show_entries", "packet=codec_type,stream_index,pts,dts,size,flags", "-of", "compact", input};
}

Probe probeFile(const fs::path& file, const fs::path& dir) {
  Probe p;
  p.exitCode = run(probeArgs(file.string(), "error"), dir, &p.out, &p.err);
  return p;
}

// ffprobe playing nginx's live stream while `publish` runs. ffprobe is started first and known to be subscribed
// (nginx lists it under the stream in /stat) before publishing starts, so it sees the stream from its first tag;
// the publisher's deleteStream makes nginx send NetStream.Play.UnpublishNotify (publish_notify on), which ends
// ffprobe's input.
template <typename PublishFn>
Probe probeLive(Nginx& nginx, const std::string& name, const fs::path& dir, PublishFn publish,
                const std::string& level = "error") {
  static std::atomic<int> n{0};
  const int id = n++;
  const fs::path o = dir / ("live" + std::to_string(id) + ".out"), e = dir / ("live" + std::to_string(id) + ".err");
  Proc probe(probeArgs(nginx.url(name), level), o, e);
  const bool subscribed = nginx.waitStat(
      [&](const std::string& xml) {
        const auto s = Nginx::streamXml(xml, name);
        return s.find("<client>") != std::string::npos;
      },
      5s);
  EXPECT_TRUE(subscribed) << "ffprobe never showed up as a player of live/" << name << "\n" << slurp(e);
  publish();
  Probe p;
  const auto rc = probe.wait(15s);
  EXPECT_TRUE(rc.has_value()) << "ffprobe did not end after the publisher left";
  p.exitCode = rc.value_or(-1);
  probe.kill();
  p.out = slurp(o);
  p.err = slurp(e);
  return p;
}

RawRtmpPublisher::Options publisherOptions(const Nginx& nginx, const std::string& name) {
  RawRtmpPublisher::Options o;
  o.port = nginx.rtmpPort();
  o.app = "live";
  o.streamName = name;
  return o;
}

std::vector<uint8_t> randomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

class RawRtmpPublisherTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_THROW(tags_ = RawRtmpPublisher::readFlvFile(testClip().string())); }
  std::vector<Tag> tags_;
  ScratchDir work_;
};

// ---- tests -----------------------------------------------------------------------------------------------------

TEST_F(RawRtmpPublisherTest, ReadsFlvFile) {
  ASSERT_FALSE(tags_.empty());
  EXPECT_EQ(tags_.front().type, 18);  // onMetaData first
  // Packets are the tags with AVC/AAC packet type 1; the rest are the sequence headers and (ffmpeg's flv muxer
  // writes one at the end) an AVC end-of-sequence tag.
  int video = 0, audio = 0, other = 0;
  uint32_t last = 0;
  for (const auto& t : tags_) {
    ASSERT_GE(t.body.size(), 2u);
    if (t.type == 9 && (t.body[0] & 0x0f) == 7 && t.body[1] == 1) ++video;
    else if (t.type == 8 && (t.body[0] >> 4) == 10 && t.body[1] == 1) ++audio;
    else ++other;
    last = std::max(last, t.timestampMs);
  }
  const Probe file = probeFile(testClip(), work_.path());
  EXPECT_EQ(video, file.packets("video"));
  EXPECT_EQ(audio, file.packets("audio"));
  EXPECT_EQ(other, 4);  // onMetaData, AVC + AAC sequence headers, AVC end of sequence
  EXPECT_GT(last, 3900u);
  EXPECT_THROW(RawRtmpPublisher::readFlvFile((work_.path() / "missing.flv").string()), std::runtime_error);
}

TEST_F(RawRtmpPublisherTest, PublishesFileInRealTimeAndFfprobeReadsItBack) {
  Nginx nginx;
  const Probe file = probeFile(testClip(), work_.path());
  ASSERT_GT(file.packets("video"), 100);
  ASSERT_GT(file.packets("audio"), 150);

  std::chrono::milliseconds took{0};
  const Probe live = probeLive(nginx, "good", work_.path(), [&] {
    RawRtmpPublisher pub(publisherOptions(nginx, "good"));
    std::string error;
    ASSERT_TRUE(pub.connect(&error)) << error << "\n" << nginx.errorLog();
    EXPECT_GT(pub.streamId(), 0u);
    const auto started = Clock::now();
    ASSERT_TRUE(pub.publishFile(tags_, /*realtime=*/true, {}, nullptr, 1, &error)) << error;
    took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
    const auto s = Nginx::streamXml(nginx.stat(), "good");
    EXPECT_NE(s.find("<publishing/>"), std::string::npos) << s;
    EXPECT_NE(s.find("<codec>H264</codec>"), std::string::npos) << s;
    EXPECT_NE(s.find("<codec>AAC</codec>"), std::string::npos) << s;
    pub.close();
  });
  EXPECT_GE(took.count(), 3900) << "not paced in real time";  // the clip's tags span ~4.05 s
  EXPECT_LE(took.count(), 6000);
  EXPECT_EQ(live.exitCode, 0) << live.err;
  EXPECT_EQ(live.stream("video", "codec_name"), "h264") << live.streamLines();
  EXPECT_EQ(live.stream("audio", "codec_name"), "aac") << live.streamLines();
  EXPECT_EQ(live.stream("video", "width"), "320");
  EXPECT_EQ(live.stream("audio", "sample_rate"), "48000");
  // nginx relays every tag to a player that was subscribed first; allow a frame or two at the edges.
  EXPECT_NEAR(live.packets("video"), file.packets("video"), 2) << live.err;
  EXPECT_NEAR(live.packets("audio"), file.packets("audio"), 2) << live.err;
  EXPECT_TRUE(nginx.alive());
}

// (a) Codec ids FFmpeg 5.1 does not know, as the relay will see them: libavformat's flv demuxer behind its rtmp
// protocol, reading nginx's live stream. flv_set_video_codec()/flv_set_audio_codec() fall into their default
// branch: avpriv_request_sample() -- a *warning*, so nothing at all is printed with -v error, and ffprobe exits 0
// -- codec_id stays AV_CODEC_ID_NONE and codecpar->codec_tag is the FLV codec id; avformat_find_stream_info()
// succeeds. The flv demuxer does not know that tag's packet layout either, so *every* tag of that type (sequence
// header and end-of-sequence included) becomes a packet: its body minus the first (flags) byte. Exactly what
// ffprobe 5.1.9 prints with -v warning (the first two lines repeat once per tag, e.g. 122 times for the clip's
// video; 0x... stands for a pointer; "Unsupported codec with id 0" is ffprobe's own line, from trying to open a
// decoder):
//
//   video codec id 12 (the non-standard "HEVC" id):
//     [flv @ 0x...] Video codec (c) is not implemented. Update your FFmpeg version to the newest one from Git. If
//       the problem still occurs, it means that your file has a feature which has not been implemented.
//     [flv @ 0x...] If you want to help, upload a sample of this file to https://streams.videolan.org/upload/ and
//       contact the ffmpeg-devel mailing list. (ffmpeg-devel@ffmpeg.org)
//     [flv @ 0x...] Could not find codec parameters for stream 0 (Video: none ([12][0][0][0] / 0x000C), none):
//       unknown codec
//     Consider increasing the value for the 'analyzeduration' (0) and 'probesize' (5000000) options
//     Unsupported codec with id 0 for input stream 0
//     stream|index=0|codec_name=unknown|codec_long_name=unknown|profile=unknown|codec_type=video|
//       codec_tag_string=[12][0][0][0]|codec_tag=0x000c|width=0|height=0|...|pix_fmt=unknown|level=-99|...
//   audio sound format 13 (and 9 likewise: "Audio codec (9)", [9][0][0][0] / 0x0009, codec_tag=0x0009):
//     [flv @ 0x...] Audio codec (d) is not implemented. Update your FFmpeg version ... (as above)
//     [flv @ 0x...] If you want to help, ... (as above)
//     [flv @ 0x...] Could not find codec parameters for stream 0 (Audio: none ([13][0][0][0] / 0x000D), 44100 Hz,
//       stereo, 68 kb/s): unknown codec
//     Consider increasing the value for the 'analyzeduration' (0) and 'probesize' (5000000) options
//     Unsupported codec with id 0 for input stream 0
//     stream|index=0|codec_name=unknown|codec_long_name=unknown|profile=unknown|codec_type=audio|
//       codec_tag_string=[13][0][0][0]|codec_tag=0x000d|sample_fmt=unknown|sample_rate=44100|channels=2|...
//     (Stream indexes follow the order nginx delivers the first tags in; from the patched *file*, the audio is
//     stream 1 and "69 kb/s".)
//     (44100 Hz stereo: the rate/size/type bits of the flags byte 0xAF, which AAC ignores, taken at face value.)
// The other stream is unaffected (h264 320x240 / aac 48000 Hz mono). So the relay cannot rely on an error from
// libavformat: it has to check codec_id == AV_CODEC_ID_NONE (codec_tag tells which FLV id) itself. nginx-rtmp
// relays such tags untouched; its /stat then simply has no <codec> element for that track.
struct PatchedCodec {
  const char* name;
  uint8_t tagType;  // 8 audio, 9 video
  uint8_t codecId;  // low nibble of a video tag's first byte, high nibble of an audio tag's
  const char* codecType;
  const char* otherType;
  const char* warning;
  const char* codecTag;
};

class PatchedCodecTest : public RawRtmpPublisherTest, public ::testing::WithParamInterface<PatchedCodec> {};

TEST_P(PatchedCodecTest, FfprobeSeesUnknownCodec) {
  const PatchedCodec& c = GetParam();
  Nginx nginx;
  const std::string name = c.name;
  size_t patchedTags = 0;
  std::string statDuringPublish;
  const Probe live = probeLive(
      nginx, name, work_.path(),
      [&] {
        RawRtmpPublisher pub(publisherOptions(nginx, name));
        std::string error;
        ASSERT_TRUE(pub.connect(&error)) << error;
        const auto patch = [&](Tag& t) {
          if (t.type != c.tagType || t.body.empty()) return;
          ++patchedTags;
          if (c.tagType == 9) t.body[0] = static_cast<uint8_t>((t.body[0] & 0xf0) | c.codecId);
          else t.body[0] = static_cast<uint8_t>((t.body[0] & 0x0f) | (c.codecId << 4));
          if (patchedTags == 60) statDuringPublish = Nginx::streamXml(nginx.stat(), name);
        };
        ASSERT_TRUE(pub.publishFile(tags_, true, patch, nullptr, 1, &error)) << error;
        pub.close();
      },
      "warning");
  // What ffprobe said, with the two per-tag lines counted instead of repeated.
  int perTag = 0;
  std::string said;
  std::istringstream errLines(live.err);
  for (std::string line; std::getline(errLines, line);) {
    if (line.find(c.warning) != std::string::npos) ++perTag;
    if (line.find("is not implemented") == std::string::npos && line.find("If you want to help") == std::string::npos)
      said += line + "\n";
  }
  std::cout << "---- ffprobe -v warning ----\n"
            << perTag << " x '" << c.warning << "...' (+ 'If you want to help...')\n"
            << said << "---- streams ----\n" << live.streamLines() << "---- nginx /stat while publishing ----\n"
            << statDuringPublish << "\n";
  EXPECT_EQ(perTag, static_cast<int>(patchedTags));
  EXPECT_EQ(live.exitCode, 0);
  EXPECT_EQ(live.stream(c.codecType, "codec_name"), "unknown") << live.streamLines();
  EXPECT_EQ(live.stream(c.codecType, "codec_tag"), c.codecTag) << live.streamLines();
  EXPECT_NE(live.err.find(c.warning), std::string::npos) << live.err.substr(0, 2000);
  EXPECT_NE(live.err.find("Could not find codec parameters for stream"), std::string::npos);
  EXPECT_NE(live.err.find("): unknown codec"), std::string::npos);
  // Every tag of the patched type is a packet, sequence headers included.
  EXPECT_NEAR(live.packets(c.codecType), static_cast<int>(patchedTags), 2);
  EXPECT_EQ(live.stream(c.otherType, "codec_name"), std::string(c.tagType == 9 ? "aac" : "h264"))
      << live.streamLines();
  EXPECT_TRUE(nginx.alive());
}

INSTANTIATE_TEST_SUITE_P(
    Codecs, PatchedCodecTest,
    ::testing::Values(PatchedCodec{"video12", 9, 12, "video", "audio", "Video codec (c) is not implemented", "0x000c"},
                      PatchedCodec{"audio13", 8, 13, "audio", "video", "Audio codec (d) is not implemented", "0x000d"},
                      PatchedCodec{"audio9", 8, 9, "audio", "video", "Audio codec (9) is not implemented", "0x0009"}),
    [](const ::testing::TestParamInfo<PatchedCodec>& info) { return std::string(info.param.name); });

// (b) A corrupt stream after a good start. Corrupt tag bodies ride an intact chunk stream (nginx-rtmp 1.2.2
// relays them as they are); then raw bytes that break the chunk stream. nginx may drop such a publisher, but must
// not die, and must take a good publisher on the same name afterwards.
TEST_F(RawRtmpPublisherTest, CorruptTagsAndGarbageDoNotKillNginx) {
  Nginx nginx;
  std::vector<Tag> goodStart;  // metadata, sequence headers, the first second
  for (const auto& t : tags_)
    if (t.timestampMs < 1000) goodStart.push_back(t);
  const uint32_t ts = 1000;
  {
    RawRtmpPublisher pub(publisherOptions(nginx, "corrupt"));
    std::string error;
    ASSERT_TRUE(pub.connect(&error)) << error;
    ASSERT_TRUE(pub.publishFile(goodStart, false, {}, nullptr, 1, &error)) << error;
    const std::vector<std::vector<uint8_t>> videoBodies = {
        {},                                                      // empty
        {0x17},                                                  // keyframe, truncated before the AVC packet type
        {0x17, 0x07, 0x00, 0x00, 0x00, 0xde, 0xad},              // bogus AVC packet type 7
        {0x17, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x65},  // NALU length 16 but 1 byte of it
        {0x17, 0x00, 0x00, 0x00, 0x00, 0x01, 0x64},              // truncated AVCDecoderConfigurationRecord
    };
    for (const auto& b : videoBodies) ASSERT_TRUE(pub.sendTag(9, ts, b.data(), b.size())) << pub.lastError();
    auto garbageAvcc = randomBytes(300, 1);
    garbageAvcc[0] = 0x17;
    garbageAvcc[1] = 0x00;  // a random "sequence header", which nginx's codec module parses
    ASSERT_TRUE(pub.sendTag(9, ts, garbageAvcc.data(), garbageAvcc.size())) << pub.lastError();
    auto garbageAsc = randomBytes(40, 2);
    garbageAsc[0] = 0xaf;
    garbageAsc[1] = 0x00;  // a random AudioSpecificConfig
    ASSERT_TRUE(pub.sendTag(8, ts, garbageAsc.data(), garbageAsc.size())) << pub.lastError();
    for (uint32_t i = 0; i < 20; ++i) {  // random payloads of 100..13400 bytes (several chunks each)
      const auto body = randomBytes(100 + i * 700, 10 + i);
      ASSERT_TRUE(pub.sendTag(i % 2 ? 9 : 8, ts + i * 10, body.data(), body.size())) << pub.lastError();
    }
    EXPECT_TRUE(pub.pollIncoming(300)) << "nginx dropped the publisher over bad A/V bodies: " << pub.lastError();
    // A data message that is not AMF: nginx-rtmp's AMF handler fails and nginx closes the session.
    const auto script = randomBytes(500, 3);
    ASSERT_TRUE(pub.sendTag(18, ts, script.data(), script.size())) << pub.lastError();
    const auto deadline = Clock::now() + 3s;
    while (pub.pollIncoming(100) && Clock::now() < deadline) {
    }
    std::cout << "after a random data message: "
              << (pub.peerClosed() ? "nginx closed the connection" : "connection still open") << "\n";
  }
  EXPECT_TRUE(nginx.alive()) << nginx.errorLog();
  {
    RawRtmpPublisher pub(publisherOptions(nginx, "corrupt"));
    std::string error;
    ASSERT_TRUE(pub.connect(&error)) << error << "\n" << nginx.errorLog();
    ASSERT_TRUE(pub.publishFile(goodStart, false, {}, nullptr, 1, &error)) << error;
    // Raw garbage: the chunk stream is gone for good.
    const auto garbage = randomBytes(64 * 1024, 5);
    pub.sendRaw(garbage.data(), garbage.size());  // may fail half-way if nginx hangs up first
    const auto deadline = Clock::now() + 5s;
    while (pub.pollIncoming(100) && Clock::now() < deadline) {
    }
    std::cout << "after 64 KiB of raw garbage: "
              << (pub.peerClosed() ? "nginx closed the connection" : "connection still open") << " ("
              << pub.lastError() << ")\n";
  }
  EXPECT_TRUE(nginx.alive()) << nginx.errorLog();
  EXPECT_NE(nginx.stat().find("<rtmp>"), std::string::npos);
  RawRtmpPublisher again(publisherOptions(nginx, "corrupt"));
  std::string error;
  ASSERT_TRUE(again.connect(&error)) << error << "\n" << nginx.errorLog();
  ASSERT_TRUE(again.publishFile(goodStart, false, {}, nullptr, 1, &error)) << error;
  EXPECT_TRUE(nginx.waitStat(
      [](const std::string& xml) { return Nginx::streamXml(xml, "corrupt").find("<publishing/>") != std::string::npos; },
      3s));
}

// Timestamps crossing 0xFFFFFF (extended timestamps, also in every type-3 continuation chunk) with 128-byte
// chunks, and the short command sequence (no releaseStream/FCPublish): nginx must still parse every message.
TEST_F(RawRtmpPublisherTest, ExtendedTimestampsAndSmallChunks) {
  Nginx nginx;
  const Probe file = probeFile(testClip(), work_.path());
  const uint32_t base = 0xFFFFFF - 2000;  // crosses into extended timestamps 2 s into the clip
  const Probe live = probeLive(nginx, "ext", work_.path(), [&] {
    auto options = publisherOptions(nginx, "ext");
    options.chunkSize = 128;
    options.obsCommandSequence = false;
    RawRtmpPublisher pub(options);
    std::string error;
    ASSERT_TRUE(pub.connect(&error)) << error;
    ASSERT_TRUE(pub.publishFile(tags_, true, [&](Tag& t) { t.timestampMs += base; }, nullptr, 1, &error)) << error;
    pub.close();
  });
  EXPECT_EQ(live.exitCode, 0) << live.err;
  EXPECT_EQ(live.stream("video", "codec_name"), "h264");
  EXPECT_NEAR(live.packets("video"), file.packets("video"), 2) << live.err;
  EXPECT_NEAR(live.packets("audio"), file.packets("audio"), 2) << live.err;
  EXPECT_TRUE(live.err.empty()) << live.err;
  // nginx hands a player that was there from the start the publisher's absolute timestamps, so the extended
  // values arrive intact: the last frames are past 0xFFFFFF ms (= 16777.215 s).
  EXPECT_GT(live.maxDts("video"), 0xFFFFFF);
  EXPECT_GT(live.maxDts("audio"), 0xFFFFFF);
  EXPECT_LT(live.maxDts("video"), 0xFFFFFF + 3000);
}

TEST_F(RawRtmpPublisherTest, LoopsContinueTimestampsAndStopEndsPublishing) {
  Nginx nginx;
  RawRtmpPublisher pub(publisherOptions(nginx, "loop"));
  std::string error;
  ASSERT_TRUE(pub.connect(&error)) << error;
  std::vector<uint32_t> video;  // DTS of the H.264 frames
  int configs = 0;
  ASSERT_TRUE(pub.publishFile(
      tags_, false,
      [&](Tag& t) {
        if (t.type == 9 && t.body.size() > 1 && t.body[1] == 1) video.push_back(t.timestampMs);
        if (t.type == 18 || (t.body.size() > 1 && t.body[1] == 0)) ++configs;
      },
      nullptr, 3, &error))
      << error;
  ASSERT_EQ(video.size(), 3 * 120u);
  for (size_t i = 1; i < video.size(); ++i) ASSERT_LT(video[i - 1], video[i]) << "at " << i;
  // Loop 2 starts one frame interval after the end of the whole file (whose audio runs a little past its video).
  EXPECT_GE(video[120] - video[119], 33u);
  EXPECT_LE(video[120] - video[119], 200u);
  EXPECT_EQ(video[240] - video[120], video[120] - video[0]);
  EXPECT_EQ(configs, 3);  // metadata + 2 sequence headers, first loop only

  // stop: a realtime endless loop ends promptly.
  std::atomic<bool> stop{false};
  std::thread stopper([&] {
    std::this_thread::sleep_for(500ms);
    stop = true;
  });
  const auto t0 = Clock::now();
  EXPECT_TRUE(pub.publishFile(tags_, true, {}, &stop, 0, &error)) << error;
  stopper.join();
  EXPECT_LT(Clock::now() - t0, 2s);
}

TEST_F(RawRtmpPublisherTest, SecondPublisherOnSameNameGetsBadName) {
  Nginx nginx;
  RawRtmpPublisher first(publisherOptions(nginx, "taken"));
  std::string error;
  ASSERT_TRUE(first.connect(&error)) << error;
  RawRtmpPublisher second(publisherOptions(nginx, "taken"));
  EXPECT_FALSE(second.connect(&error));
  EXPECT_NE(error.find("NetStream.Publish.BadName"), std::string::npos) << error;
  EXPECT_FALSE(second.isConnected());
  // Nothing listening: a clear, bounded failure.
  auto options = publisherOptions(nginx, "x");
  options.port = freePort();
  RawRtmpPublisher nobody(options);
  EXPECT_FALSE(nobody.connect(&error));
  EXPECT_NE(error.find("Connection refused"), std::string::npos) << error;
}


// ---- protocol details against a scripted fake server -------------------------------------------------------
// nginx hardly exercises the client's side of the protocol (it never pings an active publisher, announces a
// 5 MB ack window, uses one chunk size), so a scripted server on 127.0.0.1 checks the details: the handshake, OBS's
// command sequence and connect object, control messages in both directions (Window Ack Size -> Acknowledgement,
// PingRequest -> PingResponse, a 60-byte server chunk size, fmt 1/2/3 headers and extended timestamps from the
// server), and exactly how tags are chunked.

struct WireMessage {
  uint32_t csid = 0;
  uint8_t type = 0;
  uint32_t msid = 0;
  uint32_t timestamp = 0;
  std::vector<uint8_t> body;
  // First AMF0 string of a command (its name), or "".
  std::string command() const {
    if (type != 20 || body.size() < 3 || body[0] != 0x02) return "";
    const size_t n = (size_t{body[1]} << 8) | body[2];
    return body.size() < 3 + n ? "" : std::string(body.begin() + 3, body.begin() + 3 + static_cast<long>(n));
  }
  bool contains(const std::string& bytes) const {
    return std::search(body.begin(), body.end(), bytes.begin(), bytes.end(),
                       [](uint8_t a, char b) { return a == static_cast<uint8_t>(b); }) != body.end();
  }
};

std::string amfString(const std::string& s) { return std::string{0x02, 0x00, static_cast<char>(s.size())} + s; }
std::string amfKey(const std::string& k) { return std::string{0x00, static_cast<char>(k.size())} + k; }
std::string amfNumber(double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  std::string s(1, '\0');
  for (int i = 7; i >= 0; --i) s.push_back(static_cast<char>(bits >> (i * 8)));
  return s;
}
const std::string kAmfNull(1, '\x05');
const std::string kAmfObjectEnd("\x00\x00\x09", 3);

class FakeRtmpServer {
 public:
  FakeRtmpServer() {
    listenFd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (listenFd_ < 0 || ::bind(listenFd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(listenFd_, 1) != 0 || ::getsockname(listenFd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      throw std::runtime_error("fake server: cannot listen");
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeRtmpServer() {
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
    ::close(listenFd_);
  }
  int port() const { return port_; }
  // Waits for the session to end (client closed, or 10 s).
  void join() {
    if (thread_.joinable()) thread_.join();
  }

  static constexpr uint32_t kPingTimestamp = 0x01020304;
  static constexpr uint32_t kStreamId = 7;
  static constexpr uint32_t kAckWindow = 100;
  static constexpr uint32_t kServerChunk = 60;

  // Results, valid after join().
  std::vector<uint8_t> c0c1, c2, s1;
  std::vector<WireMessage> messages;
  uint64_t bytesSentToClient = 0;
  std::string failure;  // what went wrong on the server side, if anything

 private:
  bool readN(uint8_t* p, size_t n) {
    while (n > 0) {
      pollfd pfd{fd_, POLLIN, 0};
      if (::poll(&pfd, 1, 5000) != 1) return false;
      const ssize_t r = ::recv(fd_, p, n, 0);
      if (r <= 0) return false;
      p += r;
      n -= static_cast<size_t>(r);
    }
    return true;
  }
  bool writeBytes(const std::vector<uint8_t>& v) {
    size_t off = 0;
    while (off < v.size()) {
      const ssize_t r = ::send(fd_, v.data() + off, v.size() - off, MSG_NOSIGNAL);
      if (r <= 0) return false;
      off += static_cast<size_t>(r);
    }
    bytesSentToClient += v.size();
    return true;
  }
  // One message in kServerChunk-byte chunks; the first chunk with header format `fmt` (0, 1 or 2 -- the fields
  // fmt 1/2 leave out must match the previous message on that csid), continuations fmt 3.
  bool sendMessage(int fmt, uint32_t csid, uint8_t type, uint32_t msid, uint32_t tsField, const std::string& body) {
    std::vector<uint8_t> out;
    const bool ext = tsField >= 0xFFFFFF;
    auto u24 = [&](uint32_t v) { out.insert(out.end(), {uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)}); };
    auto u32 = [&](uint32_t v) { out.insert(out.end(), {uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)}); };
    out.push_back(static_cast<uint8_t>((fmt << 6) | csid));
    u24(ext ? 0xFFFFFF : tsField);
    if (fmt <= 1) {
      u24(static_cast<uint32_t>(body.size()));
      out.push_back(type);
    }
    if (fmt == 0) out.insert(out.end(), {uint8_t(msid), uint8_t(msid >> 8), uint8_t(msid >> 16), uint8_t(msid >> 24)});
    if (ext) u32(tsField);
    for (size_t pos = 0; pos < body.size(); pos += kServerChunk) {
      if (pos > 0) {
        out.push_back(static_cast<uint8_t>(0xC0 | csid));
        if (ext) u32(tsField);
      }
      const size_t n = std::min<size_t>(kServerChunk, body.size() - pos);
      out.insert(out.end(), body.begin() + static_cast<long>(pos), body.begin() + static_cast<long>(pos + n));
    }
    return writeBytes(out);
  }
  bool control(uint8_t type, const std::string& body) { return sendMessage(0, 2, type, 0, 0, body); }
  static std::string be32(uint32_t v) {
    return std::string{char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
  }

  // Reads one client message. The client (RawRtmpPublisher) only ever uses fmt 0 + fmt 3 and csid < 64.
  bool readMessage(WireMessage& m) {
    uint8_t b0;
    if (!readN(&b0, 1)) return false;
    if ((b0 >> 6) != 0) return fail("client message starts with a fmt " + std::to_string(b0 >> 6) + " chunk");
    uint8_t h[11];
    if (!readN(h, 11)) return false;
    m.csid = b0 & 0x3f;
    m.timestamp = (uint32_t{h[0]} << 16) | (uint32_t{h[1]} << 8) | h[2];
    const uint32_t length = (uint32_t{h[3]} << 16) | (uint32_t{h[4]} << 8) | h[5];
    m.type = h[6];
    m.msid = h[7] | (uint32_t{h[8]} << 8) | (uint32_t{h[9]} << 16) | (uint32_t{h[10]} << 24);
    const bool ext = m.timestamp == 0xFFFFFF;
    if (ext) {
      uint8_t e[4];
      if (!readN(e, 4)) return false;
      m.timestamp = (uint32_t{e[0]} << 24) | (uint32_t{e[1]} << 16) | (uint32_t{e[2]} << 8) | e[3];
    }
    m.body.resize(length);
    for (size_t pos = 0; pos < length; pos += clientChunk_) {
      if (pos > 0) {
        uint8_t c;
        if (!readN(&c, 1)) return false;
        if (c != (0xC0 | m.csid)) return fail("expected a fmt 3 continuation chunk on csid " + std::to_string(m.csid));
        if (ext) {
          uint8_t e[4];
          if (!readN(e, 4)) return false;
          const uint32_t again = (uint32_t{e[0]} << 24) | (uint32_t{e[1]} << 16) | (uint32_t{e[2]} << 8) | e[3];
          if (again != m.timestamp) return fail("continuation chunk without the extended timestamp");
        }
      }
      if (!readN(m.body.data() + pos, std::min<size_t>(clientChunk_, length - pos))) return false;
    }
    if (m.type == 1 && length >= 4) clientChunk_ = (uint32_t{m.body[0]} << 24) | (uint32_t{m.body[1]} << 16) |
                                                   (uint32_t{m.body[2]} << 8) | m.body[3];
    return true;
  }
  bool fail(const std::string& why) {
    if (failure.empty()) failure = why;
    return false;
  }

  void serve() {
    session();
    if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);  // the client's close() sees EOF at once
  }
  void session() {
    pollfd lp{listenFd_, POLLIN, 0};
    if (::poll(&lp, 1, 10000) != 1) return void(fail("no client"));
    fd_ = ::accept4(listenFd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd_ < 0) return void(fail("accept failed"));
    // Handshake: S0 S1 S2(= C1), then C2 must echo S1.
    c0c1.resize(1537);
    if (!readN(c0c1.data(), c0c1.size())) return void(fail("no C0+C1"));
    s1 = randomBytes(1536, 42);
    std::fill(s1.begin(), s1.begin() + 8, 0);
    std::vector<uint8_t> s012{3};
    s012.insert(s012.end(), s1.begin(), s1.end());
    s012.insert(s012.end(), c0c1.begin() + 1, c0c1.end());
    if (!writeBytes(s012)) return void(fail("cannot send S0-S2"));
    c2.resize(1536);
    if (!readN(c2.data(), c2.size())) return void(fail("no C2"));

    const auto deadline = Clock::now() + 10s;
    while (Clock::now() < deadline) {
      WireMessage m;
      if (!readMessage(m)) return;  // client closed (or a failure was recorded)
      messages.push_back(m);
      const std::string name = m.command();
      const std::string txn = m.body.size() >= 3 + name.size() + 9
                                  ? std::string(m.body.begin() + 3 + static_cast<long>(name.size()),
                                                m.body.begin() + 3 + static_cast<long>(name.size()) + 9)
                                  : amfNumber(0);
      bool ok = true;
      if (name == "connect") {
        ok = control(5, be32(kAckWindow)) &&                        // Window Acknowledgement Size
             control(6, be32(5000000) + std::string(1, '\x02')) &&  // Set Peer Bandwidth, dynamic
             control(1, be32(kServerChunk)) &&                      // Set Chunk Size (ours: 60)
             control(4, std::string("\x00\x00", 2) + be32(0)) &&  // User Control: StreamBegin 0
             // _result: 2 objects, > 60 bytes, so it arrives in several chunks.
             sendMessage(0, 3, 20, 0, 0,
                         amfString("_result") + txn + "\x03" + amfKey("fmsVer") + amfString("FMS/3,0,1,123") +
                             amfKey("capabilities") + amfNumber(31) + kAmfObjectEnd + "\x03" + amfKey("level") +
                             amfString("status") + amfKey("code") + amfString("NetConnection.Connect.Success") +
                             amfKey("description") + amfString("Connection succeeded.") + kAmfObjectEnd) &&
             // onBWDone on the same csid with a fmt 1 header (timestamp delta 10), to be ignored.
             sendMessage(1, 3, 20, 0, 10, amfString("onBWDone") + amfNumber(0) + kAmfNull) &&
             control(4, std::string("\x00\x06", 2) + be32(kPingTimestamp));  // PingRequest
      } else if (name == "createStream") {
        // fmt 1 (delta, length, type; msid carried over).
        ok = sendMessage(1, 3, 20, 0, 5, amfString("_result") + txn + kAmfNull + amfNumber(kStreamId));
      } else if (name == "publish") {
        // onStatus with an extended timestamp (so every continuation chunk repeats it), on csid 5.
        ok = sendMessage(0, 5, 20, kStreamId, 0x01000000,
                         amfString("onStatus") + amfNumber(0) + kAmfNull + "\x03" + amfKey("level") +
                             amfString("status") + amfKey("code") + amfString("NetStream.Publish.Start") +
                             amfKey("description") + amfString("Start publishing") + kAmfObjectEnd) &&
             // The same message again with a fmt 2 header (delta only): length and type carried over.
             sendMessage(2, 5, 20, kStreamId, 0x01000000,
                         amfString("onStatus") + amfNumber(0) + kAmfNull + "\x03" + amfKey("level") +
                             amfString("status") + amfKey("code") + amfString("NetStream.Publish.Start") +
                             amfKey("description") + amfString("Start publishing") + kAmfObjectEnd);
      }
      if (!ok) return void(fail("cannot answer " + name));
    }
  }

  int listenFd_ = -1;
  int fd_ = -1;
  int port_ = 0;
  uint32_t clientChunk_ = 128;
  std::thread thread_;
};

TEST(RawRtmpPublisherProtocol, ObsCommandSequenceControlMessagesAndChunking) {
  FakeRtmpServer server;
  RawRtmpPublisher::Options options;
  options.port = server.port();
  options.app = "ingest";
  options.streamName = "obs-key";
  options.chunkSize = 200;
  RawRtmpPublisher pub(options);
  std::string error;
  ASSERT_TRUE(pub.connect(&error)) << error << " / server: " << server.failure;
  EXPECT_EQ(pub.streamId(), FakeRtmpServer::kStreamId);

  const auto video = randomBytes(450, 7);  // 3 chunks of 200
  ASSERT_TRUE(pub.sendTag(9, 40, video.data(), video.size()));
  ASSERT_TRUE(pub.sendTag(9, 0x01000010, video.data(), video.size()));  // extended timestamp
  const auto audio = randomBytes(20, 8);
  ASSERT_TRUE(pub.sendTag(8, 0xFFFFFF, audio.data(), audio.size()));  // exactly 0xFFFFFF is extended too
  const auto meta = RawRtmpPublisher::withSetDataFrame(randomBytes(10, 9));
  ASSERT_TRUE(pub.sendTag(18, 0, meta.data(), meta.size()));
  EXPECT_TRUE(pub.pollIncoming(100));
  const uint64_t received = pub.bytesReceived();
  pub.close();
  server.join();
  ASSERT_TRUE(server.failure.empty()) << server.failure;

  // Handshake: C0 = 3; C1 = zero time, zero version, random; C2 = S1.
  ASSERT_EQ(server.c0c1.size(), 1537u);
  EXPECT_EQ(server.c0c1[0], 3);
  EXPECT_TRUE(std::all_of(server.c0c1.begin() + 1, server.c0c1.begin() + 9, [](uint8_t b) { return b == 0; }));
  EXPECT_FALSE(std::all_of(server.c0c1.begin() + 9, server.c0c1.end(), [](uint8_t b) { return b == 0; }));
  EXPECT_EQ(server.c2, server.s1);

  // Commands in OBS's order, then control messages interleaved where they fell.
  std::vector<std::string> commands;
  const WireMessage* connect = nullptr;
  const WireMessage* publish = nullptr;
  const WireMessage* deleteStream = nullptr;
  int acks = 0, pongs = 0;
  std::vector<const WireMessage*> tags;
  for (const auto& m : server.messages) {
    const std::string name = m.command();
    if (!name.empty()) commands.push_back(name);
    if (name == "connect") connect = &m;
    if (name == "publish") publish = &m;
    if (name == "deleteStream") deleteStream = &m;
    if (m.type == 3) {
      ++acks;
      ASSERT_EQ(m.body.size(), 4u);
      const uint32_t seq = (uint32_t{m.body[0]} << 24) | (uint32_t{m.body[1]} << 16) | (uint32_t{m.body[2]} << 8) |
                           m.body[3];
      EXPECT_GE(seq, FakeRtmpServer::kAckWindow);
      EXPECT_LE(seq, server.bytesSentToClient);
    }
    if (m.type == 4 && m.body.size() == 6 && m.body[1] == 7) {
      ++pongs;
      EXPECT_EQ(m.body, (std::vector<uint8_t>{0, 7, 1, 2, 3, 4}));
    }
    if (m.type == 8 || m.type == 9 || m.type == 18) tags.push_back(&m);
  }
  EXPECT_EQ(commands, (std::vector<std::string>{"connect", "releaseStream", "FCPublish", "createStream", "publish",
                                                "FCUnpublish", "deleteStream"}));
  ASSERT_FALSE(server.messages.empty());
  EXPECT_EQ(server.messages[0].type, 1);  // Set Chunk Size first
  EXPECT_EQ(server.messages[0].body, (std::vector<uint8_t>{0, 0, 0, 200}));
  EXPECT_GE(acks, 1);
  EXPECT_EQ(pongs, 1);
  EXPECT_GT(received, 1 + 2 * 1536u);  // S0 S1 S2 and the messages

  ASSERT_NE(connect, nullptr);
  EXPECT_EQ(connect->csid, 3u);
  EXPECT_EQ(connect->msid, 0u);
  const std::string tcUrl = "rtmp://127.0.0.1:" + std::to_string(server.port()) + "/ingest";
  EXPECT_TRUE(connect->contains(amfNumber(1) + "\x03"));  // transaction 1, then the command object
  for (const auto& kv : std::vector<std::pair<std::string, std::string>>{
           {"app", "ingest"},
           {"type", "nonprivate"},
           {"flashVer", "FMLE/3.0 (compatible; FMSc/1.0)"},
           {"swfUrl", tcUrl},
           {"tcUrl", tcUrl}})
    EXPECT_TRUE(connect->contains(amfKey(kv.first) + amfString(kv.second))) << kv.first;
  ASSERT_NE(publish, nullptr);
  EXPECT_EQ(publish->csid, 4u);
  EXPECT_EQ(publish->msid, FakeRtmpServer::kStreamId);
  EXPECT_TRUE(publish->contains(kAmfNull + amfString("obs-key") + amfString("live")));
  ASSERT_NE(deleteStream, nullptr);
  EXPECT_TRUE(deleteStream->contains(kAmfNull + amfNumber(FakeRtmpServer::kStreamId)));

  ASSERT_EQ(tags.size(), 4u);
  EXPECT_EQ(tags[0]->csid, 4u);
  EXPECT_EQ(tags[0]->msid, FakeRtmpServer::kStreamId);
  EXPECT_EQ(tags[0]->timestamp, 40u);
  EXPECT_EQ(tags[0]->body, video);
  EXPECT_EQ(tags[1]->timestamp, 0x01000010u);  // (the server checked the extended timestamp in each chunk)
  EXPECT_EQ(tags[1]->body, video);
  EXPECT_EQ(tags[2]->type, 8);
  EXPECT_EQ(tags[2]->timestamp, 0xFFFFFFu);
  EXPECT_EQ(tags[2]->body, audio);
  EXPECT_EQ(tags[3]->type, 18);
  EXPECT_EQ(tags[3]->csid, 6u);
  EXPECT_EQ(tags[3]->body, meta);

  // Statuses seen: the connect _result and both onStatus (the second one sent with a fmt 2 header).
  int starts = 0;
  for (const auto& s : pub.statuses())
    if (s.code == "NetStream.Publish.Start") ++starts;
  EXPECT_EQ(starts, 2);
  EXPECT_EQ(pub.statuses().front().code, "NetConnection.Connect.Success");
}

TEST(RawRtmpPublisherProtocol, ShortSequenceWithoutObsCommands) {
  FakeRtmpServer server;
  RawRtmpPublisher::Options options;
  options.port = server.port();
  options.app = "a";
  options.streamName = "s";
  options.obsCommandSequence = false;
  RawRtmpPublisher pub(options);
  std::string error;
  ASSERT_TRUE(pub.connect(&error)) << error;
  pub.close();
  server.join();
  std::vector<std::string> commands;
  for (const auto& m : server.messages)
    if (!m.command().empty()) commands.push_back(m.command());
  EXPECT_EQ(commands, (std::vector<std::string>{"connect", "createStream", "publish", "FCUnpublish", "deleteStream"}));
}

}  // namespace
