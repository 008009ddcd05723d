#include "support/raw_rtmp_publisher.h"

#include <arpa/inet.h>
#include <cerrno>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <stdexcept>
#include <thread>
#include <utility>

namespace venuecast::testing {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kHandshakeSize = 1536;
constexpr uint32_t kMaxChunkSize = 0x7fffffff;
constexpr uint32_t kExtendedTimestamp = 0xFFFFFF;
constexpr uint32_t kMaxIncomingMessage = 16 * 1024 * 1024;

// RTMP message types (RTMP spec 5.4, 7.1).
constexpr uint8_t kSetChunkSize = 1;
constexpr uint8_t kAbort = 2;
constexpr uint8_t kAcknowledgement = 3;
constexpr uint8_t kUserControl = 4;
constexpr uint8_t kWindowAckSize = 5;
constexpr uint8_t kSetPeerBandwidth = 6;
constexpr uint8_t kAudio = 8;
constexpr uint8_t kVideo = 9;
constexpr uint8_t kAmf3Command = 17;
constexpr uint8_t kAmf0Command = 20;

constexpr uint32_t kControlCsid = 2;
constexpr uint32_t kCommandCsid = 3;
constexpr uint32_t kMediaCsid = 4;
constexpr uint32_t kDataCsid = 6;

// ---- AMF0 --------------------------------------------------------------------------------------------------

struct AmfProperty;
struct AmfValue {
  enum class Type { Number, Boolean, String, Object, Null, Undefined, Array, Other } type = Type::Undefined;
  double number = 0;
  bool boolean = false;
  std::string string;
  std::vector<AmfProperty> properties;  // Object / ECMA array
  std::vector<AmfValue> items;          // strict array

  const AmfValue* get(const std::string& key) const;
  std::string str(const std::string& key) const {
    const AmfValue* v = get(key);
    return v && v->type == Type::String ? v->string : std::string();
  }
};
struct AmfProperty {
  std::string key;
  AmfValue value;
};
const AmfValue* AmfValue::get(const std::string& key) const {
  for (const auto& p : properties)
    if (p.key == key) return &p.value;
  return nullptr;
}

void putU16(std::vector<uint8_t>& out, uint32_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}
void putU24(std::vector<uint8_t>& out, uint32_t v) {
  out.push_back(static_cast<uint8_t>(v >> 16));
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}
void putU32(std::vector<uint8_t>& out, uint32_t v) {
  out.push_back(static_cast<uint8_t>(v >> 24));
  out.push_back(static_cast<uint8_t>(v >> 16));
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}
void putU32LE(std::vector<uint8_t>& out, uint32_t v) {
  out.push_back(static_cast<uint8_t>(v));
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v >> 16));
  out.push_back(static_cast<uint8_t>(v >> 24));
}
uint32_t getU16(const uint8_t* p) { return (uint32_t{p[0]} << 8) | p[1]; }
uint32_t getU24(const uint8_t* p) { return (uint32_t{p[0]} << 16) | (uint32_t{p[1]} << 8) | p[2]; }
uint32_t getU32(const uint8_t* p) { return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3]; }
uint32_t getU32LE(const uint8_t* p) { return (uint32_t{p[3]} << 24) | (uint32_t{p[2]} << 16) | (uint32_t{p[1]} << 8) | p[0]; }

class AmfWriter {
 public:
  AmfWriter& number(double v) {
    out_.push_back(0x00);
    uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    for (int i = 7; i >= 0; --i) out_.push_back(static_cast<uint8_t>(bits >> (i * 8)));
    return *this;
  }
  AmfWriter& string(const std::string& s) {
    if (s.size() > 0xFFFF) {
      out_.push_back(0x0C);
      putU32(out_, static_cast<uint32_t>(s.size()));
    } else {
      out_.push_back(0x02);
      putU16(out_, static_cast<uint32_t>(s.size()));
    }
    out_.insert(out_.end(), s.begin(), s.end());
    return *this;
  }
  AmfWriter& null() {
    out_.push_back(0x05);
    return *this;
  }
  AmfWriter& beginObject() {
    out_.push_back(0x03);
    return *this;
  }
  AmfWriter& key(const std::string& k) {
    putU16(out_, static_cast<uint32_t>(k.size()));
    out_.insert(out_.end(), k.begin(), k.end());
    return *this;
  }
  AmfWriter& endObject() {
    out_.insert(out_.end(), {0x00, 0x00, 0x09});
    return *this;
  }
  const std::vector<uint8_t>& bytes() const { return out_; }

