#pragma once
// A libavformat RTMP publisher for timestamp edge cases. It loops a clip with continuous timestamps
// ("source ms": the clip's dts/pts plus the length of the loops before), passes dts and pts through a user
// transform, and writes with av_write_frame to `flv` over rtmp. It paces by the wall clock against the
// *untransformed* source ms, so a transformed jump does not make it sleep or burst.
//
// What goes on the wire (FFmpeg 5.1): flvenc.c flv_write_packet() does `unsigned ts = pkt->dts;` and
// put_timestamp() writes `ts & 0xFFFFFF` plus `(ts >> 24) & 0x7F` as the FLV tag timestamp, i.e. dts modulo 2^31
// (the 8th bit of the extension byte is never set); the composition offset is pts-dts in 24 bits. rtmpproto.c
// rtmp_write() parses that tag timestamp back into the RTMP message timestamp, so the RTMP wire timestamp is
// also dts mod 2^31 (2147483648 ms = 24.86 days). libavformat's mux checks see the untruncated 64-bit dts, so
// a transform that crosses 2^31 is accepted by the muxer and wraps only on the wire.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/stream_probe.h"

namespace venuecast::testing {

class TsPublisher {
 public:
  using Transform = std::function<int64_t(int64_t sourceMs)>;
  enum class PtsMode {
    KeepCts,    // pts = transform(dts) + (pts - dts): like an encoder whose clock jumped (default)
    Transform,  // pts = transform(pts): B-frames straddling a jump get a huge pts-dts (see harness_test.cpp)
  };
  struct Options {
    std::filesystem::path clip;
    std::string url;
    Transform transform;                                 // identity if empty; applied to the source dts
    PtsMode ptsMode = PtsMode::KeepCts;
    std::chrono::milliseconds rwTimeout{5000};
    std::optional<std::chrono::milliseconds> duration;   // stop after this much source time (else until stop())
  };
  struct Written {  // one packet as handed to av_write_frame
    int64_t sentUs = 0;  // StreamProbe::nowUs()
    MediaKind kind = MediaKind::Other;
    int64_t sourceDtsMs = 0, dtsMs = 0, ptsMs = 0;  // dts/pts after the transform, before the 31-bit mask
    bool key = false;
    int size = 0;
    int loop = 0;
  };

  explicit TsPublisher(Options options);
  ~TsPublisher();  // stop()
  TsPublisher(const TsPublisher&) = delete;
  TsPublisher& operator=(const TsPublisher&) = delete;

  void start();
  void stop();           // interrupts a blocked write and joins
  bool finished() const; // thread ended (duration reached, error, or stopped)
  std::vector<Written> written() const;
  std::size_t writtenCount() const;
  std::vector<std::string> errors() const;
  bool waitForWritten(std::size_t n, std::chrono::milliseconds timeout) const;
  bool waitFinished(std::chrono::milliseconds timeout) const;

  // Transforms for the usual cases.
  static Transform jumpAt(int64_t atSourceMs, int64_t byMs);  // ms >= at: ms + by
  static Transform offset(int64_t byMs);                      // ms + by (e.g. (1LL << 31) - 3000 to wrap after 3 s)

 private:
  void run();
  bool publish();
  void addError(const std::string& e);

  Options options_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mutex_;
  mutable std::condition_variable cv_;
  std::vector<Written> written_;
  std::vector<std::string> errors_;
  bool finished_ = false;
};

}  // namespace venuecast::testing
