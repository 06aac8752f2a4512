// Storage reads after unpickling. A cold file reads at the disk's speed only
// with a deep queue of large requests that bypass the page cache, so the
// loader allocates every storage while unpickling (misaligned like its file
// offset, which it predicts from the central directory) and reads them all
// afterwards here: large storages in ~4 MiB pieces, their block-aligned
// middles with O_DIRECT (into place, or through a per-thread buffer where
// the destination, a caller's tensor, does not line up with the file);
// runs of small ones, local headers included, as one request; each CRC-32
// taken while its bytes are hot. Internal to the reader (load.cpp, verify).
#pragma once
#include <c10/core/Storage.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "checkpoint.hpp"
#include "zip.hpp"

namespace ckpt::torch_store::detail {

/// CPU memory for the `n` bytes at file offset `offset`: for a storage large
/// enough to be read with O_DIRECT, its data pointer is congruent to the
/// offset modulo 4096 (the page-aligned middle then lands on page
/// boundaries). One allocation per storage, not an arena: tensors that
/// outlive the rest of a checkpoint must not pin the rest.
c10::DataPtr memory_for_read(std::uint64_t offset, std::size_t n);

/// `n` bytes at file offset `offset` into `dest`; with no `dest`, the bytes
/// are only read for their CRC (through a per-thread buffer: verify).
struct ReadJob {
  std::uint64_t offset = 0;
  char* dest = nullptr;
  std::size_t n = 0;
  /// When set, `offset` is a guess: the entry's local header is read along
  /// and must put the data there.
  const zip::Entry* entry = nullptr;
};

struct ReadResult {
  std::uint32_t crc = 0;  // of the bytes read; 0 without ReadSettings::crc
  /// Where the local header puts the data, when not at the job's `offset`;
  /// the job's bytes were not read then.
  std::optional<std::uint64_t> moved_to;
};

struct ReadSettings {
  int threads = 8;
  LoadOptions::DirectIo direct_io = LoadOptions::DirectIo::automatic;
  bool crc = true;
};

/// Runs every job against `fd` (a regular file opened for buffered reads).
/// O_DIRECT falls back to buffered reads, silently, where the file system
/// refuses it. Throws Error (without the path) for the first read or local
/// header that fails; the other threads stop.
std::vector<ReadResult> read_jobs(int fd, const std::vector<ReadJob>& jobs, const ReadSettings& settings);

}  // namespace ckpt::torch_store::detail
