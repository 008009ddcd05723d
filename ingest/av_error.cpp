#include "ingest/av_error.h"

extern "C" {
#include <libavutil/error.h>
}
#include <cerrno>

namespace venuecast::ingest {

std::string avErrorText(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  if (av_strerror(err, buf, sizeof buf) < 0) return "libav error " + std::to_string(err);
  return buf;
}

bool isConnectionError(int err) {
  return err == AVERROR(EPIPE) || err == AVERROR(ECONNRESET) || err == AVERROR(ETIMEDOUT) ||
         err == AVERROR(EIO) || err == AVERROR(ECONNREFUSED) || err == AVERROR_EOF || err == AVERROR_EXIT;
}

namespace {
thread_local std::string tLastLibavError;
}  // namespace

// The first error since the last clear: inner layers (tls, tcp) log the root cause before outer ones
// (rtmp: "Cannot open connection ...") repeat it less precisely.
void noteLibavError(std::string text) {
  if (tLastLibavError.empty()) tLastLibavError = std::move(text);
}

void clearLibavError() { tLastLibavError.clear(); }

std::string libavErrorDetail() {
  if (tLastLibavError.empty()) return {};
  // "[tls @ 0x55d0c0a8] Peer certificate failed verification" -> "tls: Peer certificate failed verification"
  std::string text = tLastLibavError;
  if (text.size() > 1 && text[0] == '[') {
    const size_t close = text.find("] ");
    if (close != std::string::npos) {
      std::string component = text.substr(1, close - 1);
      if (const size_t at = component.find(" @ "); at != std::string::npos) component.resize(at);
      text = component + ": " + text.substr(close + 2);
    }
  }
  return " (" + text + ")";
}

}  // namespace venuecast::ingest
