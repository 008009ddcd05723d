#pragma once
// Loading a venuecast YAML file into a validated Config. Every problem in the file is reported at
// once (ConfigErrors), each as "file:line: field: message", and no message ever contains a stream
// key or the secret part of a URL. Schema and rules: config/examples/coscon21.yaml.
#include <string>

#include "config/config.h"
#include "config/config_error.h"
#include "config/env_expander.h"

namespace venuecast::config {

// Reads `path` and expands ${VAR} from the process environment. Throws ConfigErrors.
Config loadConfig(const std::string& path);

// Same, from text; `fileName` is used in messages and to resolve a relative ca_file. Throws ConfigErrors.
Config parseConfig(const std::string& text, const std::string& fileName, const EnvLookup& env);

}  // namespace venuecast::config
