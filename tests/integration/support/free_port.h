#pragma once
// Free TCP ports on 127.0.0.1 for the harness's servers.
#include <cstdint>

namespace venuecast::testing {

// A TCP port that is free on 127.0.0.1 right now and that this process has not handed out before.
// Picked at random from 20000-32767, below Linux's ephemeral range (32768-60999), so the kernel does not
// give it to an outgoing connection meanwhile; a concurrent test process may still race for it, so a server
// that fails to bind should ask again (NginxRtmp does).
uint16_t freePort();

// True if something accepts TCP connections on 127.0.0.1:port (connect bounded by `timeoutMs`).
bool portAccepts(uint16_t port, int timeoutMs = 200);

}  // namespace venuecast::testing