 private:
  std::vector<uint8_t> out_;
};

class AmfReader {
 public:
  AmfReader(const uint8_t* data, size_t size) : p_(data), end_(data + size) {}
  bool atEnd() const { return p_ >= end_; }

  bool read(AmfValue& v, int depth = 0) {
    if (p_ >= end_ || depth > 32) return false;
    const uint8_t marker = *p_++;
    switch (marker) {
      case 0x00: {  // number
        if (end_ - p_ < 8) return false;
        uint64_t bits = 0;
        for (int i = 0; i < 8; ++i) bits = (bits << 8) | p_[i];
        p_ += 8;
        v.type = AmfValue::Type::Number;
        std::memcpy(&v.number, &bits, sizeof bits);
        return true;
      }
      case 0x01:  // boolean
        if (p_ >= end_) return false;
        v.type = AmfValue::Type::Boolean;
        v.boolean = *p_++ != 0;
        return true;
      case 0x02:  // string
        v.type = AmfValue::Type::String;
        return readShortString(v.string);
      case 0x0C: {  // long string
        if (end_ - p_ < 4) return false;
        const uint32_t n = getU32(p_);
        p_ += 4;
        if (static_cast<size_t>(end_ - p_) < n) return false;
        v.type = AmfValue::Type::String;
        v.string.assign(reinterpret_cast<const char*>(p_), n);
        p_ += n;
        return true;
      }
      case 0x03:  // object
        v.type = AmfValue::Type::Object;
        return readProperties(v, depth);
      case 0x08:  // ECMA array: u32 count (advisory), then properties like an object
        if (end_ - p_ < 4) return false;
        p_ += 4;
        v.type = AmfValue::Type::Object;
        return readProperties(v, depth);
      case 0x0A: {  // strict array
        if (end_ - p_ < 4) return false;
        const uint32_t n = getU32(p_);
        p_ += 4;
        v.type = AmfValue::Type::Array;
        for (uint32_t i = 0; i < n; ++i) {
          AmfValue item;
          if (!read(item, depth + 1)) return false;
          v.items.push_back(std::move(item));
        }
        return true;
      }
      case 0x05:
        v.type = AmfValue::Type::Null;
        return true;
      case 0x06:
        v.type = AmfValue::Type::Undefined;
        return true;
      case 0x0B:  // date: double + s16 timezone
        if (end_ - p_ < 10) return false;
        p_ += 10;
        v.type = AmfValue::Type::Other;
        return true;
      default:  // reference, AMF3 switch, ... -- not expected from a server's command replies
        return false;
    }
  }

 private:
  bool readShortString(std::string& s) {
    if (end_ - p_ < 2) return false;
    const uint32_t n = getU16(p_);
    p_ += 2;
    if (end_ - p_ < static_cast<std::ptrdiff_t>(n)) return false;
    s.assign(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return true;
  }
  bool readProperties(AmfValue& v, int depth) {
    while (true) {
      if (end_ - p_ >= 3 && p_[0] == 0 && p_[1] == 0 && p_[2] == 0x09) {
        p_ += 3;
        return true;
      }
      AmfProperty prop;
      if (!readShortString(prop.key)) return false;
      if (!read(prop.value, depth + 1)) return false;
      v.properties.push_back(std::move(prop));
    }
  }

  const uint8_t* p_;
  const uint8_t* end_;
};

std::string describeErrno(const char* what, int err) { return std::string(what) + ": " + std::strerror(err); }

int remainingMs(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

// AVC/HEVC/AAC sequence headers: the configuration records, sent once per stream.
bool isConfigTag(const RawRtmpPublisher::FlvTag& tag) {
  if (tag.type == 18) return true;
  if (tag.body.size() < 2) return false;
  if (tag.type == kVideo) {
    const int codec = tag.body[0] & 0x0f;
    return (codec == 7 || codec == 12) && tag.body[1] == 0;
  }
  if (tag.type == kAudio) return (tag.body[0] >> 4) == 10 && tag.body[1] == 0;
  return false;
}

}  // namespace

// ---- lifecycle -------------------------------------------------------------------------------------------------

RawRtmpPublisher::RawRtmpPublisher(Options options) : options_(std::move(options)) {
  if (options_.tcUrl.empty())
    options_.tcUrl = "rtmp://" + options_.host + ":" + std::to_string(options_.port) + "/" + options_.app;
  options_.chunkSize = std::clamp(options_.chunkSize, 1, static_cast<int>(kMaxChunkSize));
}

RawRtmpPublisher::~RawRtmpPublisher() { close(); }

bool RawRtmpPublisher::fail(std::string message, std::string* error) {
  lastError_ = std::move(message);
  if (error) *error = lastError_;
  closeSocket();
  return false;
}

void RawRtmpPublisher::closeSocket() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  publishing_ = false;
}

