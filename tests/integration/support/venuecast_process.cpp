#include "support/venuecast_process.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <stdexcept>

#ifndef VENUECAST_BINARY
#define VENUECAST_BINARY ""
#endif

namespace venuecast::testing {
namespace {

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

}  // namespace

std::string VenuecastConfig::toYaml() const {
  std::ostringstream y;
  if (!rtmpListen.empty()) y << "server:\n  rtmp_listen: " << quoted(rtmpListen) << "\n";
  y << "venues:" << (venues.empty() ? " []\n" : "\n");
  for (const auto& v : venues) {
    y << "  - id: " << quoted(v.id) << "\n";
    if (v.pushKey) {
      y << "    push_key: " << quoted(*v.pushKey) << "\n";
    } else {
      y << "    url: " << quoted(v.url) << "\n";
    }
    y << v.extraYaml;
  }
  y << "outputs:" << (outputs.empty() ? " []\n" : "\n");
  for (const auto& o : outputs) {
    y << "  - id: " << quoted(o.id) << "\n    venue: " << quoted(o.venue) << "\n    url: " << quoted(o.url) << "\n";
    if (o.key) y << "    key: " << quoted(*o.key) << "\n";
  }
  y << extraYaml;
  return y.str();
}

VenuecastProcess::VenuecastProcess(const VenuecastConfig& config) : VenuecastProcess(config.toYaml()) {}

VenuecastProcess::VenuecastProcess(std::string yaml) : configPath_(dir_.file("venuecast.yaml")) {
  writeFile(configPath_, yaml);
}

VenuecastProcess::~VenuecastProcess() { process_.reset(); }

std::filesystem::path VenuecastProcess::binary() {
  const char* env = std::getenv("VENUECAST_BINARY");
  return env && *env ? std::filesystem::path(env) : std::filesystem::path(VENUECAST_BINARY);
}

bool VenuecastProcess::binaryAvailable() {
  auto b = binary();
  return !b.empty() && ::access(b.c_str(), X_OK) == 0;
}

void VenuecastProcess::start(std::vector<std::string> extraArgs, std::string logLevel) {
  if (process_) throw std::logic_error("VenuecastProcess already started");
  if (!binaryAvailable()) throw std::runtime_error("venuecast binary not found: " + binary().string());
  std::vector<std::string> argv{binary().string(), "run", configPath_.string(), "--log-level", logLevel};
  argv.insert(argv.end(), extraArgs.begin(), extraArgs.end());
  process_ = std::make_unique<ChildProcess>(ChildProcess::Options{argv, {}, dir_.file("venuecast.log"), {}, dir_.path()});
}

ExitStatus VenuecastProcess::terminate(std::chrono::milliseconds timeout) {
  if (!process_) return ExitStatus{};
  return process_->terminate(timeout);
}

std::optional<ExitStatus> VenuecastProcess::waitExit(std::chrono::milliseconds timeout) {
  if (!process_) return std::nullopt;
  return process_->waitExit(timeout);
}

std::string VenuecastProcess::logText() const { return process_ ? process_->logText() : std::string(); }

std::optional<std::string> VenuecastProcess::waitForLog(const std::regex& re, std::chrono::milliseconds timeout,
                                                        std::size_t fromOffset) const {
  if (!process_) return std::nullopt;
  return process_->waitForLog(re, timeout, fromOffset);
}

}  // namespace venuecast::testing
