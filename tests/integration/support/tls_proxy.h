#pragma once
// A TLS terminator on 127.0.0.1 in front of a plain TCP port, so rtmps:// can be tested against nginx-rtmp (which
// has no TLS): socat OPENSSL-LISTEN:PORT,bind=127.0.0.1,reuseaddr,fork,cert=..,key=..,verify=0 TCP:127.0.0.1:TARGET.
// The certificate is self-signed (openssl CLI, EC P-256) for CN=127.0.0.1 with subjectAltName IP:127.0.0.1, which is
// what a client connecting to "127.0.0.1" checks (gnutls matches an IP host against IP SANs). certFile() doubles as
// the CA file a client can trust. socat forks one child per connection; the children end with their connections.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>

#include "support/child_process.h"
#include "support/temp_dir.h"

namespace venuecast::testing {

class TlsProxy {
 public:
  explicit TlsProxy(uint16_t targetPort);
  ~TlsProxy();  // kills socat by PID, removes the directory (certificate included)
  TlsProxy(const TlsProxy&) = delete;
  TlsProxy& operator=(const TlsProxy&) = delete;

  // Makes the certificate (once), picks a free port (retrying on a bind race), starts socat and waits (bounded,
  // 10 s) until it accepts connections. Throws std::runtime_error with socat's/openssl's output on failure.
  void start();
  void stop();  // SIGTERM, then SIGKILL after 3 s

  uint16_t port() const { return port_; }
  const std::filesystem::path& certFile() const { return cert_; }  // PEM; also the CA to trust
  const std::filesystem::path& keyFile() const { return key_; }
  ChildProcess* process() { return process_.get(); }
  std::string logText() const;

  // Writes a self-signed certificate + key for 127.0.0.1 (openssl req -x509); throws on failure.
  static void makeSelfSignedCertificate(const std::filesystem::path& cert, const std::filesystem::path& key);

 private:
  uint16_t targetPort_;
  TempDir dir_{"venuecast-tls"};
  std::filesystem::path cert_;
  std::filesystem::path key_;
  uint16_t port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace venuecast::testing
