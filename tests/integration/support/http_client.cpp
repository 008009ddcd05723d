#include "support/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace venuecast::testing {
namespace {

using Clock = std::chrono::steady_clock;

int remainingMs(Clock::time_point deadline) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return ms > 0 ? static_cast<int>(ms) : 0;
}

bool waitFor(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int r = ::poll(&p, 1, remainingMs(deadline));
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return false;
  }
}

}  // namespace

HttpResponse HttpClient::get(uint16_t port, std::string_view pathAndQuery, std::chrono::milliseconds timeout) {
  HttpResponse out;
  auto deadline = Clock::now() + timeout;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    out.error = "socket failed";
    return out;
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string request = "GET " + std::string(pathAndQuery) + " HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  std::string raw;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno != EINPROGRESS) {
    out.error = std::string("connect: ") + std::strerror(errno);
  } else if (!waitFor(fd, POLLOUT, deadline)) {
    out.error = "connect timed out";
  } else {
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) out.error = std::string("connect: ") + std::strerror(err);
  }
  std::size_t sent = 0;
  while (out.error.empty() && sent < request.size()) {
    if (!waitFor(fd, POLLOUT, deadline)) out.error = "send timed out";
    else {
      ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
      if (n > 0) sent += static_cast<std::size_t>(n);
      else if (n < 0 && errno != EAGAIN && errno != EINTR) out.error = std::string("send: ") + std::strerror(errno);
    }
  }
  while (out.error.empty()) {
    if (!waitFor(fd, POLLIN, deadline)) {
      out.error = "response timed out";
      break;
    }
    char buf[8192];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) break;
    if (n > 0) raw.append(buf, static_cast<std::size_t>(n));
    else if (errno != EAGAIN && errno != EINTR) out.error = std::string("recv: ") + std::strerror(errno);
  }
  ::close(fd);
  if (!out.error.empty()) return out;
  auto headerEnd = raw.find("\r\n\r\n");
  int status = 0;
  if (headerEnd == std::string::npos || std::sscanf(raw.c_str(), "HTTP/%*d.%*d %d", &status) != 1) {
    out.error = "malformed response";
    return out;
  }
  out.status = status;
  out.body = raw.substr(headerEnd + 4);
  return out;
}

}  // namespace venuecast::testing
