#include "ckpt/internal/durable.hpp"

#include "ckpt/internal/file_layer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

namespace ckpt::internal {

namespace {
std::atomic<unsigned long> temp_counter{0};
}  // namespace

std::string IoFailure::message() const {
  return call + ": [Errno " + std::to_string(err) + "] " + std::strerror(err);
}

void Fd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

std::string temp_name() {
  return std::string(temp_prefix) + std::to_string(::getpid()) + "." + std::to_string(temp_counter++);
}

std::variant<TempFile, IoFailure> TempFile::create(int dir) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::string name = temp_name();
    int fd = sys().openat(dir, name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd >= 0) return TempFile(dir, std::move(name), Fd(fd));
    if (errno != EEXIST) return IoFailure{errno, "creating a temporary file"};
  }
  return IoFailure{EEXIST, "creating a temporary file"};
}

TempFile::TempFile(TempFile&& other) noexcept
    : dir_(other.dir_), name_(std::move(other.name_)), fd_(std::move(other.fd_)),
      committed_(std::exchange(other.committed_, true)) {}

TempFile::~TempFile() {
  if (committed_) return;
  fd_.reset();
  sys().unlinkat(dir_, name_.c_str(), 0);
}

std::optional<IoFailure> TempFile::commit(const std::string& name) {
  if (sys().fsync(fd_.get()) != 0) return IoFailure{errno, "fsync"};
  // even a failing close(2) releases the descriptor
  if (sys().close(fd_.release()) != 0) return IoFailure{errno, "close"};
  if (sys().renameat(dir_, name_.c_str(), dir_, name.c_str()) != 0) return IoFailure{errno, "rename"};
  committed_ = true;
  if (sys().fsync(dir_) != 0) return IoFailure{errno, "fsync of the directory"};
  return std::nullopt;
}

std::optional<IoFailure> write_all(int fd, const void* data, std::size_t size) {
  const auto* p = static_cast<const char*>(data);
  std::size_t done = 0;
  while (done < size) {
    auto n = sys().write(fd, p + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IoFailure{errno, "write"};
    if (n == 0) return IoFailure{EIO, "write"};
    done += static_cast<std::size_t>(n);
  }
  return std::nullopt;
}

std::variant<Fd, IoFailure> open_directory(const std::string& path) {
  Fd dir(sys().open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0));
  if (!dir) return IoFailure{errno, "opening the directory"};
  return dir;
}

}  // namespace ckpt::internal
