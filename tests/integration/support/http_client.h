#pragma once
// Minimal, bounded HTTP/1.0 GET to 127.0.0.1 over a plain socket (for nginx's /stat and /control).
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace venuecast::testing {

struct HttpResponse {
  int status = 0;     // 0: no response (refused, timed out, malformed)
  std::string body;
  std::string error;  // why status is 0
};

class HttpClient {
 public:
  // Connect + send + read-until-close, all within `timeout` in total.
  static HttpResponse get(uint16_t port, std::string_view pathAndQuery,
                          std::chrono::milliseconds timeout = std::chrono::seconds(3));
};

}  // namespace venuecast::testing