bool RawRtmpPublisher::connect(std::string* error) {
  if (fd_ >= 0) return fail("connect(): already connected", error);
  // Fresh state (an instance may be reconnected after close()).
  peerClosed_ = rawSent_ = publishing_ = false;
  inBuf_.clear();
  inPos_ = 0;
  inChunkSize_ = 128;
  inStreams_.clear();
  ackWindow_ = 0;
  lastAckAt_ = bytesReceived_ = bytesSent_ = 0;
  nextTxn_ = 1;
  connectDone_ = connectOk_ = createStreamDone_ = publishDone_ = publishOk_ = false;
  commandError_.clear();
  streamId_ = 0;
  statuses_.clear();

  const std::string where = options_.host + ":" + std::to_string(options_.port);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(options_.port));
  if (inet_pton(AF_INET, options_.host.c_str(), &addr.sin_addr) != 1)
    return fail("bad IPv4 address '" + options_.host + "'", error);

  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return fail(describeErrno("socket", errno), error);
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno != EINPROGRESS) return fail(describeErrno(("connect to " + where).c_str(), errno), error);
    pollfd pfd{fd_, POLLOUT, 0};
    int r;
    do r = ::poll(&pfd, 1, options_.ioTimeoutMs);
    while (r < 0 && errno == EINTR);
    if (r == 0) return fail("connect to " + where + ": timed out", error);
    int soErr = 0;
    socklen_t len = sizeof soErr;
    ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &soErr, &len);
    if (r < 0 || soErr != 0) return fail(describeErrno(("connect to " + where).c_str(), r < 0 ? errno : soErr), error);
  }

  // ---- handshake: C0 C1 -> S0 S1 -> C2 (= S1) -> S2
  std::vector<uint8_t> c0c1(1 + kHandshakeSize, 0);
  c0c1[0] = 3;
  std::mt19937 rng(std::random_device{}());
  for (size_t i = 9; i < c0c1.size(); ++i) c0c1[i] = static_cast<uint8_t>(rng());
  if (!writeAll(c0c1.data(), c0c1.size())) return fail("handshake: sending C0+C1: " + lastError_, error);
  std::vector<uint8_t> s0s1(1 + kHandshakeSize);
  if (!readExact(s0s1.data(), s0s1.size(), options_.ioTimeoutMs))
    return fail("handshake: reading S0+S1: " + lastError_, error);
  if (s0s1[0] != 3) return fail("handshake: server speaks RTMP version " + std::to_string(s0s1[0]) + ", not 3", error);
  if (!writeAll(s0s1.data() + 1, kHandshakeSize)) return fail("handshake: sending C2: " + lastError_, error);
  std::vector<uint8_t> s2(kHandshakeSize);
  if (!readExact(s2.data(), s2.size(), options_.ioTimeoutMs)) return fail("handshake: reading S2: " + lastError_, error);

  // ---- Set Chunk Size, connect
  {
    std::vector<uint8_t> body;  // 4 bytes: one chunk whatever the chunk size, which applies from the next message
    putU32(body, static_cast<uint32_t>(options_.chunkSize));
    if (!sendControl(kSetChunkSize, body)) return fail("sending Set Chunk Size: " + lastError_, error);
  }
  connectTxn_ = nextTxn_++;
  {
    AmfWriter w;
    w.string("connect").number(connectTxn_).beginObject();
    w.key("app").string(options_.app);
    w.key("type").string("nonprivate");
    w.key("flashVer").string("FMLE/3.0 (compatible; FMSc/1.0)");
    w.key("swfUrl").string(options_.tcUrl);
    w.key("tcUrl").string(options_.tcUrl);
    w.endObject();
    if (!sendCommand(kCommandCsid, 0, w.bytes())) return fail("sending connect: " + lastError_, error);
  }
  if (!waitFor([this] { return connectDone_; }, options_.ioTimeoutMs, "the answer to connect"))
    return fail(lastError_, error);
  if (!connectOk_) return fail("connect refused: " + commandError_, error);

  // ---- releaseStream, FCPublish (OBS), createStream
  if (options_.obsCommandSequence) {
    for (const char* command : {"releaseStream", "FCPublish"}) {
      AmfWriter w;
      w.string(command).number(nextTxn_++).null().string(options_.streamName);
      if (!sendCommand(kCommandCsid, 0, w.bytes())) return fail(std::string("sending ") + command + ": " + lastError_, error);
    }
  }
  createStreamTxn_ = nextTxn_++;
  {
    AmfWriter w;
    w.string("createStream").number(createStreamTxn_).null();
    if (!sendCommand(kCommandCsid, 0, w.bytes())) return fail("sending createStream: " + lastError_, error);
  }
  if (!waitFor([this] { return createStreamDone_; }, options_.ioTimeoutMs, "the answer to createStream"))
    return fail(lastError_, error);
  if (!commandError_.empty()) return fail("createStream refused: " + commandError_, error);

  // ---- publish
  {
    AmfWriter w;
    w.string("publish").number(nextTxn_++).null().string(options_.streamName).string("live");
    if (!sendCommand(kMediaCsid, streamId_, w.bytes())) return fail("sending publish: " + lastError_, error);
  }
  if (!waitFor([this] { return publishDone_; }, options_.ioTimeoutMs, "onStatus NetStream.Publish.Start"))
    return fail(lastError_, error);
  if (!publishOk_) return fail("publish refused: " + commandError_, error);
  publishing_ = true;
  lastError_.clear();
  return true;
}

