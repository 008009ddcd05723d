#pragma once
// The validated, immutable configuration: plain structs, no YAML types leak out of config/.
#include <string>
#include <vector>

namespace venuecast::config {

// A venue's second source: pulled (url) or publishing to venuecast (push_key), like the primary.
struct BackupSourceConfig {
  std::string url;
  std::string pushKey;
  bool present() const { return !url.empty() || !pushKey.empty(); }
};

struct VenueConfig {
  std::string id;    // [a-z0-9-]+, unique
  std::string name;  // optional UTF-8 display name (defaults to id)
  std::string url;   // rtmp:// or rtmps:// pull URL, ${VAR}-expanded; empty for a push venue
  int line = 0;      // where the entry starts in the file, for later messages
  std::string pushKey;  // push venue: the secret its encoder sends as "<id>?key=<pushKey>"; ${VAR}-expanded
  BackupSourceConfig backup;
  double failoverAfterS = 2;   // primary silent this long: switch to the backup (or to the standby slate)
  double failbackAfterS = 10;  // primary live again this long: switch back
  bool standby = true;          // nothing live for failover_after: the outputs carry a standby slate
  std::string slateFile;        // the operator's slate clip (resolved against the config file); empty: rendered

  bool push() const { return !pushKey.empty(); }
};

struct OutputConfig {
  std::string id;     // unique
  std::string venue;  // id of the venue it carries
  std::string url;    // rtmp:// or rtmps:// server URL ("server" as OBS shows it)
  std::string key;    // optional stream key, secret; joined to url the way OBS does
  bool tlsVerify = true;  // rtmps only: verify the server certificate
  std::string caFile;     // rtmps only: CA bundle instead of the system trust store
  int line = 0;
};

struct ServerConfig {
  std::string rtmpListen;  // "host:port" venues publish to; empty: no listener
};

struct Config {
  std::string file;  // the path it was loaded from, as given
  ServerConfig server;
  std::vector<VenueConfig> venues;
  std::vector<OutputConfig> outputs;
};

}  // namespace venuecast::config
