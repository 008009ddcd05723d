#include "ingest/source_switch.h"

#include <spdlog/spdlog.h>

namespace venuecast::ingest {

using Clock = std::chrono::steady_clock;

namespace {
std::string seconds(Clock::duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", std::chrono::duration<double>(d).count());
  return buf;
}
}  // namespace

SourceSwitch::SourceSwitch(std::string label, PacketSink& sink, Options options)
    : label_(std::move(label)), options_(options), out_(sink), created_(Clock::now()) {
  for (int i = 0; i < 2; ++i) {
    inputs_[i].owner = this;
    inputs_[i].which = static_cast<Which>(i);
  }
}

bool SourceSwitch::delivering(const Input& in, Clock::time_point now) const {
  return in.inSession && now - in.lastPacket < options_.failoverAfter;
}

void SourceSwitch::evaluate(Clock::time_point now) {
  const Input& primary = inputs_[kPrimary];
  const Input& backup = inputs_[kBackup];
  const bool primaryUp = delivering(primary, now), backupUp = delivering(backup, now);
  // Lost for failoverAfter (a blip the primary recovers from in time is not worth two switches); at start-up
  // the primary gets the same time to show up.
  const auto primarySilent = now - std::max(primary.lastPacket, created_);
  const bool primaryGone = !primaryUp && primarySilent >= options_.failoverAfter;
  int want = active_;
  std::string why;
  if (active_ == kBackup) {
    if (primaryUp && now - primary.sessionStart >= options_.failbackAfter) {
      want = kPrimary;
      why = "primary live again for " + seconds(now - primary.sessionStart);
    } else if (!backupUp && primaryUp) {
      want = kPrimary;
      why = "backup lost";
    }
  } else if (primaryUp) {
    want = kPrimary;
    why = "primary live";
  } else if (backupUp && primaryGone) {
    want = kBackup;
    why = std::string(primary.inSession ? "primary sent nothing for " : "primary lost for ") + seconds(primarySilent);
  }
  if (want == active_) {
    target_ = -1;
    return;
  }
  if (want != target_) {
    target_ = want;
    why_ = why;
  }
}

StreamSetPtr SourceSwitch::Input::beginSession(const StreamSet& s) {
  std::lock_guard lock(owner->mu_);
  auto copy = std::make_shared<StreamSet>();
  if (s.video) copy->video = copyParameters(s.video.get());
  if (s.audio) copy->audio = copyParameters(s.audio.get());
  copy->generation = ++owner->generation_;
  streams = copy;
  inSession = true;
  sessionStart = lastPacket = Clock::now();
  return streams;
}

void SourceSwitch::Input::endSession() {
  std::lock_guard lock(owner->mu_);
  inSession = false;
  if (owner->active_ == which) {
    // The venue's session ends with it; the other source, if live, takes over at its next keyframe.
    owner->out_.endSession();
    owner->lastActive_ = which;
    owner->active_ = -1;
    owner->target_ = -1;
    spdlog::info("{}: the {} source on air was lost{}", owner->label_, name(which),
                 owner->inputs_[1 - which].inSession
                     ? "; the " + std::string(name(Which(1 - which))) + " takes over at its next keyframe"
                     : "");
  }
}

StreamSetPtr SourceSwitch::Input::current() const {
  std::lock_guard lock(owner->mu_);
  return streams;
}

void SourceSwitch::Input::deliver(MediaKind kind, AvPacketPtr& pkt, AVRational tb) {
  std::lock_guard lock(owner->mu_);
  const auto now = Clock::now();
  lastPacket = now;
  // An in-band sequence header change: remembered, so a switch to this source later sends the current one.
  std::size_t sideSize = 0;
  if (const uint8_t* side = av_packet_get_side_data(pkt.get(), AV_PKT_DATA_NEW_EXTRADATA, &sideSize)) {
    streams = withExtradata(*streams, kind, side, sideSize, ++owner->generation_);
  }
  owner->evaluate(now);
  if (owner->target_ == which) {
    const bool key = kind == MediaKind::Video ? (pkt->flags & AV_PKT_FLAG_KEY) != 0 : !streams->video;
    if (key) {
      const int from = owner->active_ >= 0 ? owner->active_ : owner->lastActive_;
      if (owner->active_ >= 0) owner->out_.endSession();
      owner->out_.beginSession(*streams);
      owner->active_ = owner->lastActive_ = which;
      owner->target_ = -1;
      if (from >= 0 && from != which) {
        spdlog::info("{}: switched from {} to {} ({})", owner->label_, name(Which(from)), name(which), owner->why_);
      } else if (from < 0) {
        spdlog::info("{}: on air: {} ({})", owner->label_, name(which), owner->why_);
      }
    }
  }
  if (owner->active_ == which) {
    owner->out_.deliver(kind, pkt, tb);
  } else {
    av_packet_unref(pkt.get());
  }
}

}  // namespace venuecast::ingest
