#pragma once
#include <string>

namespace venuecast::ingest {

// av_strerror text for a libav error code, e.g. "Connection refused".
std::string avErrorText(int err);

// True for errors that mean "the peer is gone or stalled": reconnect rather than give up.
bool isConnectionError(int err);

// libav often returns a bare EIO and says the real cause in its log (e.g. "[tls] Peer certificate failed
// verification"). The log bridge notes the first error-level line per thread; a session clears it before a
// call and appends it to the error it reports.
void noteLibavError(std::string text);
void clearLibavError();
// " (tls: Peer certificate failed verification)", or "" when libav said nothing.
std::string libavErrorDetail();

}  // namespace venuecast::ingest
