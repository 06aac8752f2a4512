// The zip container as PyTorch's writer (miniz, torch 1.13) lays it out:
// every entry STORED, its data 64-byte aligned by an 'FB' padding extra field,
// CRC and sizes in a data descriptor after the data (so writing never seeks),
// and zip64 end records always present. Pure byte encoding and decoding; no
// I/O and no torch, so the header code is unit-tested on its own (zip64
// included, without writing 4 GiB).
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace ckpt::torch_store::zip {

/// Where each entry's data starts: a multiple of this (torch's kFieldAlignment).
inline constexpr std::uint64_t alignment = 64;
/// Sizes and offsets at or above this need zip64 fields (miniz's rule).
inline constexpr std::uint64_t zip64_threshold = 0xFFFFFFFFu;

/// One entry as the central directory records it.
struct Entry {
  std::string name;
  std::uint64_t size = 0;           // stored: compressed == uncompressed
  std::uint32_t crc32 = 0;
  std::uint64_t header_offset = 0;  // of the local header
  std::uint16_t method = 0;         // 0 = STORED; anything else is refused on read
  friend bool operator==(const Entry& a, const Entry& b) {
    return a.name == b.name && a.size == b.size && a.crc32 == b.crc32 &&
           a.header_offset == b.header_offset && a.method == b.method;
  }
};

/// The local header for an entry written at `offset`, padded so the data
/// that follows starts at a multiple of `alignment`.
std::string local_header(std::string_view name, std::uint64_t size, std::uint64_t offset);

/// The data descriptor after an entry's data (8-byte sizes when zip64).
std::string data_descriptor(std::uint32_t crc32, std::uint64_t size);

/// Central directory, zip64 end record and locator, end record; `offset` is
/// where the central directory starts.
std::string central_directory(const std::vector<Entry>& entries, std::uint64_t offset);

/// The central directory of an archive of `file_size` bytes, read through
/// `read_at(offset, length)`. Throws `std::runtime_error` naming the problem.
using ReadAt = std::function<std::string(std::uint64_t offset, std::size_t length)>;
std::vector<Entry> read_directory(std::uint64_t file_size, const ReadAt& read_at);

/// Where an entry's data starts: after its local header, whose signature,
/// name, method (and CRC and sizes, where it carries them) are checked
/// against the central directory's.
std::uint64_t data_offset(const Entry& entry, const ReadAt& read_at);

/// Where `data_offset` will find the data if the writer padded as torch's
/// and ours do, so the loader can place storages before reading headers.
/// `zip64_offset`: local headers past 4 GiB carry a zip64 offset field
/// (torch's do, ours do not). A guess: the reader checks it.
std::uint64_t expected_data_offset(const Entry& entry, bool zip64_offset);

}  // namespace ckpt::torch_store::zip
