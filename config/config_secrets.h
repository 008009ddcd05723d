#pragma once
// Which strings of a Config are secrets: every stream key and every part of a URL that redactUrl()
// hides (stream name, query, credentials). Ids are public: they appear in logs, status and plans, and
// the COSCon forum ingest even uses the venue id as its key, so they are never masked.
#include "config/config.h"
#include "config/redaction.h"

namespace venuecast::config {

void addConfigSecrets(SecretScrubber& scrubber, const Config& config);

}  // namespace venuecast::config
