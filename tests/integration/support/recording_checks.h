#pragma once
// What a platform recorded, checked the same way by every test that records an endpoint: the file decodes with
// `ffmpeg -xerror`, each stream's DTS strictly increase over more than 100 packets, and no DTS step exceeds
// `maxStepMs` (the switch wait the test allows). Prints the figures.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "support/ffprobe_reader.h"

namespace venuecast::testing {

inline void expectCleanRecording(const std::filesystem::path& file, int64_t maxStepMs) {
  ASSERT_TRUE(std::filesystem::exists(file)) << file;
  const DecodeCheck decode = FfprobeReader::decodeCheck(file);
  EXPECT_TRUE(decode.ok()) << "exit " << decode.exitCode << ": " << decode.stderrText.substr(0, 3000);
  const FfprobeResult probe = FfprobeReader::read(file);
  ASSERT_TRUE(probe.ok) << probe.error;
  for (const std::string kind : {"video", "audio"}) {
    const auto steps = probe.dtsSteps(kind);
    std::printf("[ figures  ] %s: %zu packets, largest DTS step %lld ms\n", kind.c_str(), steps.packets,
                static_cast<long long>(steps.maxStepMs));
    EXPECT_GT(steps.packets, 100u) << kind;
    EXPECT_EQ(steps.notIncreasing, 0u) << kind << ": DTS must increase strictly";
    EXPECT_LE(steps.maxStepMs, maxStepMs) << kind;
  }
}

}  // namespace venuecast::testing
