// The staged reader (see staged_read.hpp).
#include "staged_read.hpp"

#include <ATen/ATen.h>
#include <zlib.h>

#include <algorithm>

#include "read_plan.hpp"

namespace ckpt::torch_store::detail {
namespace {

constexpr std::int64_t staging_bytes = std::int64_t{64} << 20;

// Part of a storage in the buffer.
struct Slice {
  std::size_t storage = 0;
  std::uint64_t at = 0;  // within the storage
  std::size_t n = 0;
  char* from = nullptr;
};

}  // namespace

at::Tensor staging_buffer(bool pinned) {
  // from_blob's memory is the allocator's: page-aligned for pinned memory
  // (cudaHostAlloc); over-allocate and align for the CPU's 64-byte one.
  const at::Tensor t = at::empty({staging_bytes + static_cast<std::int64_t>(page)},
                                 at::TensorOptions().dtype(at::kByte).pinned_memory(pinned));
  const auto skip = static_cast<std::int64_t>((page - reinterpret_cast<std::uintptr_t>(t.data_ptr()) % page) % page);
  return t.narrow(0, skip, staging_bytes);
}

void read_staged(const Archive& archive, const std::vector<StagedStorage>& storages, char* staging,
                 std::size_t capacity, const ReadSettings& settings) {
  std::vector<std::uint32_t> crcs(storages.size(), 0);
  std::vector<ReadJob> jobs;
  std::vector<Slice> slices;
  std::size_t used = 0;
  const auto flush = [&] {
    if (jobs.empty()) return;
    const std::vector<ReadResult> results = archive.read(jobs, settings);
    for (std::size_t k = 0; k < slices.size(); ++k) {
      const Slice& s = slices[k];
      const StagedStorage& target = storages[s.storage];
      const at::Tensor from = at::from_blob(s.from, {static_cast<std::int64_t>(s.n)}, at::TensorOptions().dtype(at::kByte));
      // Synchronous: the buffer is filled again by the next batch.
      target.bytes.narrow(0, static_cast<std::int64_t>(s.at), static_cast<std::int64_t>(s.n)).copy_(from);
      std::uint32_t& crc = crcs[s.storage];
      crc = static_cast<std::uint32_t>(::crc32_combine(crc, results[k].crc, static_cast<z_off_t>(s.n)));
      if (settings.crc && s.at + s.n == target.entry->size) Archive::check_crc(*target.entry, crc);
    }
    jobs.clear(), slices.clear(), used = 0;
  };
  for (std::size_t i = 0; i < storages.size(); ++i) {
    const StagedStorage& s = storages[i];
    if (s.entry->size == 0 && settings.crc) Archive::check_crc(*s.entry, 0);
    for (std::uint64_t at = 0; at < s.entry->size;) {
      const std::uint64_t left = s.entry->size - at;
      // Placed congruent to the file modulo the page, so that O_DIRECT
      // reads straight into the buffer.
      const std::size_t place = used + static_cast<std::size_t>((s.offset + at - used) % page);
      const std::size_t room = place < capacity ? capacity - place : 0;
      // A sliver at the end of a full buffer is not worth a request.
      if (room < std::min<std::uint64_t>(left, capacity / 4) && !jobs.empty()) {
        flush();
        continue;
      }
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(left, room));
      jobs.push_back({s.offset + at, staging + place, n, nullptr});
      slices.push_back({i, at, n, staging + place});
      used = place + n;
      at += n;
    }
  }
  flush();
}

}  // namespace ckpt::torch_store::detail
