// libFuzzer: the zip directory reader (torch's zip dialect, zip64
// included) over any bytes held in memory. Never a crash; a refusal is a
// std::runtime_error naming the problem; nothing is read past the input.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "fuzz.support.hpp"
#include "zip.hpp"

namespace zip = ckpt::torch_store::zip;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  const zip::ReadAt read_at = [&](std::uint64_t offset, std::size_t n) -> std::string {
    if (offset >= bytes.size()) return {};
    return bytes.substr(static_cast<std::size_t>(offset), std::min<std::uint64_t>(n, bytes.size() - offset));
  };
  try {
    for (const zip::Entry& e : zip::read_directory(bytes.size(), read_at)) {
      (void)zip::expected_data_offset(e, true);
      try {
        (void)zip::data_offset(e, read_at);
      } catch (const std::runtime_error&) {
      }
    }
  } catch (const std::runtime_error&) {
  }
  return 0;
}
