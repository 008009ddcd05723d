// The probes must not add latency of their own. nginx-rtmp does not set TCP_NODELAY, so it holds a frame's last
// (sub-MSS) segment until its earlier data is ACKed (Nagle); a receiver that delays its ACK (Linux: up to 40 ms)
// then delays that frame. For the probes that is measurement noise, not relay latency: it showed up as ±40 ms in
// the noise floor (probe vs probe at the source). So every TCP read in this tool turns on TCP_QUICKACK again (the
// flag does not stick), and the probes ACK at once, as a fast player would.
//
// The probes read through libavformat's tcp protocol, which calls recv(); this definition interposes on it for the
// whole process (libavformat resolves recv through its PLT; the executable exports this symbol, see
// CMakeLists.txt). It only affects this measuring tool, never a candidate or a server.
#undef _FORTIFY_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/types.h>

extern "C" ssize_t recv(int fd, void* buf, size_t len, int flags) {
  using Recv = ssize_t (*)(int, void*, size_t, int);
  static const Recv real = reinterpret_cast<Recv>(::dlsym(RTLD_NEXT, "recv"));
  ssize_t n = real(fd, buf, len, flags);
  if (n > 0) {
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);  // fails harmlessly on a non-TCP socket
  }
  return n;
}
