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

}  // namespace venuecast::ingest
