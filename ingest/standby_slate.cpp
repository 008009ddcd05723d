#include "ingest/standby_slate.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>

#include "ingest/slate_renderer.h"

namespace venuecast::ingest {
namespace {
constexpr size_t kCachedFormats = 2;
}  // namespace

StandbySlate::StandbySlate(std::string label, SourceSwitch& sw, Options options)
    : label_(std::move(label)), switch_(sw), options_(std::move(options)) {
  // Under the switch's lock: only flag and notify.
  switch_.setStandbyListener([this] {
    std::lock_guard lock(mu_);
    told_ = true;
    cv_.notify_one();
  });
}

StandbySlate::~StandbySlate() { stop(); }

void StandbySlate::start() {
  if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
}

void StandbySlate::stop() {
  switch_.setStandbyListener({});
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

SlateClipPtr StandbySlate::clipFor(const SourceSwitch::Standby& s) {
  if (options_.file) {
    if (options_.file->streams->sameLayout(*s.streams)) return options_.file;
    if (!fileMismatchLogged_) {
      spdlog::warn("{}: standby slate {} has {} but the venue sent {}; using a rendered card so the outputs need not "
                   "reconnect",
                   label_, options_.file->origin, options_.file->streams->describe(), s.streams->describe());
      fileMismatchLogged_ = true;
    }
  }
  auto hit = std::find_if(cache_.begin(), cache_.end(), [&](const Rendered& r) { return r.format == s.format; });
  if (hit != cache_.end()) return hit->clip;
  Rendered r{s.format, nullptr};
  const auto started = Clock::now();
  try {
    r.clip = renderSlate(s.format, options_.title);
    spdlog::debug("{}: standby slate ready ({}, {:.2f} s)", label_, r.clip->origin,
                 std::chrono::duration<double>(Clock::now() - started).count());
  } catch (const std::exception& e) {
    spdlog::error("{}: no standby slate for {}: {}", label_, s.format.describe(), e.what());
  }
  if (cache_.size() >= kCachedFormats) cache_.erase(cache_.begin());
  cache_.push_back(r);
  return r.clip;
}

StandbySlate::Clock::time_point StandbySlate::playDue(Clock::time_point now) {
  SourceOutput& in = switch_.input(SourceSwitch::kSlate);
  const auto& items = playing_->items;
  for (;;) {
    const auto& item = items[next_];
    const int64_t offset = loop_ * playing_->loopUs;
    const auto due = playStart_ + std::chrono::microseconds(item.packet->dts + offset);
    if (due > now) return due;
    AvPacketPtr pkt = makePacket();
    if (av_packet_ref(pkt.get(), item.packet.get()) == 0) {  // shares the clip's payload
      pkt->dts += offset;
      pkt->pts += offset;
      in.deliver(item.kind, pkt, AVRational{1, 1'000'000});
    }
    if (++next_ == items.size()) {
      next_ = 0;
      ++loop_;
    }
  }
}

void StandbySlate::run() {
  SourceOutput& in = switch_.input(SourceSwitch::kSlate);
  std::unique_lock lock(mu_);
  while (!stop_) {
    told_ = false;
    lock.unlock();
    looks_.fetch_add(1, std::memory_order_relaxed);
    const auto s = switch_.standby(Clock::now());
    if (!s.play && playing_) {
      in.endSession();
      playing_.reset();
    }
    if (s.prepare && !playing_) {
      SlateClipPtr clip = clipFor(s);
      if (clip && s.play) {
        playing_ = clip;
        playStart_ = Clock::now();
        next_ = 0;
        loop_ = 0;
        in.beginSession(*clip->streams);
      }
    }
    // A render may have taken a while: a recheck time that passed meanwhile just means looking again at once.
    const auto wake = playing_ ? playDue(Clock::now()) : s.recheck;
    lock.lock();
    cv_.wait_until(lock, wake, [this] { return stop_ || told_; });
  }
  lock.unlock();
  if (playing_) in.endSession();
}

}  // namespace venuecast::ingest
