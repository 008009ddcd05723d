#include "support/tls_proxy.h"

#include <stdexcept>
#include <string>
#include <thread>

#include "support/free_port.h"

namespace venuecast::testing {

TlsProxy::TlsProxy(uint16_t targetPort)
    : targetPort_(targetPort), cert_(dir_.file("cert.pem")), key_(dir_.file("key.pem")) {}

TlsProxy::~TlsProxy() = default;  // ChildProcess kills + reaps socat, then TempDir removes the directory

void TlsProxy::makeSelfSignedCertificate(const std::filesystem::path& cert, const std::filesystem::path& key) {
  auto log = cert.parent_path() / "openssl.log";
  ChildProcess openssl({{"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                         "-nodes", "-keyout", key.string(), "-out", cert.string(), "-days", "7", "-subj",
                         "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"},
                        {}, log, {}, {}});
  auto st = openssl.waitExit(std::chrono::seconds(20));
  if (!st) st = openssl.terminate();
  if (!st->ok() || !std::filesystem::exists(cert) || !std::filesystem::exists(key)) {
    throw std::runtime_error("openssl req failed (" + st->describe() + "): " + readFile(log));
  }
}

void TlsProxy::start() {
  if (process_ && process_->running()) return;
  if (!std::filesystem::exists(cert_)) makeSelfSignedCertificate(cert_, key_);
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = freePort();
    const auto log = dir_.file("socat-" + std::to_string(port_) + ".log");
    process_ = std::make_unique<ChildProcess>(ChildProcess::Options{
        {"socat", "OPENSSL-LISTEN:" + std::to_string(port_) + ",bind=127.0.0.1,reuseaddr,fork,cert=" + cert_.string() +
                      ",key=" + key_.string() + ",verify=0",
         "TCP:127.0.0.1:" + std::to_string(targetPort_)},
        {}, log, {}, dir_.path()});
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (!process_->running()) break;
      if (portAccepts(port_)) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (process_->running()) {
      process_->terminate();
      throw std::runtime_error("socat did not accept connections in time: " + readFile(log));
    }
    if (readFile(log).find("Address already in use") == std::string::npos) {
      throw std::runtime_error("socat exited at start (" + process_->exitStatus()->describe() + "): " + readFile(log));
    }
  }
  throw std::runtime_error("socat: could not bind a free port after 5 attempts");
}

void TlsProxy::stop() {
  if (process_) process_->terminate(std::chrono::seconds(3));
}

std::string TlsProxy::logText() const { return process_ ? process_->logText() : std::string(); }

}  // namespace venuecast::testing