void RawRtmpPublisher::close() {
  if (fd_ < 0) return;
  if (publishing_ && !rawSent_ && !peerClosed_) {
    AmfWriter unpublish;
    unpublish.string("FCUnpublish").number(nextTxn_++).null().string(options_.streamName);
    AmfWriter deleteStream;
    deleteStream.string("deleteStream").number(nextTxn_++).null().number(streamId_);
    if (sendCommand(kCommandCsid, 0, unpublish.bytes())) sendCommand(kCommandCsid, 0, deleteStream.bytes());
  }
  if (fd_ >= 0) {
    // Half-close and drain briefly, so the server sees a FIN (not a reset caused by unread data).
    ::shutdown(fd_, SHUT_WR);
    const auto deadline = Clock::now() + std::chrono::milliseconds(500);
    uint8_t buf[4096];
    while (fd_ >= 0) {
      pollfd pfd{fd_, POLLIN, 0};
      const int r = ::poll(&pfd, 1, remainingMs(deadline));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) break;
    }
  }
  closeSocket();
}

// ---- socket I/O ----------------------------------------------------------------------------------------------

bool RawRtmpPublisher::writeAll(const uint8_t* data, size_t size) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(options_.ioTimeoutMs);
  while (size > 0) {
    if (fd_ < 0) {
      lastError_ = "not connected";
      return false;
    }
    const ssize_t n = ::send(fd_, data, size, MSG_NOSIGNAL);
    if (n > 0) {
      data += n;
      size -= static_cast<size_t>(n);
      bytesSent_ += static_cast<uint64_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd pfd{fd_, POLLOUT, 0};
      const int r = ::poll(&pfd, 1, remainingMs(deadline));
      if (r < 0 && errno == EINTR) continue;
      if (r == 0) {
        lastError_ = "write blocked for " + std::to_string(options_.ioTimeoutMs) + " ms (server not reading)";
        return false;
      }
      continue;  // writable, or an error that the next send() reports
    }
    const int err = errno;
    if (err == EPIPE || err == ECONNRESET) peerClosed_ = true;
    lastError_ = describeErrno("send", err);
    closeSocket();
    return false;
  }
  return true;
}

