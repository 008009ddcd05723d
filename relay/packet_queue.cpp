#include "relay/packet_queue.h"

namespace venuecast::relay {

void PacketQueue::push(const ingest::PacketPtr& packet) {
  std::shared_ptr<const Consumer> offerTo, ready;
  {
    std::lock_guard lock(mu_);
    if (onReady_ && onReady_->offer && readyArmed_ && packets_.empty() && !waitingForKey_) {
      offerTo = onReady_;
    } else {
      pushLocked(packet);
      ready = takeReadyLocked();
    }
  }
  if (offerTo) return offerTo->offer(packet) ? void() : enqueue(packet);
  if (ready) return ready->ready();
  ready_.notify_one();
}

void PacketQueue::enqueue(const ingest::PacketPtr& packet) {
  std::shared_ptr<const Consumer> ready;
  {
    std::lock_guard lock(mu_);
    pushLocked(packet);
    ready = takeReadyLocked();
  }
  if (ready) return ready->ready();
  ready_.notify_one();
}

void PacketQueue::pushAll(const std::vector<ingest::PacketPtr>& packets) {
  if (packets.empty()) return;
  std::shared_ptr<const Consumer> ready;
  {
    std::lock_guard lock(mu_);
    for (const auto& p : packets) pushLocked(p);
    ready = takeReadyLocked();
  }
  if (ready) return ready->ready();
  ready_.notify_one();
}

std::shared_ptr<const PacketQueue::Consumer> PacketQueue::takeReadyLocked() {
  if (!onReady_ || !readyArmed_ || packets_.empty()) return nullptr;
  readyArmed_ = false;
  return onReady_;
}

void PacketQueue::pushLocked(const ingest::PacketPtr& packet) {
  if (waitingForKey_) {
    if (!packet->key) {
      if (overflowed_) ++dropped_;  // a fresh subscriber skipping to its first keyframe is no loss
      return;
    }
    waitingForKey_ = false;
  }
  packets_.push_back(packet);
  bytes_ += static_cast<size_t>(packet->size());
  trimLocked();
}

void PacketQueue::trimLocked() {
  auto over = [this] {
    return !packets_.empty() && (packets_.back()->dts() - packets_.front()->dts() > limits_.maxDurationUs ||
                                 bytes_ > limits_.maxBytes);
  };
  if (!over()) return;
  ++overflows_;
  while (over()) {
    // Drop the oldest GOP: everything before the next keyframe after the front.
    size_t next = 1;
    while (next < packets_.size() && !packets_[next]->key) ++next;
    if (next >= packets_.size()) {
      dropped_ += packets_.size();
      packets_.clear();
      bytes_ = 0;
      waitingForKey_ = true;
      overflowed_ = true;
      return;
    }
    for (size_t i = 0; i < next; ++i) {
      bytes_ -= static_cast<size_t>(packets_.front()->size());
      packets_.pop_front();
      ++dropped_;
    }
  }
}

ingest::PacketPtr PacketQueue::pop(std::chrono::milliseconds wait) {
  std::unique_lock lock(mu_);
  if (!ready_.wait_for(lock, wait, [this] { return !packets_.empty(); })) return nullptr;
  ingest::PacketPtr p = std::move(packets_.front());
  packets_.pop_front();
  bytes_ -= static_cast<size_t>(p->size());
  return p;
}

size_t PacketQueue::popAvailable(std::vector<ingest::PacketPtr>& out, size_t max) {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (; n < max && !packets_.empty(); ++n) {
    bytes_ -= static_cast<size_t>(packets_.front()->size());
    out.push_back(std::move(packets_.front()));
    packets_.pop_front();
  }
  if (packets_.empty()) readyArmed_ = true;
  return n;
}

void PacketQueue::setReadyCallback(std::function<void()> onReady) { setReadyCallback(std::move(onReady), {}); }

void PacketQueue::setReadyCallback(std::function<void()> onReady, std::function<bool(const ingest::PacketPtr&)> offer) {
  std::shared_ptr<const Consumer> ready;
  {
    std::lock_guard lock(mu_);
    onReady_ = onReady ? std::make_shared<const Consumer>(Consumer{std::move(onReady), std::move(offer)}) : nullptr;
    readyArmed_ = true;
    ready = takeReadyLocked();
  }
  if (ready) ready->ready();
}

void PacketQueue::reset() {
  std::lock_guard lock(mu_);
  packets_.clear();
  bytes_ = 0;
  waitingForKey_ = true;
  overflowed_ = false;
}

PacketQueue::Stats PacketQueue::stats() const {
  std::lock_guard lock(mu_);
  return {dropped_, overflows_, packets_.size(), bytes_};
}

}  // namespace venuecast::relay
