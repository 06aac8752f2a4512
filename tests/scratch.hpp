// A scratch tree for tests that apply plans to a real disk: a fresh
// directory (under $CKPT_STORE_TEST_DIR, else /dev/shm where fsync is free,
// else the temp directory), removed with everything in it at the end, and
// what is in it, links never followed. Every path such a test writes,
// removes or renames lies in here (issue 13; tests run as root).
#pragma once
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <system_error>
#include <unistd.h>

namespace scratch {

namespace fs = std::filesystem;

class Dir {
 public:
  Dir() {
    static std::atomic<int> counter{0};
    const auto name = "ckpt-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    const char* chosen = std::getenv("CKPT_STORE_TEST_DIR");
    std::error_code ec;
    base_ = fs::path(chosen ? chosen : "/dev/shm") / name;
    if (!fs::create_directories(base_, ec)) {
      base_ = fs::temp_directory_path() / name;
      fs::create_directories(base_);
    }
  }
  ~Dir() {
    std::error_code ec;
    fs::remove_all(base_, ec);
  }
  Dir(const Dir&) = delete;
  Dir& operator=(const Dir&) = delete;
  const fs::path& base() const { return base_; }
  std::string operator/(const std::string& rel) const { return (base_ / rel).string(); }

 private:
  fs::path base_;
};

inline std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void write(const fs::path& p, const std::string& data) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << data;
}

/// Everything under `root` (empty when it does not exist): relative path ->
/// "dir", "link -> target" or "file: contents".
inline std::map<std::string, std::string> listing(const fs::path& root) {
  std::map<std::string, std::string> out;
  std::error_code ec;
  if (!fs::is_directory(fs::symlink_status(root, ec))) return out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    const auto rel = it->path().lexically_relative(root).string();
    const auto st = it->symlink_status();
    if (fs::is_symlink(st)) out[rel] = "link -> " + fs::read_symlink(it->path()).string();
    else if (fs::is_directory(st)) out[rel] = "dir";
    else out[rel] = "file: " + read(it->path());
  }
  return out;
}

}  // namespace scratch
