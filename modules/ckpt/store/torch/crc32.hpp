// CRC-32 as zip uses it: libdeflate's (carry-less multiply, ~13 GB/s here)
// where the build found it, zlib's otherwise (a GPU machine may lack
// libdeflate; every machine with LibTorch has zlib).
#pragma once
#include <cstddef>
#include <cstdint>

#if CKPT_TORCH_STORE_LIBDEFLATE
#include <libdeflate.h>
#else
#include <zlib.h>
#endif

namespace ckpt::torch_store {

inline std::uint32_t crc32(std::uint32_t crc, const void* data, std::size_t n) {
#if CKPT_TORCH_STORE_LIBDEFLATE
  return static_cast<std::uint32_t>(libdeflate_crc32(crc, data, n));
#else
  return static_cast<std::uint32_t>(::crc32_z(crc, static_cast<const Bytef*>(data), n));
#endif
}

}  // namespace ckpt::torch_store
