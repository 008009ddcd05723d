#pragma once
// Runs the relay as a black box: writes CONFIG.yaml into a TempDir and starts
//   VENUECAST_BINARY run CONFIG.yaml --log-level <level>
// (logs on stderr, captured to a file). It must exit 0 within 3 s of SIGTERM/SIGINT.
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "support/child_process.h"
#include "support/temp_dir.h"

namespace venuecast::testing {

struct VenueSpec {
  std::string id;
  std::string url;  // rtmp://127.0.0.1:PORT/venue/<id>
  std::optional<std::string> pushKey;  // set: a push venue (push_key instead of url)
  std::string extraYaml;  // more fields of the venue, verbatim ("    slate: off\n")
};

struct OutputSpec {
  std::string id;
  std::string venue;
  std::string url;                 // server, e.g. rtmp://127.0.0.1:PORT/forum
  std::optional<std::string> key;  // stream key joined like OBS (app from url, playpath = key)
};

struct VenuecastConfig {
  std::vector<VenueSpec> venues;
  std::vector<OutputSpec> outputs;
  std::string rtmpListen;  // server.rtmp_listen, e.g. "127.0.0.1:PORT" (empty: none)
  std::string extraYaml;  // appended verbatim (top-level keys)
  std::string toYaml() const;  // every string double-quoted and escaped
};

class VenuecastProcess {
 public:
  explicit VenuecastProcess(const VenuecastConfig& config);
  explicit VenuecastProcess(std::string yaml);  // raw config text (e.g. to test validation errors)
  ~VenuecastProcess();  // SIGKILLs the relay if it still runs, removes the temp dir

  // Starts the binary; extraArgs go after the standard ones.
  void start(std::vector<std::string> extraArgs = {}, std::string logLevel = "debug");
  bool started() const { return process_ != nullptr; }
  ChildProcess& process() { return *process_; }
  bool running() { return process_ && process_->running(); }
  ExitStatus terminate(std::chrono::milliseconds timeout = std::chrono::seconds(3));
  std::optional<ExitStatus> waitExit(std::chrono::milliseconds timeout);
  std::string logText() const;
  std::optional<std::string> waitForLog(const std::regex& re, std::chrono::milliseconds timeout,
                                        std::size_t fromOffset = 0) const;
  const std::filesystem::path& configPath() const { return configPath_; }
  const std::filesystem::path& dir() const { return dir_.path(); }

  static std::filesystem::path binary();  // $VENUECAST_BINARY, else the compile-time VENUECAST_BINARY
  static bool binaryAvailable();          // exists and is executable

 private:
  TempDir dir_{"venuecast-relay"};
  std::filesystem::path configPath_;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace venuecast::testing
