#include "support/failure_dump.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>

#include "support/child_process.h"
#include "support/nginx_rtmp.h"

namespace venuecast::testing {
namespace {

std::mutex registryMutex;
std::vector<FailureDump*>& registry() {
  static std::vector<FailureDump*> dumps;
  return dumps;
}

class Listener : public ::testing::EmptyTestEventListener {
  void OnTestPartResult(const ::testing::TestPartResult& result) override {
    if (!result.failed()) return;
    std::lock_guard lock(registryMutex);
    for (auto* d : registry()) d->capture();
  }
};

void installListener() {
  static std::once_flag once;
  std::call_once(once, [] { ::testing::UnitTest::GetInstance()->listeners().Append(new Listener); });
}

}  // namespace

FailureDump::FailureDump() {
  installListener();
  std::lock_guard lock(registryMutex);
  registry().push_back(this);
}

FailureDump::~FailureDump() {
  {
    std::lock_guard lock(registryMutex);
    auto& r = registry();
    r.erase(std::remove(r.begin(), r.end(), this), r.end());
  }
  std::lock_guard lock(mutex_);
  if (!snapshot_.empty()) std::cerr << snapshot_ << std::flush;
}

void FailureDump::capture() {
  std::lock_guard lock(mutex_);
  snapshot_.clear();
  for (const auto& [label, text] : sources_) {
    std::string t;
    try {
      t = text();
    } catch (const std::exception& e) {
      t = std::string("<unreadable: ") + e.what() + ">";
    }
    if (t.size() > kTailBytes) t = "[...]\n" + t.substr(t.size() - kTailBytes);
    snapshot_ += "----- " + label + " -----\n" + t + (t.empty() || t.back() == '\n' ? "" : "\n");
  }
}

FailureDump& FailureDump::add(std::string label, std::function<std::string()> text) {
  std::lock_guard lock(mutex_);
  sources_.emplace_back(std::move(label), std::move(text));
  return *this;
}

FailureDump& FailureDump::add(const NginxRtmp& nginx, std::string label) {
  add(label + " error.log", [&nginx] { return nginx.errorLogText(); });
  return add(label + " access.log", [&nginx] { return nginx.accessLogText(); });
}

FailureDump& FailureDump::add(const ChildProcess& process, std::string label) {
  return add(label + " (" + process.commandLine() + ")", [&process] { return process.logText(); });
}

}  // namespace venuecast::testing