// Returns false on timeout (lastError_ = "timeout") or when the connection is closed/broken.
bool RawRtmpPublisher::fillBuffer(int timeoutMs) {
  if (fd_ < 0) {
    lastError_ = "not connected";
    return false;
  }
  const auto deadline = Clock::now() + std::chrono::milliseconds(std::max(timeoutMs, 0));
  while (true) {
    pollfd pfd{fd_, POLLIN, 0};
    const int r = ::poll(&pfd, 1, remainingMs(deadline));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      lastError_ = describeErrno("poll", errno);
      closeSocket();
      return false;
    }
    if (r == 0) {
      lastError_ = "timeout";
      return false;
    }
    if (inPos_ > 0 && inPos_ * 2 >= inBuf_.size()) {  // compact
      inBuf_.erase(inBuf_.begin(), inBuf_.begin() + static_cast<std::ptrdiff_t>(inPos_));
      inPos_ = 0;
    }
    uint8_t buf[65536];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
    if (n <= 0) {
      const int err = errno;
      peerClosed_ = true;
      lastError_ = n == 0 ? "server closed the connection" : describeErrno("recv", err);
      closeSocket();
      return false;
    }
    inBuf_.insert(inBuf_.end(), buf, buf + n);
    bytesReceived_ += static_cast<uint64_t>(n);
    return true;
  }
}

bool RawRtmpPublisher::readExact(uint8_t* data, size_t size, int timeoutMs) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeoutMs);
  while (inBuf_.size() - inPos_ < size) {
    if (!fillBuffer(remainingMs(deadline))) return false;
  }
  std::memcpy(data, inBuf_.data() + inPos_, size);
  inPos_ += size;
  return true;
}

// ---- outgoing messages -------------------------------------------------------------------------------------

bool RawRtmpPublisher::sendMessage(uint32_t csid, uint8_t type, uint32_t msid, uint32_t timestamp,
                                   const uint8_t* data, size_t size) {
  if (fd_ < 0) {
    if (lastError_.empty()) lastError_ = "not connected";
    return false;
  }
  if (size > 0xFFFFFF) {
    lastError_ = "message of " + std::to_string(size) + " bytes does not fit RTMP's 24-bit length";
    return false;
  }
  const bool extended = timestamp >= kExtendedTimestamp;
  const size_t chunk = static_cast<size_t>(options_.chunkSize);
  std::vector<uint8_t> out;
  out.reserve(size + 18 + (size / chunk + 1) * 5);
  // csid 2..63 only (one-byte basic header): all we use.
  out.push_back(static_cast<uint8_t>(csid & 0x3f));  // fmt 0
  putU24(out, extended ? kExtendedTimestamp : timestamp);
  putU24(out, static_cast<uint32_t>(size));
  out.push_back(type);
  putU32LE(out, msid);
  if (extended) putU32(out, timestamp);
  size_t pos = 0;
  do {
    if (pos > 0) {
      out.push_back(static_cast<uint8_t>(0xC0 | (csid & 0x3f)));  // fmt 3
      if (extended) putU32(out, timestamp);
    }
    const size_t n = std::min(chunk, size - pos);
    if (n > 0) out.insert(out.end(), data + pos, data + pos + n);
    pos += n;
  } while (pos < size);
  return writeAll(out.data(), out.size());
}

bool RawRtmpPublisher::sendCommand(uint32_t csid, uint32_t msid, const std::vector<uint8_t>& amf) {
  return sendMessage(csid, kAmf0Command, msid, 0, amf.data(), amf.size());
}

bool RawRtmpPublisher::sendControl(uint8_t type, const std::vector<uint8_t>& body) {
  return sendMessage(kControlCsid, type, 0, 0, body.data(), body.size());
}

bool RawRtmpPublisher::sendTag(uint8_t type, uint32_t timestampMs, const uint8_t* data, size_t size) {
  if (fd_ < 0) {
    if (lastError_.empty()) lastError_ = "not connected";
    return false;
  }
  if (!publishing_) {
    lastError_ = "not publishing (connect() did not succeed)";
    return false;
  }
  // Handle what the server sent meanwhile (pings, acks, an error status before it hangs up).
  if (!pollIncoming(0)) return false;
  const uint32_t csid = (type == kAudio || type == kVideo) ? kMediaCsid : kDataCsid;
  return sendMessage(csid, type, streamId_, timestampMs, data, size);
}

