// Storages bound for a CUDA device: read by the parallel reader a batch at a
// time into one bounded staging buffer (pinned, so the copies over run at
// full speed), each batch then copied to where it belongs. The host never
// holds more than the buffer, whatever the checkpoint's size. Internal to
// load.cpp; the copies are at::Tensor::copy_, so any device works (the
// tests use CPU destinations).
#pragma once
#include <ATen/core/Tensor.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "archive.hpp"

namespace ckpt::torch_store::detail {

struct StagedStorage {
  const zip::Entry* entry = nullptr;
  std::uint64_t offset = 0;  // of its data, from its local header
  at::Tensor bytes;          // where it goes: a contiguous byte tensor of the entry's size
};

/// Reads every storage through `staging` (`capacity` bytes, page-aligned),
/// in file order; checks each one's CRC-32 as its last bytes arrive, when
/// `settings.crc`.
void read_staged(const Archive& archive, const std::vector<StagedStorage>& storages, char* staging,
                 std::size_t capacity, const ReadSettings& settings);

/// The staging buffer for read_staged: 64 MiB, page-locked when `pinned`.
at::Tensor staging_buffer(bool pinned);

}  // namespace ckpt::torch_store::detail
