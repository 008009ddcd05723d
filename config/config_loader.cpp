#include "config/config_loader.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "config/config_reader.h"
#include "config/config_secrets.h"
#include "config/config_validator.h"
#include "config/redaction.h"

namespace venuecast::config {

namespace {

// POSIX read so that errno names the real cause (ENOENT, EACCES, EISDIR).
std::string readFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw ConfigErrors({{path, 0, "", std::string("cannot read file: ") + std::strerror(errno)}});
  std::string text;
  char buffer[16384];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      throw ConfigErrors({{path, 0, "", std::string("cannot read file: ") + std::strerror(err)}});
    }
    text.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return text;
}

}  // namespace

Config parseConfig(const std::string& text, const std::string& fileName, const EnvLookup& env) {
  ReadResult read = ConfigReader(fileName, env).read(text);
  auto errors = std::move(read.errors);
  auto more = ConfigValidator(read, fileName).validate();
  errors.insert(errors.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  if (!errors.empty()) {
    // Messages are built never to quote a key; scrubbing is the safety net for a key that landed in
    // the wrong field (e.g. `venue: ${BILI_KEY}` quoted back as "unknown venue '...'"). Any value
    // taken from the environment counts as secret here.
    SecretScrubber scrubber;
    for (const auto& value : read.envValues) scrubber.add(value);
    addConfigSecrets(scrubber, read.config);
    for (auto& error : errors) {
      error.field = scrubber.scrub(std::move(error.field));
      error.message = scrubber.scrub(std::move(error.message));
    }
    std::stable_sort(errors.begin(), errors.end(),
                     [](const ConfigError& a, const ConfigError& b) { return a.line < b.line; });
    throw ConfigErrors(std::move(errors));
  }
  read.config.file = fileName;
  return std::move(read.config);
}

Config loadConfig(const std::string& path) { return parseConfig(readFile(path), path, processEnv()); }

}  // namespace venuecast::config
