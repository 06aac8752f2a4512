// The one durable write, shared by the fs store (plans), the tensor store
// (publishing, the background saver) and everything above them: bytes go
// to a fresh temporary file in the target directory, which is fsync'ed,
// renamed over the final name (atomic within a directory) and the
// directory fsync'ed, so a reader or a restarted run sees the old file or
// the whole new one, never a part. Every system call is checked; a failure
// names the call and its errno, and the temporary file is removed.
// Plain C++17 (the tensor store cannot be compiled as C++20).
#pragma once
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace ckpt::internal {

/// A failed system call: which one, and its errno.
struct IoFailure {
  int err = 0;
  std::string call;  // "fsync", "rename", "fsync of the directory", ...
  /// "<call>: [Errno N] <strerror>"
  std::string message() const;
};

/// An owned file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    reset(std::exchange(other.fd_, -1));
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  void reset(int fd = -1);
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_ = -1;
};

/// The prefix of every temporary name this project writes: dot-prefixed and
/// short, so it never collides with a checkpoint name, never overflows
/// NAME_MAX whatever the final name's length, and a resumed run can tell
/// its own leftovers from anything else.
inline constexpr const char* temp_prefix = ".ckpt-tmp.";

/// A fresh name for a temporary entry (prefix, pid, counter).
std::string temp_name();

/// A new temporary file in a directory (O_CREAT|O_EXCL, not following a
/// symlink, 0644), removed on destruction unless committed.
class TempFile {
 public:
  /// `dir` must outlive the TempFile.
  static std::variant<TempFile, IoFailure> create(int dir);
  TempFile(TempFile&& other) noexcept;
  TempFile& operator=(TempFile&&) = delete;
  ~TempFile();
  int fd() const { return fd_.get(); }
  /// fsync, close, rename over `name` (in the same directory), fsync the
  /// directory. After a failure the temporary file is gone (a failing
  /// directory fsync leaves the renamed file: its name may not survive a
  /// crash, which the caller reports).
  std::optional<IoFailure> commit(const std::string& name);

 private:
  TempFile(int dir, std::string name, Fd fd) : dir_(dir), name_(std::move(name)), fd_(std::move(fd)) {}
  int dir_;
  std::string name_;
  Fd fd_;
  bool committed_ = false;
};

/// Writes all of `data` to `fd` (EINTR retried); the failure otherwise.
std::optional<IoFailure> write_all(int fd, const void* data, std::size_t size);

/// Opens a directory for TempFile (following symlinks: the caller decides
/// what may be trusted; the fs store opens its own way).
std::variant<Fd, IoFailure> open_directory(const std::string& path);

}  // namespace ckpt::internal
