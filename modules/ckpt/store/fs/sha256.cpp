// Streaming SHA-256 of a file descriptor, for the published file's name
// (E42): a published checkpoint can be gigabytes, so it is hashed in blocks
// as read back from the temporary file, never held whole.
module;
#include <array>
#include <cerrno>
#include <cstdint>
#include <string>
#include <variant>
#include <sys/types.h>
#include <unistd.h>
#include "ckpt/internal/sha256.hpp"
module ckpt.store.fs;

namespace ckpt::store::fs::detail {

std::variant<std::string, int> sha256_hex(int fd) {
  internal::Sha256 hash;
  std::array<unsigned char, 1 << 16> buf;
  off_t offset = 0;
  for (;;) {
    auto n = ::pread(fd, buf.data(), buf.size(), offset);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) break;
    hash.update(buf.data(), static_cast<std::size_t>(n));
    offset += n;
  }
  return internal::Sha256::hex(hash.finish());
}

}  // namespace ckpt::store::fs::detail
