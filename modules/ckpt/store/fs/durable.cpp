// The system calls behind the store. Everything below a root is reached
// through directory descriptors opened O_NOFOLLOW, so a symlink swapped in
// after a path was checked makes the call fail rather than lead elsewhere.
// Every call is checked; errno becomes an Error naming the plan's path.
module;
#include "ckpt/internal/durable.hpp"
#include "ckpt/internal/file_layer.hpp"
#include "ckpt/internal/sink.hpp"
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
module ckpt.store.fs;

namespace ckpt::store::fs::detail {

namespace {

using internal::sys;

constexpr int dir_flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

// mkdir -p for a root that does not exist yet, fsync'ing each new entry's parent.
int make_root(const std::filesystem::path& root) {
  std::vector<std::filesystem::path> missing;
  auto p = root;
  struct stat st {};
  while (::stat(p.c_str(), &st) != 0) {
    if (errno != ENOENT) return errno;
    missing.push_back(p);
    p = p.parent_path();
  }
  if (!S_ISDIR(st.st_mode)) return ENOTDIR;
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (sys().mkdir(it->c_str(), 0755) != 0 && errno != EEXIST) return errno;
    Fd parent(sys().open(it->parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0));
    if (!parent || sys().fsync(parent.get()) != 0) return errno;
  }
  return 0;
}

// Removes directory `name` in `parent` and everything in it. Entries are
// examined without following links and directories opened O_NOFOLLOW: a
// symlink anywhere in the tree is unlinked, never followed.
std::optional<Error> remove_tree(int parent, const std::string& name, const std::string& shown) {
  Fd dir(sys().openat(parent, name.c_str(), dir_flags, 0));
  if (!dir) return errno == ENOENT ? std::nullopt : std::optional(io_error(errno, shown, "open"));
  auto listed = list_directory(dir.get());
  if (auto* err = std::get_if<int>(&listed)) return io_error(*err, shown, "readdir");
  for (const auto& entry : std::get<std::vector<std::string>>(listed)) {
    std::string inner = shown + "/" + entry;
    struct stat st {};
    if (::fstatat(dir.get(), entry.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;
      return io_error(errno, inner, "lstat");
    }
    if (S_ISDIR(st.st_mode)) {
      if (auto e = remove_tree(dir.get(), entry, inner)) return e;
    } else if (sys().unlinkat(dir.get(), entry.c_str(), 0) != 0 && errno != ENOENT) {
      return io_error(errno, inner, "unlink");
    }
  }
  if (sys().unlinkat(parent, name.c_str(), AT_REMOVEDIR) != 0) return io_error(errno, shown, "rmdir");
  return std::nullopt;
}

}  // namespace

std::variant<std::vector<std::string>, int> list_directory(int dir) {
  std::vector<std::string> entries;
  int copy = ::dup(dir);
  DIR* listing = copy < 0 ? nullptr : ::fdopendir(copy);
  if (!listing) {
    int err = errno;
    if (copy >= 0) ::close(copy);
    return err;
  }
  ::rewinddir(listing);  // the copy shares its offset with `dir`
  errno = 0;
  while (const dirent* entry = ::readdir(listing)) {
    std::string n = entry->d_name;
    if (n != "." && n != "..") entries.push_back(std::move(n));
  }
  int err = errno;
  ::closedir(listing);
  if (err) return err;
  return entries;
}

bool has_nul(const std::string& path) { return path.find('\0') != std::string::npos; }

Error embedded_null(const std::string& path) {
  return {ErrorKind::reference, path, "ValueError: embedded null byte"};
}

std::variant<std::uint64_t, int> free_bytes(const std::string& dir) {
  std::string at = dir.empty() ? "." : dir;
  for (;;) {
    struct statvfs st {};
    if (sys().statvfs(at.c_str(), &st) == 0) return static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
    if (errno != ENOENT || at == "/" || at == ".") return errno;
    auto slash = at.rfind('/');
    at = slash == std::string::npos ? "." : slash == 0 ? "/" : at.substr(0, slash);
  }
}

Error io_error(int err, const std::string& path, const std::string& what) {
  return io_error(internal::IoFailure{err, what}, path);
}

Error io_error(const internal::IoFailure& failure, const std::string& path) {
  return {ErrorKind::io, path, failure.message(), failure.err};
}

std::variant<Fd, int> open_directory(const Location& at, bool create) {
  Fd dir(sys().open(at.root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0));
  if (!dir && errno == ENOENT && create) {
    if (int err = make_root(at.root)) return err;
    dir = Fd(sys().open(at.root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0));
  }
  if (!dir) return errno;
  for (const auto& name : at.dirs) {
    Fd next(sys().openat(dir.get(), name.c_str(), dir_flags, 0));
    if (!next && errno == ENOENT && create) {
      if (sys().mkdirat(dir.get(), name.c_str(), 0755) != 0 && errno != EEXIST) return errno;
      if (sys().fsync(dir.get()) != 0) return errno;  // the new directory's entry is durable
      next = Fd(sys().openat(dir.get(), name.c_str(), dir_flags, 0));
    }
    if (!next) return errno;
    dir = std::move(next);
  }
  return dir;
}

std::optional<Error> replace_symlink(int dir, const std::string& name, const std::string& target,
                                     const std::string& shown) {
  std::string temp;
  for (int attempt = 0;; ++attempt) {
    temp = internal::temp_name();
    if (sys().symlinkat(target.c_str(), dir, temp.c_str()) == 0) break;
    if (errno != EEXIST || attempt == 100) return io_error(errno, shown, "symlink");
  }
  if (sys().renameat(dir, temp.c_str(), dir, name.c_str()) != 0) {
    int err = errno;
    sys().unlinkat(dir, temp.c_str(), 0);
    return io_error(err, shown, "rename");
  }
  if (sys().fsync(dir) != 0) return io_error(errno, shown, "fsync of the directory");
  return std::nullopt;
}

bool is_regular_file(int dir, const std::string& name) {
  struct stat st {};
  return ::fstatat(dir, name.c_str(), &st, 0) == 0 && S_ISREG(st.st_mode);
}

std::optional<Error> unlink_entry(int dir, const std::string& name, const std::string& shown) {
  if (sys().unlinkat(dir, name.c_str(), 0) != 0) return io_error(errno, shown, "unlink");
  if (sys().fsync(dir) != 0) return io_error(errno, shown, "fsync of the directory");
  return std::nullopt;
}

std::variant<bool, Error> remove_entry(int dir, const std::string& name, bool can_remove_tree,
                                       const std::string& shown) {
  struct stat st {};
  if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
    return errno == ENOENT ? std::variant<bool, Error>(false) : io_error(errno, shown, "lstat");
  bool link = S_ISLNK(st.st_mode);
  if (link && ::fstatat(dir, name.c_str(), &st, 0) != 0) return false;  // dangling: neither file nor directory
  if (S_ISREG(st.st_mode)) {  // os.remove: a link to a file goes, its target stays
    if (auto e = unlink_entry(dir, name, shown)) return *e;
    return true;
  }
  if (!S_ISDIR(st.st_mode)) return false;
  if (!can_remove_tree)
    return Error{ErrorKind::reference, shown, "AttributeError: 'FileClient' object has no attribute 'rmtree'"};
  if (link) return Error{ErrorKind::reference, shown, "OSError: Cannot call rmtree on a symbolic link"};
  if (auto e = remove_tree(dir, name, shown)) return *e;
  if (sys().fsync(dir) != 0) return io_error(errno, shown, "fsync of the directory");
  return true;
}

}  // namespace ckpt::store::fs::detail
