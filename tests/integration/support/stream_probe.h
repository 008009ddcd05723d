#pragma once
// An in-process RTMP player (libavformat) on its own thread that records every packet it receives.
// Arrival times are taken when the packet's bytes come out of the RTMP protocol layer (a custom AVIOContext
// between rtmpproto and the flv demuxer maps each packet's byte position to the time those bytes arrived), so
// packets buffered by avformat_find_stream_info still get their true arrival time.
// If the stream is not there yet, ends (EOF with publish_notify), errors or stalls past rwTimeout, the probe
// reconnects (bounded number of attempts) and starts a new "session"; packets carry their session index.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace venuecast::testing {

enum class MediaKind { Video, Audio, Other };
const char* toString(MediaKind kind);

inline constexpr int64_t kNoTimestamp = std::numeric_limits<int64_t>::min();

struct ProbePacket {
  int64_t arrivalUs = 0;  // StreamProbe::nowUs() (steady clock) when its bytes arrived
  MediaKind kind = MediaKind::Other;
  int64_t dtsMs = kNoTimestamp;  // as returned by av_read_frame, rescaled to ms
  int64_t ptsMs = kNoTimestamp;
  bool key = false;
  int size = 0;
  bool newExtradata = false;     // carries AV_PKT_DATA_NEW_EXTRADATA (a repeated/changed sequence header)
  int newExtradataSize = 0;
  int session = 0;               // index into sessions()
  int64_t bytePos = -1;          // position in the session's FLV byte stream
};

struct ProbeStreamInfo {  // codec parameters as libavformat reports them after avformat_find_stream_info
  MediaKind kind = MediaKind::Other;
  std::string codecName;  // "h264", "aac"
  std::string profile;    // "High", "LC"
  int width = 0, height = 0;
  int sampleRate = 0, channels = 0;
  std::vector<uint8_t> extradata;
};

struct ProbeSession {
  int index = 0;
  int64_t openedUs = 0;     // when the open (incl. find_stream_info) completed
  int64_t endedUs = 0;      // 0 while running
  std::string endReason;    // av_strerror text of what ended it ("End of file", "Connection timed out", ...)
  std::vector<ProbeStreamInfo> streams;
  int64_t packets = 0;
  const ProbeStreamInfo* stream(MediaKind kind) const;
};

class StreamProbe {
 public:
  struct Options {
    std::string url;
    std::chrono::milliseconds rwTimeout{5000};        // rw_timeout: a stall longer than this ends a session
    std::chrono::milliseconds analyzeDuration{1000};  // for avformat_find_stream_info
    std::chrono::milliseconds retryDelay{100};        // after a session; doubles per failed attempt (max 1 s)
    int maxAttempts = 100;                            // open attempts (successful or not) before giving up
    std::string rtmpLive = "live";                    // rtmp_live: play start = -1000 (live only)
    // libavformat's correct_ts_overflow (default on, as in any libav reader such as the relay): FLV streams have
    // pts_wrap_bits = 32; the first timestamp minus 60 s becomes the wrap reference and any later timestamp
    // *below* it gets +2^32. Off: dts/pts are the raw 32-bit FLV/RTMP values.
    bool correctTsOverflow = true;
  };

  explicit StreamProbe(std::string url);
  explicit StreamProbe(Options options);
  ~StreamProbe();  // stop()
  StreamProbe(const StreamProbe&) = delete;
  StreamProbe& operator=(const StreamProbe&) = delete;

  void start();
  void stop();  // interrupts blocking libav calls (within ~100 ms) and joins

  std::vector<ProbePacket> packets() const;
  std::vector<ProbePacket> packets(MediaKind kind) const;
  std::size_t packetCount() const;
  std::vector<ProbeSession> sessions() const;
  std::optional<ProbeSession> lastSession() const;
  int connectCount() const;  // successful opens
  int attemptCount() const;
  std::vector<std::string> errors() const;
  bool finished() const;     // thread gave up (maxAttempts) or was stopped

  // Waits until at least n packets (of `kind`, if given) have been received in total.
  bool waitForPackets(std::size_t n, std::chrono::milliseconds timeout, std::optional<MediaKind> kind = {}) const;
  // Waits until `pred(packets)` holds; evaluated after every packet and at least every 100 ms.
  bool waitUntil(const std::function<bool(const std::vector<ProbePacket>&)>& pred,
                 std::chrono::milliseconds timeout) const;
  bool waitForConnects(int n, std::chrono::milliseconds timeout) const;

  static int64_t nowUs();  // steady clock, µs
  static void initLibav(); // avformat_network_init + av_log level (VENUECAST_IT_AVLOG=debug|info|warning|...)

 private:
  struct Session;
  void run();
  bool runSession(int index);
  void addError(const std::string& what);
  static int readPacket(void* opaque, uint8_t* buf, int size);

  Options options_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> closing_{false};
  std::thread thread_;
  mutable std::mutex mutex_;
  mutable std::condition_variable cv_;
  std::vector<ProbePacket> packets_;
  std::vector<ProbeSession> sessions_;
  std::vector<std::string> errors_;
  int connects_ = 0;
  int attempts_ = 0;
  bool finished_ = false;
};

}  // namespace venuecast::testing
