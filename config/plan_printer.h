#pragma once
// The human-readable plan printed by `venuecast check FILE`: which venue feeds which outputs.
// Stable text (tests and operators diff it); stream keys never appear, only "****".
#include <string>

#include "config/config.h"

namespace venuecast::config {

// Example:
//   coscon21.yaml: 7 venues, 14 outputs
//
//   venue chengdu "成都分会场"
//     from rtmp://127.0.0.1:1935/venue/****
//     -> forum-chengdu      rtmp://127.0.0.1:1936/forum/****
//     -> bilibili-chengdu   rtmp://live-push.bilivideo.com:1935/live-bvc/****
//   venue wuxi
//     from rtmp://127.0.0.1:1935/venue/****
//     (no outputs)
// rtmps outputs get a line "tls: verify certificate (system CA store | CA file X)" or
// "tls: certificate NOT verified". Outputs naming an unknown venue are listed at the end.
std::string describePlan(const Config& config);

}  // namespace venuecast::config
