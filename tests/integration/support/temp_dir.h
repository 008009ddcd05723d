#pragma once
// A private scratch directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
// Set VENUECAST_IT_KEEP=1 to keep it (its path is printed) when debugging a failing test.
#include <filesystem>
#include <string>
#include <string_view>

namespace venuecast::testing {

class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "venuecast-it");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // path() / name (does not create anything).
  std::filesystem::path file(std::string_view name) const;
  // Creates (if needed) and returns path() / name.
  std::filesystem::path subdir(std::string_view name) const;

 private:
  std::filesystem::path path_;
};

// Whole file as a string; empty if it does not exist.
std::string readFile(const std::filesystem::path& path);
// The file from byte `offset` on; empty if it does not exist or is shorter.
std::string readFileFrom(const std::filesystem::path& path, std::size_t offset);
// Writes atomically enough for tests (truncate + write).
void writeFile(const std::filesystem::path& path, std::string_view text);

}  // namespace venuecast::testing
