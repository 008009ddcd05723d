#include "support/ffprobe_reader.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <sstream>

#include "support/child_process.h"
#include "support/temp_dir.h"

namespace venuecast::testing {
namespace {

int64_t toInt(const nlohmann::json& j, const char* key) {
  if (!j.contains(key)) return 0;
  const auto& v = j.at(key);
  if (v.is_number()) return v.get<int64_t>();
  if (v.is_string()) {
    try {
      return std::stoll(v.get<std::string>());
    } catch (...) {
    }
  }
  return 0;
}

std::string toStr(const nlohmann::json& j, const char* key) {
  return j.contains(key) && j.at(key).is_string() ? j.at(key).get<std::string>() : std::string();
}

// "1/1000" -> {1, 1000}
std::pair<int64_t, int64_t> timeBase(const std::string& tb) {
  auto slash = tb.find('/');
  if (slash == std::string::npos) return {1, 1000};
  try {
    return {std::stoll(tb.substr(0, slash)), std::stoll(tb.substr(slash + 1))};
  } catch (...) {
    return {1, 1000};
  }
}

}  // namespace

const FfprobeStream* FfprobeResult::stream(const std::string& codecType) const {
  for (const auto& s : streams) if (s.codecType == codecType) return &s;
  return nullptr;
}

std::vector<FfprobePacket> FfprobeResult::packetsOf(const std::string& kind) const {
  std::vector<FfprobePacket> out;
  for (const auto& p : packets) if (p.kind == kind) out.push_back(p);
  return out;
}

FfprobeResult::DtsSteps FfprobeResult::dtsSteps(const std::string& kind) const {
  const auto packets = packetsOf(kind);
  DtsSteps s;
  s.packets = packets.size();
  for (std::size_t i = 1; i < packets.size(); ++i) {
    if (!packets[i].dtsMs || !packets[i - 1].dtsMs || *packets[i].dtsMs <= *packets[i - 1].dtsMs) {
      ++s.notIncreasing;
      continue;
    }
    s.maxStepMs = std::max(s.maxStepMs, *packets[i].dtsMs - *packets[i - 1].dtsMs);
  }
  return s;
}

FfprobeResult FfprobeReader::read(const std::filesystem::path& file, std::chrono::milliseconds timeout) {
  FfprobeResult result;
  TempDir tmp("venuecast-ffprobe");
  ChildProcess proc({{"ffprobe", "-v", "error", "-show_streams", "-show_packets", "-show_data_hash", "MD5", "-of",
                      "json", file.string()},
                     {}, tmp.file("out.json"), tmp.file("err.txt"), {}});
  auto status = proc.waitExit(timeout);
  if (!status) status = proc.terminate();
  result.error = readFile(tmp.file("err.txt"));
  if (!status->ok()) {
    result.error = "ffprobe " + status->describe() + ": " + result.error;
    return result;
  }
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(readFile(tmp.file("out.json")));
  } catch (const std::exception& e) {
    result.error += std::string("bad ffprobe json: ") + e.what();
    return result;
  }
  std::vector<std::pair<int64_t, int64_t>> bases;
  for (const auto& s : j.value("streams", nlohmann::json::array())) {
    FfprobeStream st;
    st.index = static_cast<int>(toInt(s, "index"));
    st.codecType = toStr(s, "codec_type");
    st.codecName = toStr(s, "codec_name");
    st.profile = toStr(s, "profile");
    st.width = static_cast<int>(toInt(s, "width"));
    st.height = static_cast<int>(toInt(s, "height"));
    st.sampleRate = static_cast<int>(toInt(s, "sample_rate"));
    st.channels = static_cast<int>(toInt(s, "channels"));
    st.extradataSize = static_cast<int>(toInt(s, "extradata_size"));
    st.extradataHash = toStr(s, "extradata_hash");
    st.packetCount = toInt(s, "nb_read_packets");
    if (st.index >= 0) {
      if (bases.size() <= static_cast<std::size_t>(st.index)) bases.resize(st.index + 1, {1, 1000});
      bases[st.index] = timeBase(toStr(s, "time_base"));
    }
    result.streams.push_back(std::move(st));
  }
  for (const auto& p : j.value("packets", nlohmann::json::array())) {
    FfprobePacket pk;
    pk.kind = toStr(p, "codec_type");
    pk.streamIndex = static_cast<int>(toInt(p, "stream_index"));
    auto [num, den] = pk.streamIndex >= 0 && static_cast<std::size_t>(pk.streamIndex) < bases.size()
                          ? bases[pk.streamIndex] : std::pair<int64_t, int64_t>{1, 1000};
    if (p.contains("dts")) pk.dtsMs = toInt(p, "dts") * num * 1000 / den;
    if (p.contains("pts")) pk.ptsMs = toInt(p, "pts") * num * 1000 / den;
    pk.key = toStr(p, "flags").find('K') != std::string::npos;
    pk.size = static_cast<int>(toInt(p, "size"));
    pk.dataHash = toStr(p, "data_hash");
    for (const auto& sd : p.value("side_data_list", nlohmann::json::array()))
      pk.newExtradata |= toStr(sd, "side_data_type") == "New Extradata";
    result.packets.push_back(std::move(pk));
  }
  result.ok = true;
  return result;
}

DecodeCheck FfprobeReader::decodeCheck(const std::filesystem::path& file, std::chrono::milliseconds timeout) {
  DecodeCheck check;
  TempDir tmp("venuecast-decode");
  // -enc_time_base -1: frames keep the file's millisecond timestamps. By default the null output quantises them
  // to a frame rate guessed from the first frames, and a source whose clock drifts against that guess (ffmpeg's
  // -stream_loop adds a few ms per loop) eventually puts two frames into one slot: an error about ffmpeg's guess,
  // not about the file.
  ChildProcess proc({{"ffmpeg", "-nostdin", "-v", "error", "-xerror", "-i", file.string(), "-enc_time_base", "-1",
                      "-f", "null", "-"},
                     {}, tmp.file("out.txt"), tmp.file("err.txt"), {}});
  auto status = proc.waitExit(timeout);
  if (!status) {
    proc.terminate();
    check.stderrText = "ffmpeg decode check did not finish in time\n" + readFile(tmp.file("err.txt"));
    return check;
  }
  check.exitCode = status->exited ? status->exitCode : 128 + status->termSignal;
  check.stderrText = readFile(tmp.file("err.txt"));
  return check;
}

std::optional<std::map<std::string, int>> FfprobeReader::frameSizes(const std::filesystem::path& file,
                                                                    std::string& error,
                                                                    std::chrono::milliseconds timeout) {
  TempDir tmp("venuecast-frames");
  ChildProcess proc({{"ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "frame=width,height", "-of",
                      "csv=p=0", file.string()},
                     {}, tmp.file("frames.csv"), tmp.file("frames.err"), {}});
  const auto status = proc.waitExit(timeout);
  if (!status || !status->ok()) {
    if (!status) proc.terminate();
    error = readFile(tmp.file("frames.err"));
    return std::nullopt;
  }
  std::map<std::string, int> sizes;
  std::istringstream lines(readFile(tmp.file("frames.csv")));
  for (std::string line; std::getline(lines, line);) {
    // "width,height" (a frame with side data may carry a trailing field)
    const auto second = line.find(',', line.find(',') + 1);
    if (!line.empty()) ++sizes[line.substr(0, second)];
  }
  return sizes;
}

}  // namespace venuecast::testing
