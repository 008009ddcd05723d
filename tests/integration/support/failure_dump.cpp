#include "support/failure_dump.h"

#include <gtest/gtest.h>

#include <iostream>

#include "support/child_process.h"
#include "support/nginx_rtmp.h"

namespace venuecast::testing {

FailureDump::~FailureDump() {
  if (!::testing::Test::HasFailure()) return;
  for (const auto& [label, text] : sources_) {
    std::string t;
    try {
      t = text();
    } catch (const std::exception& e) {
      t = std::string("<unreadable: ") + e.what() + ">";
    }
    if (t.size() > kTailBytes) t = "[...]\n" + t.substr(t.size() - kTailBytes);
    std::cerr << "----- " << label << " -----\n" << t << (t.empty() || t.back() == '\n' ? "" : "\n");
  }
}

FailureDump& FailureDump::add(std::string label, std::function<std::string()> text) {
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
