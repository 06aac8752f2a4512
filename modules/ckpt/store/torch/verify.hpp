// Checking a checkpoint file without loading it, and the reader's I/O
// choice that goes with it. No torch types: narrow.hpp (C++20 callers)
// and checkpoint.hpp (C++17) both include this.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace ckpt::torch_store {

/// Whether storages are read bypassing the page cache (O_DIRECT, falling
/// back to buffered reads where the file system refuses it). `automatic`:
/// only when most of the file's data is not cached already, since a cached
/// file reads faster through the cache than from the disk again.
enum class DirectIo { automatic, on, off };

struct VerifyOptions {
  int io_threads = 8;
  DirectIo direct_io = DirectIo::automatic;
};

struct Verified {
  std::string error;          // empty when the file is valid; else one line naming the file and the first problem
  std::uint64_t file_bytes = 0;
  std::size_t records = 0;    // zip entries checked
  std::size_t tensors = 0;    // tensors the pickle describes
};

/// Checks a checkpoint the way load would, without allocating its tensors:
/// the zip structure (end record, central directory, every local header
/// agrees with it, every record inside the file), data.pkl unpickles (with
/// storages described, not read), every storage the pickle names exists
/// and is large enough, and the CRC-32 of every record matches. Reads the
/// whole file once, in parallel; memory stays bounded (per-thread buffers),
/// whatever sizes the file claims. Never throws for a bad file.
Verified verify(const std::string& path, const VerifyOptions& options = {});

}  // namespace ckpt::torch_store
