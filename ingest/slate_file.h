#pragma once
// The operator's own standby clip (`venues[].slate: FILE`): read into memory once at start-up, played in a loop
// instead of the rendered card. H.264 and/or AAC with their parameters in the container (MP4, FLV, MKV), starting
// on a keyframe (earlier frames are dropped); at most 64 MiB and ten minutes.
#include <string>

#include "ingest/slate_clip.h"

namespace venuecast::ingest {

// Throws std::runtime_error naming the file and what is wrong with it.
SlateClipPtr loadSlateFile(const std::string& path);

}  // namespace venuecast::ingest
