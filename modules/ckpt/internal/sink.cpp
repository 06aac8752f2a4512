#include "ckpt/internal/sink.hpp"

#include "ckpt/internal/file_layer.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace ckpt::internal {
namespace {
constexpr std::size_t buffer_capacity = std::size_t{1} << 20;
// write(2) moves at most this much per call on Linux.
constexpr std::size_t max_write = 0x7ffff000;
}  // namespace

FdSink::FdSink(int fd) : fd_(fd) { buffer_.reserve(buffer_capacity); }

void FdSink::write(const void* data, std::size_t n) {
  const auto* p = static_cast<const char*>(data);
  if (buffer_.size() + n <= buffer_capacity) {
    buffer_.insert(buffer_.end(), p, p + n);
    return;
  }
  flush();
  if (n < buffer_capacity / 4)
    buffer_.insert(buffer_.end(), p, p + n);
  else
    write_through(p, n);
}

void FdSink::flush() {
  if (buffer_.empty()) return;
  write_through(buffer_.data(), buffer_.size());
  buffer_.clear();
}

void FdSink::write_through(const char* p, std::size_t n) {
  while (n > 0) {
    const ssize_t w = sys().write(fd_, p, n < max_write ? n : max_write);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) throw SinkError(std::string("write: [Errno ") + std::to_string(errno) + "] " + std::strerror(errno), errno);
    if (w == 0) throw SinkError("write: no progress", EIO);
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

}  // namespace ckpt::internal
