#pragma once
// A private nginx + nginx-rtmp on 127.0.0.1 (free ports), one process (daemon off, master_process off), so it can
// be suspended with SIGSTOP and stopped by PID. Everything (config, pid, logs, recordings, temp) lives in its
// own TempDir. Access log: rtmp-level, written by nginx-rtmp when a session *ends*. Error log: level info
// (one line per connect/publish/play), which publishCount() reads.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support/child_process.h"
#include "support/nginx_stats.h"
#include "support/temp_dir.h"

namespace venuecast::testing {

struct NginxApp {
  std::string name;                  // application name, e.g. "venue"
  bool publishNotify = true;         // publish_notify on: players get UnpublishNotify -> EOF in libavformat
  std::optional<bool> idleStreams;   // idle_streams on/off; nullopt = nginx default (on)
  bool record = false;               // record all (record_unique off, record_append off) into recordPath()
  std::string recordSuffix = ".flv";
  std::filesystem::path recordDir;   // record_path; empty = <nginx dir>/record/<name>
  std::vector<std::string> extraDirectives;  // raw lines inside application { }, e.g. "drop_idle_publisher 5s;"
};

class NginxRtmp {
 public:
  explicit NginxRtmp(std::vector<NginxApp> apps);
  ~NginxRtmp();  // kills nginx (by PID) and removes its directory
  NginxRtmp(const NginxRtmp&) = delete;
  NginxRtmp& operator=(const NginxRtmp&) = delete;

  // Picks free ports (retrying on a bind race), writes nginx.conf, starts nginx and waits (bounded, 10 s) until
  // both ports accept connections. Throws std::runtime_error with the error log on failure.
  void start();
  void stop();     // SIGTERM, then SIGKILL after 3 s
  void restart();  // stop() + start on the same ports (waits up to 5 s for them)
  bool suspend();  // SIGSTOP: connections stay open, nothing is read or sent
  bool resume();   // SIGCONT
  bool running();

  uint16_t rtmpPort() const { return rtmpPort_; }
  uint16_t httpPort() const { return httpPort_; }
  std::string rtmpUrl(std::string_view app, std::string_view name = "") const;  // rtmp://127.0.0.1:P/app[/name]
  const std::filesystem::path& dir() const { return dir_.path(); }
  // Where `record all` writes app/name: <recordDir or DIR/record/<app>>/<name><suffix>.
  std::filesystem::path recordPath(std::string_view app, std::string_view name) const;

  std::string statXml(std::chrono::milliseconds timeout = std::chrono::seconds(2)) const;  // "" if no answer
  NginxStreamStats streamStats(std::string_view app, std::string_view name) const;
  int publishCount(std::string_view app, std::string_view name) const;  // publish commands since construction
  std::vector<NginxPublishEvent> publishEvents() const;
  std::vector<NginxAccessEntry> accessLog() const;
  std::string accessLogText() const;
  std::string errorLogText() const;
  // GET /control/drop/publisher?app=..&name=..; returns how many sessions nginx dropped (-1: no answer).
  int dropPublisher(std::string_view app, std::string_view name) const;
  // Polls /stat every 50 ms until app/name is (or is no longer) being published.
  bool waitForPublishing(std::string_view app, std::string_view name, std::chrono::milliseconds timeout,
                         bool publishing = true) const;
  ChildProcess* process() { return process_.get(); }

 private:
  std::string config() const;
  std::filesystem::path recordDirOf(const NginxApp& app) const;
  bool launch(std::chrono::milliseconds bindWait);

  std::vector<NginxApp> apps_;
  TempDir dir_{"venuecast-nginx"};
  uint16_t rtmpPort_ = 0;
  uint16_t httpPort_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace venuecast::testing
