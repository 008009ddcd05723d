#include "relay/libav_log.h"

extern "C" {
#include <libavutil/log.h>
}
#include <spdlog/spdlog.h>

#include <cstdio>
#include <string>

#include "ingest/av_error.h"

namespace venuecast::relay {
namespace {

// av_log's callback has no user pointer: this is the one process-wide hook libav offers.
std::shared_ptr<const config::SecretScrubber> gScrubber;

void onLibavLog(void* avcl, int level, const char* fmt, va_list args) {
  if (level > AV_LOG_VERBOSE) return;
  const bool error = level <= AV_LOG_ERROR;
  if (!error && !spdlog::should_log(spdlog::level::debug)) return;
  char line[1024];
  int prefix = 1;
  av_log_format_line2(avcl, level, fmt, args, line, sizeof line, &prefix);
  std::string text(line);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (text.empty()) return;
  // One log record per libav message, even when it spans lines.
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  if (gScrubber) text = gScrubber->scrub(std::move(text));
  if (error) ingest::noteLibavError(text);
  spdlog::debug("libav: {}", text);
}

}  // namespace

void installLibavLog(std::shared_ptr<const config::SecretScrubber> scrubber) {
  gScrubber = std::move(scrubber);
  av_log_set_level(AV_LOG_VERBOSE);
  av_log_set_callback(&onLibavLog);
}

}  // namespace venuecast::relay
