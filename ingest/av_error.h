#pragma once
#include <string>

namespace venuecast::ingest {

// av_strerror text for a libav error code, e.g. "Connection refused".
std::string avErrorText(int err);

// True for errors that mean "the peer is gone or stalled": reconnect rather than give up.
bool isConnectionError(int err);

}  // namespace venuecast::ingest
