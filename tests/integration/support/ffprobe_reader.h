#pragma once
// Reads a media file (e.g. an FLV that nginx recorded) with the ffprobe CLI and parses its JSON, and checks that
// it decodes with `ffmpeg -xerror`. Both run as bounded ChildProcesses.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace venuecast::testing {

struct FfprobeStream {
  int index = -1;
  std::string codecType;  // "video" / "audio"
  std::string codecName;  // "h264", "aac"
  std::string profile;    // "High", "LC"
  int width = 0, height = 0;
  int sampleRate = 0, channels = 0;
  int extradataSize = 0;
  std::string extradataHash;  // "MD5:..." (ffprobe -show_data_hash MD5)
  int64_t packetCount = 0;    // nb_read_packets
};

struct FfprobePacket {
  std::string kind;  // codec_type of its stream: "video" / "audio"
  int streamIndex = -1;
  std::optional<int64_t> dtsMs, ptsMs;  // in ms (converted from the stream time base)
  bool key = false;                     // flags contain 'K'
  int size = 0;
  std::string dataHash;                 // "MD5:..."
  bool newExtradata = false;            // side data "New Extradata"
};

struct FfprobeResult {
  bool ok = false;
  std::string error;  // ffprobe's stderr / why parsing failed
  std::vector<FfprobeStream> streams;
  std::vector<FfprobePacket> packets;

  const FfprobeStream* stream(const std::string& codecType) const;  // first of that type
  std::vector<FfprobePacket> packetsOf(const std::string& kind) const;
  // Over the packets of one kind: how many, how many did not increase the DTS (or lack one), the largest step.
  struct DtsSteps {
    std::size_t packets = 0, notIncreasing = 0;
    int64_t maxStepMs = 0;
  };
  DtsSteps dtsSteps(const std::string& kind) const;
};

struct DecodeCheck {
  int exitCode = -1;     // ffmpeg's exit code (-1: did not finish in time)
  std::string stderrText;
  bool ok() const { return exitCode == 0 && stderrText.empty(); }
};

class FfprobeReader {
 public:
  // ffprobe -v error -show_streams -show_packets -show_data_hash MD5 -of json FILE
  static FfprobeResult read(const std::filesystem::path& file,
                            std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // ffmpeg -v error -xerror -i FILE -f null -
  static DecodeCheck decodeCheck(const std::filesystem::path& file,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // Decoded video frames by size, "width,height" -> count (ffprobe -show_entries frame=width,height); nullopt
  // with `error` set if ffprobe failed.
  static std::optional<std::map<std::string, int>> frameSizes(const std::filesystem::path& file, std::string& error,
                                                              std::chrono::milliseconds timeout = std::chrono::seconds(60));
};

}  // namespace venuecast::testing
