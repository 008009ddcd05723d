#include "ingest/stream_set.h"

extern "C" {
#include <libavcodec/avcodec.h>
}

namespace venuecast::ingest {
namespace {

bool sameCodec(const AVCodecParameters* a, const AVCodecParameters* b) {
  if (!a || !b) return a == b;
  return a->codec_id == b->codec_id;
}

std::string describeOne(const AVCodecParameters* p) {
  std::string s = avcodec_get_name(p->codec_id);
  if (const char* profile = avcodec_profile_name(p->codec_id, p->profile)) s += std::string(" ") + profile;
  if (p->codec_type == AVMEDIA_TYPE_VIDEO) {
    s += " " + std::to_string(p->width) + "x" + std::to_string(p->height);
  } else {
    s += " " + std::to_string(p->sample_rate) + " Hz " + std::to_string(p->ch_layout.nb_channels) + "ch";
  }
  return s;
}

}  // namespace

bool StreamSet::sameLayout(const StreamSet& other) const {
  return sameCodec(video.get(), other.video.get()) && sameCodec(audio.get(), other.audio.get());
}

std::string StreamSet::describe() const {
  std::string s;
  if (video) s += describeOne(video.get());
  if (audio) s += (s.empty() ? "" : ", ") + describeOne(audio.get());
  return s.empty() ? "no streams" : s;
}

}  // namespace venuecast::ingest