bool RawRtmpPublisher::sendRaw(const uint8_t* data, size_t size) {
  rawSent_ = true;
  return writeAll(data, size);
}

// ---- incoming ------------------------------------------------------------------------------------------------

bool RawRtmpPublisher::pollIncoming(int timeoutMs) {
  if (fd_ < 0) {
    if (lastError_.empty()) lastError_ = "not connected";
    return false;
  }
  int wait = timeoutMs;
  while (true) {
    if (!fillBuffer(wait)) {
      const bool open = fd_ >= 0;
      const std::string why = lastError_;
      processInput();  // whatever arrived before the close (e.g. an onStatus error)
      if (open) {
        lastError_.clear();
        return true;  // timeout: nothing (more) to read
      }
      lastError_ = why;
      for (auto it = statuses_.rbegin(); it != statuses_.rend(); ++it)
        if (it->level == "error") {
          lastError_ += " (last error status: " + it->code + ": " + it->description + ")";
          break;
        }
      return false;
    }
    if (!processInput()) return false;
    wait = 0;
  }
}

bool RawRtmpPublisher::waitFor(const std::function<bool()>& done, int timeoutMs, const std::string& what) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeoutMs);
  while (true) {
    if (!processInput()) return false;
    if (done()) return true;
    if (!fillBuffer(remainingMs(deadline))) {
      if (lastError_ == "timeout")
        lastError_ = "no " + what + " within " + std::to_string(timeoutMs) + " ms";
      else
        lastError_ = "waiting for " + what + ": " + lastError_;
      if (!commandError_.empty()) lastError_ += " (" + commandError_ + ")";
      return false;
    }
  }
}

bool RawRtmpPublisher::processInput() {
  while (true) {
    const uint8_t* p = inBuf_.data() + inPos_;
    const size_t avail = inBuf_.size() - inPos_;
    if (avail < 1) return true;
    size_t used = 1;
    const uint8_t fmt = p[0] >> 6;
    uint32_t csid = p[0] & 0x3f;
    if (csid == 0) {
      if (avail < 2) return true;
      csid = 64 + p[1];
      used = 2;
    } else if (csid == 1) {
      if (avail < 3) return true;
      csid = 64 + p[1] + (uint32_t{p[2]} << 8);
      used = 3;
    }
    static constexpr size_t kHeaderSize[4] = {11, 7, 3, 0};
    if (avail < used + kHeaderSize[fmt]) return true;
    const uint8_t* h = p + used;
    used += kHeaderSize[fmt];
    InChunkStream& cs = inStreams_[csid];
    uint32_t tsField = 0;
    if (fmt <= 2) tsField = getU24(h);
    const bool extended = fmt <= 2 ? tsField == kExtendedTimestamp : cs.extended;
    if (extended) {
      if (avail < used + 4) return true;
      tsField = getU32(p + used);
      used += 4;
    }
    if (fmt != 3 && !cs.partial.empty()) cs.partial.clear();  // a new header interrupts an unfinished message
    if (fmt <= 1) {
      const uint32_t length = getU24(h + 3);
      if (length > kMaxIncomingMessage) {
        lastError_ = "server sent a " + std::to_string(length) + "-byte message: chunk stream out of sync?";
        closeSocket();
        return false;
      }
      cs.length = length;
      cs.type = h[6];
    }
    if (fmt == 0) {
      cs.streamId = getU32LE(h + 7);
      cs.timestamp = tsField;
      cs.delta = 0;
    } else if (fmt <= 2) {
      cs.delta = tsField;
      cs.timestamp += tsField;
    } else if (cs.partial.empty() && cs.started) {
      cs.timestamp += cs.delta;  // a new message on a type-3 header repeats the previous delta
    }
    if (fmt <= 2) cs.extended = extended;
    if (fmt <= 1) cs.started = true;
    if (!cs.started) {
      lastError_ = "server sent a chunk on csid " + std::to_string(csid) + " with no message header";
      closeSocket();
      return false;
    }
    const size_t need = std::min<size_t>(inChunkSize_, cs.length - cs.partial.size());
    if (avail < used + need) return true;
    cs.partial.insert(cs.partial.end(), p + used, p + used + need);
    inPos_ += used + need;
    if (cs.partial.size() >= cs.length) {
      Message m{cs.type, cs.streamId, cs.timestamp, std::move(cs.partial)};
      cs.partial = {};
      if (!handleMessage(m)) return false;
      if (fd_ < 0) return false;
      // Acknowledge once a window's worth of bytes has arrived since the last acknowledgement.
      if (ackWindow_ > 0 && bytesReceived_ - lastAckAt_ >= ackWindow_) {
        lastAckAt_ = bytesReceived_;
        std::vector<uint8_t> ack;
        putU32(ack, static_cast<uint32_t>(bytesReceived_));
        if (!sendControl(kAcknowledgement, ack)) return false;
      }
    }
  }
}

