#include "support/nginx_rtmp.h"

#include <sstream>
#include <stdexcept>
#include <thread>

#include "support/free_port.h"
#include "support/http_client.h"

namespace venuecast::testing {
namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kModule = "/usr/lib/nginx/modules/ngx_rtmp_module.so";

std::string urlEncode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out += static_cast<char>(c);
    else out += {'%', hex[c >> 4], hex[c & 15]};
  }
  return out;
}

}  // namespace

NginxRtmp::NginxRtmp(std::vector<NginxApp> apps) : apps_(std::move(apps)) {}

NginxRtmp::~NginxRtmp() = default;  // ChildProcess kills + reaps, then TempDir removes the directory

std::string NginxRtmp::rtmpUrl(std::string_view app, std::string_view name) const {
  std::string url = "rtmp://127.0.0.1:" + std::to_string(rtmpPort_) + "/" + std::string(app);
  if (!name.empty()) url += "/" + std::string(name);
  return url;
}

std::filesystem::path NginxRtmp::recordDirOf(const NginxApp& app) const {
  return app.recordDir.empty() ? dir_.path() / "record" / app.name : app.recordDir;
}

std::filesystem::path NginxRtmp::recordPath(std::string_view app, std::string_view name) const {
  for (const auto& a : apps_)
    if (a.name == app) return recordDirOf(a) / (std::string(name) + a.recordSuffix);
  return dir_.path() / "record" / std::string(app) / (std::string(name) + ".flv");
}

std::string NginxRtmp::config() const {
  const std::string d = dir_.path().string();
  std::ostringstream c;
  c << "load_module " << kModule << ";\n"
    << "daemon off;\nmaster_process off;\nworker_processes 1;\n"
    << "pid " << d << "/nginx.pid;\n"
    << "error_log " << d << "/error.log info;\n"
    << "events { worker_connections 1024; }\n"
    << "rtmp {\n"
    << "  log_format venuecast '$remote_addr [$time_local] $command \"$app\" \"$name\" \"$args\" "
       "$bytes_received $bytes_sent \"$flashver\" \"$tcurl\"';\n"
    << "  access_log " << d << "/access.log venuecast;\n"
    << "  server {\n    listen 127.0.0.1:" << rtmpPort_ << ";\n";
  for (const auto& a : apps_) {
    c << "    application " << a.name << " {\n      live on;\n"
      << "      publish_notify " << (a.publishNotify ? "on" : "off") << ";\n";
    if (a.idleStreams) c << "      idle_streams " << (*a.idleStreams ? "on" : "off") << ";\n";
    if (a.record) {
      auto rec = recordDirOf(a);
      std::filesystem::create_directories(rec);
      c << "      record all;\n      record_path " << rec.string() << ";\n      record_suffix " << a.recordSuffix
        << ";\n      record_unique off;\n";
    }
    for (const auto& line : a.extraDirectives) c << "      " << line << "\n";
    c << "    }\n";
  }
  c << "  }\n}\n"
    << "http {\n  access_log off;\n";
  for (const char* t : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"})
    c << "  " << t << "_temp_path " << d << "/tmp/" << t << ";\n";
  c << "  server {\n    listen 127.0.0.1:" << httpPort_ << ";\n"
    << "    location /stat { rtmp_stat all; }\n"
    << "    location /control { rtmp_control all; }\n  }\n}\n";
  return c.str();
}

// Starts nginx on rtmpPort_/httpPort_; false if it exited because a port was taken.
bool NginxRtmp::launch(std::chrono::milliseconds bindWait) {
  const auto& d = dir_.path();
  std::filesystem::create_directories(d / "tmp");
  writeFile(d / "nginx.conf", config());
  auto logOffset = readFile(d / "error.log").size();
  process_ = std::make_unique<ChildProcess>(ChildProcess::Options{
      {"nginx", "-p", d.string() + "/", "-c", (d / "nginx.conf").string(), "-e", (d / "error.log").string()},
      {}, d / "nginx.out", {}, d});
  auto deadline = Clock::now() + bindWait + std::chrono::seconds(10);
  while (Clock::now() < deadline) {
    if (!process_->running()) {
      auto log = readFile(d / "error.log").substr(logOffset) + readFile(d / "nginx.out");
      if (log.find("Address already in use") != std::string::npos) return false;
      throw std::runtime_error("nginx exited at start (" + process_->exitStatus()->describe() + "):\n" + log);
    }
    if (portAccepts(rtmpPort_) && portAccepts(httpPort_)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  process_->terminate();
  throw std::runtime_error("nginx did not accept connections in time:\n" + readFile(d / "error.log"));
}

void NginxRtmp::start() {
  if (process_ && process_->running()) return;
  for (int attempt = 0; attempt < 5; ++attempt) {
    rtmpPort_ = freePort();
    httpPort_ = freePort();
    if (launch(std::chrono::milliseconds(0))) return;
  }
  throw std::runtime_error("nginx: could not bind free ports after 5 attempts");
}

void NginxRtmp::stop() {
  if (process_) process_->terminate(std::chrono::seconds(3));
}

void NginxRtmp::restart() {
  stop();
  auto deadline = Clock::now() + std::chrono::seconds(5);
  for (;;) {
    if (launch(std::chrono::milliseconds(0))) return;
    if (Clock::now() >= deadline) throw std::runtime_error("nginx: ports taken, cannot restart on the same ports");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

bool NginxRtmp::suspend() { return process_ && process_->suspend(); }
bool NginxRtmp::resume() { return process_ && process_->resume(); }
bool NginxRtmp::running() { return process_ && process_->running(); }

std::string NginxRtmp::statXml(std::chrono::milliseconds timeout) const {
  auto r = HttpClient::get(httpPort_, "/stat", timeout);
  return r.status == 200 ? r.body : std::string();
}

NginxStreamStats NginxRtmp::streamStats(std::string_view app, std::string_view name) const {
  auto s = NginxStats::parseStream(statXml(), app, name);
  s.publishEvents = publishCount(app, name);
  return s;
}

std::vector<NginxPublishEvent> NginxRtmp::publishEvents() const {
  return NginxStats::parsePublishEvents(errorLogText());
}

int NginxRtmp::publishCount(std::string_view app, std::string_view name) const {
  int n = 0;
  for (const auto& e : publishEvents()) n += e.app == app && e.name == name;
  return n;
}

std::vector<NginxAccessEntry> NginxRtmp::accessLog() const { return NginxStats::parseAccessLog(accessLogText()); }
std::string NginxRtmp::accessLogText() const { return readFile(dir_.path() / "access.log"); }
std::string NginxRtmp::errorLogText() const { return readFile(dir_.path() / "error.log"); }

int NginxRtmp::dropPublisher(std::string_view app, std::string_view name) const {
  auto r = HttpClient::get(httpPort_, "/control/drop/publisher?app=" + urlEncode(app) + "&name=" + urlEncode(name));
  if (r.status != 200) return -1;
  try {
    return std::stoi(r.body);
  } catch (...) {
    return -1;
  }
}

bool NginxRtmp::waitForPublishing(std::string_view app, std::string_view name, std::chrono::milliseconds timeout,
                                  bool publishing) const {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    if (NginxStats::parseStream(statXml(), app, name).publishing == publishing) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace venuecast::testing
