// Where saved bytes go: a sequential byte sink. Writers never seek, so a
// checkpoint can stream to a pipe or socket, and a hashing sink can see
// every byte on its way to the file (E42 names the file after that hash).
// Shared by both stores: the fs store hands a plan's payload writer an
// FdSink over its temporary file, the tensor store streams archives into it.
#pragma once
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "ckpt/internal/sha256.hpp"

namespace ckpt::internal {

/// A failed write, with the errno that caused it (0 when there was none).
struct SinkError : std::runtime_error {
  SinkError(const std::string& what, int err) : std::runtime_error(what), err(err) {}
  int err;
};

class Sink {
 public:
  virtual ~Sink() = default;
  /// Appends `n` bytes; throws `SinkError` (or another std::exception) on failure.
  virtual void write(const void* data, std::size_t n) = 0;
  /// Pushes buffered bytes on (not to disk: that is fsync's job).
  virtual void flush() {}
};

/// A file descriptor, written with write(2); small writes are buffered so
/// that many small tensors do not cost three system calls each, large ones
/// go straight from the caller's memory.
class FdSink final : public Sink {
 public:
  explicit FdSink(int fd);
  void write(const void* data, std::size_t n) override;
  void flush() override;

 private:
  void write_through(const char* p, std::size_t n);
  int fd_;
  std::vector<char> buffer_;
};

/// Forwards everything to `next` and keeps a SHA-256 of it.
class HashingSink final : public Sink {
 public:
  explicit HashingSink(Sink& next) : next_(next) {}
  void write(const void* data, std::size_t n) override {
    sha_.update(data, n);
    next_.write(data, n);
  }
  void flush() override { next_.flush(); }
  /// Lower-case hex digest of the bytes written so far (call once).
  std::string hex_digest() { return Sha256::hex(sha_.finish()); }

 private:
  Sink& next_;
  Sha256 sha_;
};

}  // namespace ckpt::internal
