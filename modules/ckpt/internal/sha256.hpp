// SHA-256 (FIPS 180-4), incremental, for naming published checkpoints
// (E42). Uses the x86 SHA extensions when the CPU has them: hashing a 1 GiB
// checkpoint as it is written should cost little next to writing it.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace ckpt::internal {

class Sha256 {
 public:
  using Digest = std::array<std::uint8_t, 32>;
  /// `portable` forces the plain C++ rounds (tests compare both paths).
  explicit Sha256(bool portable = false);
  void update(const void* data, std::size_t n);
  /// The digest; the object is spent afterwards.
  Digest finish();
  static std::string hex(const Digest& d);

 private:
  void compress(const std::uint8_t* blocks, std::size_t count);
  std::array<std::uint32_t, 8> state_;
  std::array<std::uint8_t, 64> pending_{};
  std::size_t pending_size_ = 0;
  std::uint64_t total_ = 0;
  bool accelerated_;
};

}  // namespace ckpt::internal
