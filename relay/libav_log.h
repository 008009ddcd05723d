#pragma once
// Routes libav's own log lines into spdlog at debug level (libav repeats itself on every retry; our
// supervisors log the state changes), with every registered secret scrubbed out first.
#include <memory>

#include "config/redaction.h"

namespace venuecast::relay {

void installLibavLog(std::shared_ptr<const config::SecretScrubber> scrubber);

}  // namespace venuecast::relay
