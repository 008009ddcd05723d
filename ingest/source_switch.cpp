#include "ingest/source_switch.h"

#include <spdlog/spdlog.h>

extern "C" {
#include <libavutil/mathematics.h>
}

namespace venuecast::ingest {

namespace {
std::string seconds(SourceSwitch::Clock::duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", std::chrono::duration<double>(d).count());
  return buf;
}
// Nothing live for this long: time to have the slate ready, so that it can go on air at failover_after.
constexpr std::chrono::milliseconds kPrepareAfter{250};
// "Only the listener can change this": a long fallback rather than time_point::max (no overflow in waits).
constexpr std::chrono::hours kNoRecheck{1};
}  // namespace

SourceSwitch::SourceSwitch(std::string label, PacketSink& sink, Options options)
    : label_(std::move(label)), options_(options), out_(sink), created_(Clock::now()) {
  for (int i = 0; i < 3; ++i) {
    inputs_[i].owner = this;
    inputs_[i].which = static_cast<Which>(i);
  }
}

const char* SourceSwitch::name(Which w) {
  switch (w) {
    case kPrimary: return "primary";
    case kBackup: return "backup";
    case kSlate: return "standby slate";
  }
  return "?";
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
  } else if (active_ == kSlate) {
    // Anything live beats the slate, at once.
    if (primaryUp) {
      want = kPrimary;
      why = "primary live again";
    } else if (backupUp) {
      want = kBackup;
      why = "backup live";
    }
  } else if (primaryUp) {
    want = kPrimary;
    why = "primary live";
  } else if (backupUp && primaryGone) {
    want = kBackup;
    why = std::string(primary.inSession ? "primary sent nothing for " : "primary lost for ") + seconds(primarySilent);
  }
  // Nothing live on air for failoverAfter: the standby slate (once the venue has been live, so its format is known).
  if (options_.standby && liveStreams_ && want != kSlate) {
    const bool live = (want == kPrimary && primaryUp) || (want == kBackup && backupUp);
    if (!live && now - lastLive_ >= options_.failoverAfter) {
      want = kSlate;
      why = "nothing live for " + seconds(now - lastLive_);
    }
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

void SourceSwitch::goOnAir(Input& in) {
  const int from = active_ >= 0 ? active_ : lastActive_;
  if (active_ >= 0) out_.endSession();
  out_.beginSession(*in.streams);
  active_ = lastActive_ = in.which;
  target_ = -1;
  if (standbyListener_) standbyListener_();
  if (in.which != kSlate) {
    liveStreams_ = in.streams;
    liveFrames_.reset();
  }
  if (from >= 0 && from != in.which) {
    spdlog::info("{}: switched from {} to {} ({})", label_, name(Which(from)), name(in.which), why_);
  } else if (from < 0) {
    spdlog::info("{}: on air: {} ({})", label_, name(in.which), why_);
  }
}

void SourceSwitch::setStandbyListener(std::function<void()> listener) {
  std::lock_guard lock(mu_);
  standbyListener_ = std::move(listener);
}

SourceSwitch::Standby SourceSwitch::standby(Clock::time_point now) {
  std::lock_guard lock(mu_);
  evaluate(now);
  Standby s;
  s.streams = liveStreams_;
  if (!options_.standby || !liveStreams_) {
    s.recheck = now + kNoRecheck;  // going on air tells the listener
    return s;
  }
  s.play = target_ == kSlate || active_ == kSlate;
  // Quiet for kPrepareAfter, whether its session ended or it stalled: time to have the clip ready.
  s.prepare = s.play || now - lastLive_ >= kPrepareAfter;
  s.due = lastLive_ + options_.failoverAfter;
  if (s.play) {
    s.recheck = now + kNoRecheck;  // the slate's own pacing asks again at every packet
  } else if (!s.prepare) {
    // Live (or only just quiet): a source that stalls is noticed here, in time to render before failover_after.
    s.recheck = std::min(lastLive_ + std::max<Clock::duration>(kPrepareAfter, options_.failoverAfter / 2), s.due);
  } else {
    s.recheck = s.due;
  }
  if (const double f = liveFrames_.frameUs(); f > 0) liveFrameUs_ = f;
  s.format = SlateFormat::of(*liveStreams_, liveFrameUs_);
  return s;
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
    // The venue's session ends with it; another source, if live, takes over at its next keyframe.
    owner->out_.endSession();
    owner->lastActive_ = which;
    owner->active_ = -1;
    owner->target_ = -1;
    if (owner->standbyListener_) owner->standbyListener_();
    // The source's own log says it was lost; the switch only says what happens next when it is not the slate
    // (which has its own line when it goes on air).
    if (which == kSlate) return;
    const Which other = Which(1 - which);
    if (owner->inputs_[other].inSession) {
      spdlog::info("{}: the {} source on air was lost; the {} takes over at its next keyframe", owner->label_,
                   name(which), name(other));
    }
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
    if (owner->active_ == which && which != kSlate) owner->liveStreams_ = streams;
  }
  owner->evaluate(now);
  if (owner->target_ == which) {
    const bool key = kind == MediaKind::Video ? (pkt->flags & AV_PKT_FLAG_KEY) != 0 : !streams->video;
    if (key) owner->goOnAir(*this);
  }
  if (owner->active_ != which) {
    av_packet_unref(pkt.get());
    return;
  }
  if (which != kSlate) {
    owner->lastLive_ = now;
    if (kind == MediaKind::Video && pkt->dts != AV_NOPTS_VALUE) {
      owner->liveFrames_.add(av_rescale_q(pkt->dts, tb, AV_TIME_BASE_Q));
    }
  }
  owner->out_.deliver(kind, pkt, tb);
}

}  // namespace venuecast::ingest
