// The system calls behind the store. Everything below a root is reached
// through directory descriptors opened O_NOFOLLOW, so a symlink swapped in
// after a path was checked makes the call fail rather than lead elsewhere.
// Every call is checked; errno becomes an Error naming the plan's path.
module;
#include "ckpt/internal/durable.hpp"
#include "ckpt/internal/sink.hpp"
#include <cerrno>
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
#include <unistd.h>
module ckpt.store.fs;

namespace ckpt::store::fs::detail {

namespace {

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
    if (::mkdir(it->c_str(), 0755) != 0 && errno != EEXIST) return errno;
    Fd parent(::open(it->parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!parent || ::fsync(parent.get()) != 0) return errno;
  }
  return 0;
}

// Removes directory `name` in `parent` and everything in it. Entries are
// examined without following links and directories opened O_NOFOLLOW: a
// symlink anywhere in the tree is unlinked, never followed.
std::optional<Error> remove_tree(int parent, const std::string& name, const std::string& shown) {
  Fd dir(::openat(parent, name.c_str(), dir_flags));
  if (!dir) return errno == ENOENT ? std::nullopt : std::optional(io_error(errno, shown, "open"));
  std::vector<std::string> entries;
  {
    int copy = ::dup(dir.get());
    DIR* listing = copy < 0 ? nullptr : ::fdopendir(copy);
    if (!listing) {
      int err = errno;
      if (copy >= 0) ::close(copy);
      return io_error(err, shown, "opendir");
    }
    errno = 0;
    while (const dirent* entry = ::readdir(listing)) {
      std::string n = entry->d_name;
      if (n != "." && n != "..") entries.push_back(std::move(n));
    }
    int err = errno;
    ::closedir(listing);
    if (err) return io_error(err, shown, "readdir");
  }
  for (const auto& entry : entries) {
    std::string inner = shown + "/" + entry;
    struct stat st {};
    if (::fstatat(dir.get(), entry.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;
      return io_error(errno, inner, "lstat");
    }
    if (S_ISDIR(st.st_mode)) {
      if (auto e = remove_tree(dir.get(), entry, inner)) return e;
    } else if (::unlinkat(dir.get(), entry.c_str(), 0) != 0 && errno != ENOENT) {
      return io_error(errno, inner, "unlink");
    }
  }
  if (::unlinkat(parent, name.c_str(), AT_REMOVEDIR) != 0) return io_error(errno, shown, "rmdir");
  return std::nullopt;
}

}  // namespace

Error io_error(int err, const std::string& path, const std::string& what) {
  return io_error(internal::IoFailure{err, what}, path);
}

Error io_error(const internal::IoFailure& failure, const std::string& path) {
  return {ErrorKind::io, path, failure.message(), failure.err};
}

std::variant<Fd, int> open_directory(const Location& at, bool create) {
  Fd dir(::open(at.root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir && errno == ENOENT && create) {
    if (int err = make_root(at.root)) return err;
    dir = Fd(::open(at.root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  }
  if (!dir) return errno;
  for (const auto& name : at.dirs) {
    Fd next(::openat(dir.get(), name.c_str(), dir_flags));
    if (!next && errno == ENOENT && create) {
      if (::mkdirat(dir.get(), name.c_str(), 0755) != 0 && errno != EEXIST) return errno;
      if (::fsync(dir.get()) != 0) return errno;  // the new directory's entry is durable
      next = Fd(::openat(dir.get(), name.c_str(), dir_flags));
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
    if (::symlinkat(target.c_str(), dir, temp.c_str()) == 0) break;
    if (errno != EEXIST || attempt == 100) return io_error(errno, shown, "symlink");
  }
  if (::renameat(dir, temp.c_str(), dir, name.c_str()) != 0) {
    int err = errno;
    ::unlinkat(dir, temp.c_str(), 0);
    return io_error(err, shown, "rename");
  }
  if (::fsync(dir) != 0) return io_error(errno, shown, "fsync of the directory");
  return std::nullopt;
}

bool is_regular_file(int dir, const std::string& name) {
  struct stat st {};
  return ::fstatat(dir, name.c_str(), &st, 0) == 0 && S_ISREG(st.st_mode);
}

std::optional<Error> unlink_entry(int dir, const std::string& name, const std::string& shown) {
  if (::unlinkat(dir, name.c_str(), 0) != 0) return io_error(errno, shown, "unlink");
  if (::fsync(dir) != 0) return io_error(errno, shown, "fsync of the directory");
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
  if (::fsync(dir) != 0) return io_error(errno, shown, "fsync of the directory");
  return true;
}

}  // namespace ckpt::store::fs::detail
