#pragma once
// A minimal RTMP publisher that sends byte-exact FLV tag bodies, for content libavformat's own muxer refuses to
// produce: unsupported codec ids (FLV video codec 12 "HEVC" of some CDNs, audio sound formats 9 / 13), corrupt
// tag bodies, bogus AVC packet types, raw garbage on the socket after a good start, and OBS's exact publish
// command sequence (connect, releaseStream, FCPublish, createStream, publish "live").
//
// Depends only on the standard library and POSIX sockets. Every socket operation is bounded by poll() with
// Options::ioTimeoutMs. One instance is one connection; it is not thread-safe (use it from one thread; `stop`
// in publishFile() is the only thing meant to be touched from another thread).
//
// What goes on the wire (csid = chunk stream id, msid = message stream id):
//   C0+C1 (version 3, zero time, zero version, 1528 random bytes); S0+S1 read; C2 = echo of S1; S2 read.
//   Set Chunk Size (csid 2) = Options::chunkSize.
//   connect (csid 3, txn 1): {app, type:"nonprivate", flashVer:"FMLE/3.0 (compatible; FMSc/1.0)", swfUrl, tcUrl}
//   -- waits for connect's _result (NetConnection.Connect.Success); _error fails with its description --
//   [obsCommandSequence] releaseStream(txn 2, null, name), FCPublish(txn 3, null, name)   (csid 3)
//   createStream (csid 3, next txn) -- waits for its _result, whose 4th value is the stream id --
//   publish (csid 4, msid = stream id, next txn, like librtmp/OBS): (null, name, "live")
//   -- waits for onStatus NetStream.Publish.Start; any other onStatus of level "error" (e.g.
//      NetStream.Publish.BadName) fails connect() with "code: description" --
//   sendTag(): one message per tag, type-0 header then type-3 continuation chunks; csid 4 for audio/video (8/9),
//   csid 6 for anything else (data, 18); extended timestamp (in every chunk of the message) when >= 0xFFFFFF.
//   close(): [unless sendRaw() was used] FCUnpublish(null, name) + deleteStream(null, streamId), then close.
// Incoming messages are handled whenever we read (during connect(), and non-blockingly in every sendTag()):
//   Set Chunk Size, Abort, Window Acknowledgement Size (we send Acknowledgement each time that many bytes
//   arrived), Set Peer Bandwidth (stored; like librtmp (OBS) and ffmpeg's rtmpproto we do not answer it), User Control
//   (PingRequest -> PingResponse; StreamBegin/EOF/... ignored), AMF0/AMF3 commands (_result/_error/onStatus are
//   recorded in statuses()), everything else ignored.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace venuecast::testing {

class RawRtmpPublisher {
 public:
  struct Options {
    std::string host = "127.0.0.1";  // numeric IPv4 address
    int port = 1935;
    std::string app = "live";
    std::string streamName;
    std::string tcUrl;               // empty: rtmp://host:port/app
    bool obsCommandSequence = true;  // send releaseStream + FCPublish before createStream (as OBS does)
    int chunkSize = 4096;            // outgoing chunk size, announced with Set Chunk Size before connect
    int ioTimeoutMs = 5000;          // bound on TCP connect, each wait for the server, and each blocked write
  };

  // One FLV tag (also: one RTMP message). `type` is the FLV/RTMP message type: 8 audio, 9 video, 18 script.
  struct FlvTag {
    uint8_t type = 0;
    uint32_t timestampMs = 0;  // FLV tag timestamp = DTS in ms (24 bits + extension byte in the file)
    std::vector<uint8_t> body;
  };

  // A status seen from the server: onStatus info objects, and _error answers (level "error").
  struct Status {
    std::string command;  // "onStatus", "_error", "_result"
    std::string level;    // "status", "error", "warning"
    std::string code;     // e.g. "NetStream.Publish.Start", "NetStream.Publish.BadName"
    std::string description;
  };

  explicit RawRtmpPublisher(Options options);
  ~RawRtmpPublisher();  // close()
  RawRtmpPublisher(const RawRtmpPublisher&) = delete;
  RawRtmpPublisher& operator=(const RawRtmpPublisher&) = delete;

  // TCP connect, handshake, connect/releaseStream/FCPublish/createStream/publish; true once the server said
  // NetStream.Publish.Start. On failure *error (if given) says what went wrong and the socket is closed.
  bool connect(std::string* error = nullptr);

  // One RTMP message of type `type` carrying `data` verbatim. False (see lastError()) if not connected, the
  // write blocked for longer than ioTimeoutMs, or the server closed the connection.
  bool sendTag(uint8_t type, uint32_t timestampMs, const uint8_t* data, size_t size);
  bool sendTag(const FlvTag& tag) { return sendTag(tag.type, tag.timestampMs, tag.body.data(), tag.body.size()); }

  // Raw bytes on the socket, bypassing chunking (breaks the chunk stream for good: close() then skips its
  // polite FCUnpublish/deleteStream).
  bool sendRaw(const uint8_t* data, size_t size);

