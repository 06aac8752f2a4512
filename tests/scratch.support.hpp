// Scratch directories for tests that touch a disk, and canaries: files
// outside a store's roots (but inside the scratch directory) whose bytes
// and presence are checked after each hostile step, so that a test never
// aims anything at a path it does not own and still sees an escape.
// Header-only, C++17 (the Checkpointer's tests are C++17).
#pragma once
#include <sys/mount.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

namespace scratch {

namespace fs = std::filesystem;

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

/// A fresh directory under $CKPT_STORE_TEST_DIR, else /dev/shm, else the
/// temp directory; removed with everything in it (after unmounting what
/// the test mounted there) at the end.
struct Dir {
  fs::path base;
  std::vector<fs::path> mounts;
  explicit Dir(const std::string& tag = "ckpt-test") {
    static std::atomic<int> counter{0};
    const auto name = tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    const char* chosen = std::getenv("CKPT_STORE_TEST_DIR");
    std::error_code ec;
    base = fs::path(chosen ? chosen : "/dev/shm") / name;
    if (!fs::create_directories(base, ec)) {
      base = fs::temp_directory_path() / name;
      fs::remove_all(base, ec);
      fs::create_directories(base);
    }
  }
  ~Dir() {
    for (auto it = mounts.rbegin(); it != mounts.rend(); ++it) ::umount2(it->c_str(), MNT_DETACH);
    std::error_code ec;
    fs::permissions(base, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(base, ec);
  }
  Dir(const Dir&) = delete;
  Dir& operator=(const Dir&) = delete;
  std::string operator/(const std::string& rel) const { return (base / rel).string(); }
  /// A tmpfs of `size` ("64k") at `rel`; false where mounting is not allowed.
  bool mount_tmpfs(const std::string& rel, const char* size) {
    fs::create_directories(base / rel);
    const std::string opts = std::string("size=") + size;
    if (::mount("tmpfs", (base / rel).c_str(), "tmpfs", 0, opts.c_str()) != 0) return false;
    mounts.push_back(base / rel);
    return true;
  }
};

/// Everything under `root`, never following links: relative path ->
/// "dir", "link -> target" or the file's bytes.
using Listing = std::map<std::string, std::string>;
inline Listing listing(const fs::path& root) {
  Listing out;
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(root, ec))) return out;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    const auto rel = it->path().lexically_relative(root).string();
    const auto st = it->symlink_status();
    if (fs::is_symlink(st)) out[rel] = "link -> " + fs::read_symlink(it->path()).string();
    else if (fs::is_directory(st)) out[rel] = "dir";
    else out[rel] = read(it->path());
  }
  return out;
}

/// Entries under `root` named as the durable write names its temporaries.
inline std::vector<std::string> temporaries(const fs::path& root) {
  std::vector<std::string> out;
  for (const auto& [rel, what] : listing(root))
    if (fs::path(rel).filename().string().rfind(".ckpt-tmp.", 0) == 0) out.push_back(rel);
  return out;
}

/// Canary files in a directory of their own: planted once, checked after
/// each step (same names, same bytes, nothing added beside them).
struct Canaries {
  fs::path dir;
  Listing planted;
  explicit Canaries(fs::path where) : dir(std::move(where)) {
    for (const char* name : {"canary", "epoch_1.pth", "best_acc_epoch_1.pth", "last_checkpoint", "latest.pth"}) {
      write(dir / name, std::string("canary ") + name);
    }
    write(dir / "sub" / "epoch_2.pth", "canary sub/epoch_2.pth");
    planted = listing(dir);
  }
  /// Empty when intact; else what changed.
  std::string damage() const {
    const Listing now = listing(dir);
    if (now == planted) return {};
    std::string out;
    for (const auto& [k, v] : planted)
      if (!now.count(k)) out += "missing " + k + "; ";
      else if (now.at(k) != v) out += "changed " + k + "; ";
    for (const auto& [k, v] : now)
      if (!planted.count(k)) out += "added " + k + "; ";
    return out;
  }
};

}  // namespace scratch