bool RawRtmpPublisher::handleMessage(const Message& m) {
  const auto& b = m.body;
  switch (m.type) {
    case kSetChunkSize:
      if (b.size() >= 4) {
        const uint32_t size = getU32(b.data()) & kMaxChunkSize;
        if (size == 0) {
          lastError_ = "server set chunk size 0";
          closeSocket();
          return false;
        }
        inChunkSize_ = size;
      }
      return true;
    case kAbort:
      if (b.size() >= 4) {
        auto it = inStreams_.find(getU32(b.data()));
        if (it != inStreams_.end()) it->second.partial.clear();
      }
      return true;
    case kAcknowledgement:
      return true;
    case kWindowAckSize:
      if (b.size() >= 4) ackWindow_ = getU32(b.data());
      return true;
    case kSetPeerBandwidth:
      if (b.size() >= 4) peerBandwidth_ = getU32(b.data());
      return true;
    case kUserControl:
      if (b.size() >= 6 && getU16(b.data()) == 6) {  // PingRequest -> PingResponse with the same timestamp
        std::vector<uint8_t> pong{0x00, 0x07};
        pong.insert(pong.end(), b.begin() + 2, b.begin() + 6);
        if (!sendControl(kUserControl, pong)) return false;
      }
      return true;
    case kAmf3Command:
    case kAmf0Command: {
      // AMF3 command messages start with a 0 byte, then AMF0 values.
      const size_t skip = (m.type == kAmf3Command && !b.empty() && b[0] == 0) ? 1 : 0;
      AmfReader r(b.data() + skip, b.size() - skip);
      std::vector<AmfValue> values;
      while (!r.atEnd()) {
        AmfValue v;
        if (!r.read(v)) break;
        values.push_back(std::move(v));
      }
      if (values.empty() || values[0].type != AmfValue::Type::String) break;
      const std::string& name = values[0].string;
      const double txn = values.size() > 1 && values[1].type == AmfValue::Type::Number ? values[1].number : -1;
      const AmfValue* info = nullptr;
      for (size_t i = 2; i < values.size(); ++i)
        if (values[i].type == AmfValue::Type::Object) info = &values[i];
      Status status;
      status.command = name;
      if (info) {
        status.level = info->str("level");
        status.code = info->str("code");
        status.description = info->str("description");
      }
      if (name == "_error" && status.level.empty()) status.level = "error";
      if (name == "onStatus" || name == "_error" || (name == "_result" && info && !status.code.empty()))
        statuses_.push_back(status);
      const std::string statusText =
          status.code.empty() ? name : status.code + (status.description.empty() ? "" : ": " + status.description);

      if ((name == "_result" || name == "_error") && txn == connectTxn_ && !connectDone_) {
        connectDone_ = true;
        connectOk_ = name == "_result" && (status.code.empty() || status.code == "NetConnection.Connect.Success");
        if (!connectOk_) commandError_ = statusText;
      } else if ((name == "_result" || name == "_error") && txn == createStreamTxn_ && !createStreamDone_) {
        createStreamDone_ = true;
        if (name == "_error") {
          commandError_ = statusText;
        } else {
          for (size_t i = 2; i < values.size(); ++i)
            if (values[i].type == AmfValue::Type::Number) streamId_ = static_cast<uint32_t>(values[i].number);
        }
      } else if (name == "onStatus" && !publishDone_ && createStreamDone_) {
        if (status.code == "NetStream.Publish.Start") {
          publishDone_ = publishOk_ = true;
        } else if (status.level == "error" || status.code.find("BadName") != std::string::npos ||
                   status.code.find("Failed") != std::string::npos ||
                   status.code.find("Rejected") != std::string::npos) {
          publishDone_ = true;
          commandError_ = statusText;
        }
      }
      break;
    }
    default:  // audio/video/data from the server, aggregate, shared object: not for a publisher
      break;
  }
  return true;
}

