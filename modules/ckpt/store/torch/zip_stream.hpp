// Writes a zip archive front to back into a Sink: each entry's size is
// declared up front (tensor sizes are known), its CRC-32 is computed while
// the bytes pass and lands in the data descriptor, and the central directory
// closes the archive. No torch.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sink.hpp"
#include "zip.hpp"

namespace ckpt::torch_store {

class ZipStream {
 public:
  explicit ZipStream(Sink& sink) : sink_(sink) {}
  /// Starts an entry of exactly `size` bytes.
  void begin(std::string name, std::uint64_t size);
  void write(const void* data, std::size_t n);
  /// Ends the current entry; throws if fewer bytes came than declared.
  void end();
  /// A whole small entry.
  void add(std::string name, std::string_view bytes);
  /// Writes the central directory and flushes the sink.
  void finish();

 private:
  void emit(const void* data, std::size_t n);
  Sink& sink_;
  std::uint64_t offset_ = 0;
  std::vector<zip::Entry> entries_;
  bool open_ = false;
  std::uint64_t written_ = 0;
  std::uint32_t crc_ = 0;
};

}  // namespace ckpt::torch_store
