// A file layer (ckpt/internal/file_layer.hpp) that fails the k-th call of
// one kind with an errno, writes short, or is interrupted, and otherwise
// calls libc: the real store logic runs over it. It also counts calls, so
// a test can first run a cycle without a fault to learn how many calls of
// each kind it makes, then fail each of them in turn. Header-only, C++17.
#pragma once
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "ckpt/internal/file_layer.hpp"

namespace faults {

enum class Call { open, write, fsync, dir_fsync, close, rename, unlink, mkdir, symlink, statvfs };
inline constexpr std::array<Call, 10> all_calls{Call::open,  Call::write,  Call::fsync, Call::dir_fsync, Call::close,
                                                Call::rename, Call::unlink, Call::mkdir, Call::symlink,   Call::statvfs};

inline const char* name(Call c) {
  switch (c) {
    case Call::open: return "open";
    case Call::write: return "write";
    case Call::fsync: return "fsync";
    case Call::dir_fsync: return "directory fsync";
    case Call::close: return "close";
    case Call::rename: return "rename";
    case Call::unlink: return "unlink";
    case Call::mkdir: return "mkdir";
    case Call::symlink: return "symlink";
    case Call::statvfs: return "statvfs";
  }
  return "?";
}

/// What the armed call does instead: fail with `err`; for writes also
/// `short_write` (half the bytes, then normal calls) and EINTR (retried).
struct Fault {
  Call call = Call::write;
  int k = 1;  // the k-th call of that kind, counting from 1 after arm()
  int err = EIO;
  bool short_write = false;
  bool crash = false;  // SIGKILL at the call instead: the process dies there, as in a power cut
  /// Only calls naming a path that contains this count (rename's target,
  /// unlink's, open's, mkdir's); empty: every call of the kind.
  std::string path_part = {};
  std::string text() const {
    std::string what = crash ? "crash" : short_write ? "short" : err == EINTR ? "EINTR" : err == ENOSPC ? "ENOSPC" : err == EIO ? "EIO"
                                     : err == EDQUOT ? "EDQUOT" : err == EACCES ? "EACCES" : std::to_string(err);
    return std::string(name(call)) + (path_part.empty() ? "" : " of *" + path_part + "*") + " #" + std::to_string(k) +
           " " + what;
  }
};

/// The one injector (the file layer is a table of plain functions).
struct State {
  std::array<int, all_calls.size()> counts{};
  std::optional<Fault> armed;
  bool fired = false;
  int named = 0;  // calls of the armed kind naming the armed path part
};
inline State& state() {
  static State s;
  return s;
}

namespace detail {

inline const ckpt::internal::FileLayer& libc() { return ckpt::internal::libc_file_layer(); }

// Counts the call; true when it is the armed one (and marks it fired).
inline bool hit(Call c, const char* path = nullptr) {
  State& s = state();
  int n = ++s.counts[static_cast<std::size_t>(c)];
  if (!s.armed || s.fired || s.armed->call != c) return false;
  if (!s.armed->path_part.empty()) {
    if (!path || std::string(path).find(s.armed->path_part) == std::string::npos) return false;
    n = ++s.named;
  }
  if (s.armed->k != n) return false;
  s.fired = true;
  if (s.armed->crash) ::kill(::getpid(), SIGKILL);
  return true;
}

inline int fail(int err) {
  errno = err;
  return -1;
}

inline int open(const char* p, int f, mode_t m) { return hit(Call::open, p) ? fail(state().armed->err) : libc().open(p, f, m); }
inline int openat(int d, const char* p, int f, mode_t m) {
  return hit(Call::open, p) ? fail(state().armed->err) : libc().openat(d, p, f, m);
}
inline ssize_t write(int fd, const void* data, size_t n) {
  if (!hit(Call::write)) return libc().write(fd, data, n);
  const Fault& f = *state().armed;
  if (f.short_write) return libc().write(fd, data, n > 1 ? n / 2 : n);
  return fail(f.err);
}
inline int fsync(int fd) {
  struct stat st {};
  const bool dir = ::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
  return hit(dir ? Call::dir_fsync : Call::fsync) ? fail(state().armed->err) : libc().fsync(fd);
}
inline int close(int fd) {
  if (!hit(Call::close)) return libc().close(fd);
  libc().close(fd);  // close(2) releases the descriptor even when it fails
  return fail(state().armed->err);
}
inline int renameat(int a, const char* p, int b, const char* q) {
  return hit(Call::rename, q) ? fail(state().armed->err) : libc().renameat(a, p, b, q);
}
inline int unlinkat(int d, const char* p, int f) { return hit(Call::unlink, p) ? fail(state().armed->err) : libc().unlinkat(d, p, f); }
inline int mkdir(const char* p, mode_t m) { return hit(Call::mkdir, p) ? fail(state().armed->err) : libc().mkdir(p, m); }
inline int mkdirat(int d, const char* p, mode_t m) { return hit(Call::mkdir, p) ? fail(state().armed->err) : libc().mkdirat(d, p, m); }
inline int symlinkat(const char* t, int d, const char* p) {
  return hit(Call::symlink) ? fail(state().armed->err) : libc().symlinkat(t, d, p);
}
inline int statvfs(const char* p, struct statvfs* out) {
  return hit(Call::statvfs) ? fail(state().armed->err) : libc().statvfs(p, out);
}

inline const ckpt::internal::FileLayer layer{open,     openat, write,   fsync,     close,  renameat,
                                             unlinkat, mkdir,  mkdirat, symlinkat, statvfs};

}  // namespace detail

/// Installs the counting layer for its lifetime; `arm` sets the fault.
struct Injector {
  Injector() {
    state() = State{};
    ckpt::internal::set_file_layer(&detail::layer);
  }
  ~Injector() { ckpt::internal::set_file_layer(nullptr); }
  Injector(const Injector&) = delete;
  Injector& operator=(const Injector&) = delete;
  /// Starts counting afresh, with `fault` armed (none: just count).
  void arm(std::optional<Fault> fault) {
    state().counts = {};
    state().armed = fault;
    state().fired = false;
    state().named = 0;
  }
  void disarm() { state().armed.reset(); }
  bool fired() const { return state().fired; }
  int count(Call c) const { return state().counts[static_cast<std::size_t>(c)]; }
};

/// The faults the matrix tries for `call`, given how often a clean cycle makes it.
inline std::vector<Fault> faults_for(Call call, int calls) {
  std::vector<Fault> out;
  for (int k = 1; k <= calls; ++k) {
    for (int err : {ENOSPC, EIO, EDQUOT, EACCES}) out.push_back({call, k, err, false});
    if (call == Call::write) {
      out.push_back({call, k, EIO, true});
      out.push_back({call, k, EINTR, false});
    }
  }
  return out;
}

}  // namespace faults