  // Reads and handles whatever the server sent, waiting up to `timeoutMs` for the first byte (0 = just drain).
  // False once the connection is closed or broken (lastError() says how).
  bool pollIncoming(int timeoutMs = 0);

  // FCUnpublish + deleteStream (if the chunk stream is still intact), then closes the socket. Idempotent.
  void close();

  bool isConnected() const { return fd_ >= 0; }
  bool peerClosed() const { return peerClosed_; }  // the server closed (or reset) the connection
  uint32_t streamId() const { return streamId_; }
  const Options& options() const { return options_; }
  const std::string& lastError() const { return lastError_; }
  const std::vector<Status>& statuses() const { return statuses_; }
  uint64_t bytesSent() const { return bytesSent_; }
  uint64_t bytesReceived() const { return bytesReceived_; }

  // Whole FLV file -> tags (header and PreviousTagSize fields skipped, the filter/reserved bits of the type byte
  // dropped, the 8-bit timestamp extension applied). A truncated last tag is dropped. Throws
  // std::runtime_error if the file cannot be read or does not start with "FLV".
  static std::vector<FlvTag> readFlvFile(const std::string& path);

  // Sends `tags` `loops` times (loops <= 0: until *stop). Timestamps continue across loops (each loop is offset
  // by the span of the file plus one frame interval); on loops after the first, script tags and AVC/AAC sequence
  // headers are not repeated. `mutate` (optional) sees a copy of each tag, timestamp already offset, and may
  // change anything; setting type to 0 skips the tag. With `realtime`, each tag is sent when the wall clock since
  // the first tag reaches its (unmutated, offset) timestamp. Returns false if a send failed (lastError(), also in
  // *error) -- true if all loops were sent or *stop was set.
  bool publishFile(const std::vector<FlvTag>& tags, bool realtime, const std::function<void(FlvTag&)>& mutate = {},
                   std::atomic<bool>* stop = nullptr, int loops = 1, std::string* error = nullptr);

  // "@setDataFrame" (AMF0 string) + body: how OBS/ffmpeg send onMetaData over RTMP (an FLV file's script tag
  // holds just "onMetaData" + the array). Handy in a publishFile() mutate.
  static std::vector<uint8_t> withSetDataFrame(const std::vector<uint8_t>& scriptBody);

 private:
  struct InChunkStream {
    uint32_t timestamp = 0;  // absolute timestamp of the message being / last assembled
    uint32_t delta = 0;
    uint32_t length = 0;
    uint8_t type = 0;
    uint32_t streamId = 0;
    bool extended = false;
    bool started = false;           // a header with length/type has been seen
    std::vector<uint8_t> partial;   // message being assembled
  };
  struct Message {
    uint8_t type = 0;
    uint32_t streamId = 0;
    uint32_t timestamp = 0;
    std::vector<uint8_t> body;
  };

  bool fail(std::string message, std::string* error);
  bool writeAll(const uint8_t* data, size_t size);
  bool readExact(uint8_t* data, size_t size, int timeoutMs);
  bool fillBuffer(int timeoutMs);  // one read() into inBuf_
  bool sendMessage(uint32_t csid, uint8_t type, uint32_t msid, uint32_t timestamp, const uint8_t* data,
                   size_t size);
  bool sendCommand(uint32_t csid, uint32_t msid, const std::vector<uint8_t>& amf);
  bool sendControl(uint8_t type, const std::vector<uint8_t>& body);
  // Parses complete messages out of inBuf_ and handles them; false on a protocol error.
  bool processInput();
  bool handleMessage(const Message& message);
  // Waits (bounded) until `done()` is true, reading and handling input. False on timeout / close / error.
  bool waitFor(const std::function<bool()>& done, int timeoutMs, const std::string& what);
  void closeSocket();

  Options options_;
  int fd_ = -1;
  bool peerClosed_ = false;
  bool rawSent_ = false;
  bool publishing_ = false;
  std::string lastError_;
  uint64_t bytesSent_ = 0;
  uint64_t bytesReceived_ = 0;

  // incoming
  std::vector<uint8_t> inBuf_;
  size_t inPos_ = 0;
  uint32_t inChunkSize_ = 128;
  std::map<uint32_t, InChunkStream> inStreams_;
  uint32_t ackWindow_ = 0;  // 0: none announced
  uint64_t lastAckAt_ = 0;  // bytesReceived_ when we last acknowledged
  uint32_t peerBandwidth_ = 0;

  // command state
  double nextTxn_ = 1;
  double connectTxn_ = 0;
  double createStreamTxn_ = 0;
  bool connectDone_ = false;
  bool connectOk_ = false;
  bool createStreamDone_ = false;
  bool publishDone_ = false;
  bool publishOk_ = false;
  std::string commandError_;
  uint32_t streamId_ = 0;
  std::vector<Status> statuses_;
};

}  // namespace venuecast::testing