// ---- FLV files -----------------------------------------------------------------------------------------------

std::vector<RawRtmpPublisher::FlvTag> RawRtmpPublisher::readFlvFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("readFlvFile: cannot open " + path);
  const std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (data.size() < 9 || data[0] != 'F' || data[1] != 'L' || data[2] != 'V')
    throw std::runtime_error("readFlvFile: " + path + " is not an FLV file");
  size_t pos = getU32(data.data() + 5);  // DataOffset (header size, normally 9)
  pos += 4;                              // PreviousTagSize0
  std::vector<FlvTag> tags;
  while (pos + 11 <= data.size()) {
    const uint8_t* h = data.data() + pos;
    const uint32_t size = getU24(h + 1);
    if (pos + 11 + size > data.size()) break;  // truncated last tag
    FlvTag tag;
    tag.type = h[0] & 0x1f;
    tag.timestampMs = getU24(h + 4) | (uint32_t{h[7]} << 24);
    tag.body.assign(h + 11, h + 11 + size);
    tags.push_back(std::move(tag));
    pos += 11 + size + 4;  // + PreviousTagSize
  }
  return tags;
}

std::vector<uint8_t> RawRtmpPublisher::withSetDataFrame(const std::vector<uint8_t>& scriptBody) {
  AmfWriter w;
  w.string("@setDataFrame");
  std::vector<uint8_t> out = w.bytes();
  out.insert(out.end(), scriptBody.begin(), scriptBody.end());
  return out;
}

bool RawRtmpPublisher::publishFile(const std::vector<FlvTag>& tags, bool realtime,
                                   const std::function<void(FlvTag&)>& mutate, std::atomic<bool>* stop, int loops,
                                   std::string* error) {
  auto failed = [&](const std::string& why) {
    if (error) *error = why;
    return false;
  };
  if (tags.empty()) return failed("publishFile: no tags");
  uint32_t minTs = UINT32_MAX, maxTs = 0;
  for (const auto& t : tags) {
    minTs = std::min(minTs, t.timestampMs);
    maxTs = std::max(maxTs, t.timestampMs);
  }
  // One frame interval: the smallest positive step between consecutive tags of the same type (audio or video).
  uint32_t gap = 0;
  for (uint8_t type : {kAudio, kVideo}) {
    uint32_t prev = 0, step = UINT32_MAX;
    bool have = false;
    for (const auto& t : tags) {
      if (t.type != type) continue;
      if (have && t.timestampMs > prev) step = std::min(step, t.timestampMs - prev);
      prev = t.timestampMs;
      have = true;
    }
    if (step != UINT32_MAX) gap = std::max(gap, step);
  }
  if (gap == 0) gap = 33;
  const uint64_t span = uint64_t{maxTs - minTs} + gap;

  const auto start = Clock::now();
  for (int loop = 0; loops <= 0 || loop < loops; ++loop) {
    const uint64_t offset = span * static_cast<uint64_t>(loop);
    for (const auto& original : tags) {
      if (stop && stop->load()) return true;
      if (loop > 0 && isConfigTag(original)) continue;
      const uint64_t due = uint64_t{original.timestampMs - minTs} + offset;
      if (realtime) {
        const auto when = start + std::chrono::milliseconds(due);
        while (Clock::now() < when) {
          if (stop && stop->load()) return true;
          const int wait = std::min(remainingMs(when), 50);
          if (!pollIncoming(wait)) return failed(lastError_);
          if (wait == 0) break;
        }
      }
      FlvTag tag = original;
      tag.timestampMs = static_cast<uint32_t>(uint64_t{original.timestampMs} + offset);
      if (mutate) mutate(tag);
      if (tag.type == 0) continue;
      if (!sendTag(tag)) return failed(lastError_);
    }
  }
  return true;
}

}  // namespace venuecast::testing
