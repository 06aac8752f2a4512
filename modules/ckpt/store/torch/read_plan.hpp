// How parallel_read splits its jobs into tasks for its threads (pure: no
// I/O). Tasks follow the file's order, so that the threads together walk
// the disk front to back. A large job becomes pieces that end on O_DIRECT
// block boundaries counted from its first block (so only its first and last
// piece have ragged edges); consecutive small jobs, with the local headers
// and descriptors between them, become one run read as a single span.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "parallel_read.hpp"

namespace ckpt::torch_store::detail {

inline constexpr std::uint64_t page = 4096;            // memory pages; O_DIRECT's alignment when the file system does not say
inline constexpr std::uint64_t piece_size = 4 << 20;   // the disk's best request size here
inline constexpr std::size_t small_storage = 256 << 10;  // below: read within runs, never straight into place

inline std::uint64_t align_down(std::uint64_t x, std::uint64_t to = page) { return x / to * to; }
inline std::uint64_t align_up(std::uint64_t x, std::uint64_t to = page) { return (x + to - 1) / to * to; }

/// What O_DIRECT asks of a request on this file: file offsets and lengths
/// multiples of `block`, memory addresses multiples of `memory` (which
/// divides `block`). ext4 on this machine's virtio disk: 512 and 512; NVMe
/// allows memory at 4 bytes.
struct DirectAlign {
  std::uint64_t block = page, memory = page;
};

struct Task {
  std::uint64_t begin = 0, end = 0;  // the file span it covers
  std::size_t first = 0, last = 0;   // its jobs: Plan::order[first, last)
  bool run = false;     // small jobs read together; otherwise one piece of one job
  bool direct = false;  // run: the span may go O_DIRECT via a bounce buffer; piece: its block-aligned middle
  bool header = false;  // piece: its job's first, which checks the local header
  /// piece: its destination is not congruent to the file modulo the memory
  /// alignment (or there is none): the aligned span goes through the
  /// thread's buffer, then one copy into place.
  bool bounce = false;
};

struct Plan {
  std::vector<std::size_t> order;  // job indices, by where each starts in the file
  std::vector<Task> tasks;
  DirectAlign align;
};

Plan plan_reads(const std::vector<ReadJob>& jobs, std::uint64_t file_size, DirectAlign align = {});

}  // namespace ckpt::torch_store::detail
