// SHA-256 for the published file's name (E42), over the project's shared
// implementation.
#include <string>
#include "adapter.hpp"
#include "ckpt/internal/sha256.hpp"

namespace adapter {

std::string sha256_hex(const std::string& data) {
  ckpt::internal::Sha256 hash;
  hash.update(data.data(), data.size());
  return ckpt::internal::Sha256::hex(hash.finish());
}

}  // namespace adapter
