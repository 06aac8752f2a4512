// libFuzzer: the unpickler (what torch.save writes in data.pkl) over any
// bytes. Storages come from a loader that, as the reader does with the
// file's records, refuses one larger than the input could hold. Never a
// crash or a leak (shared nodes, cycles, deep nesting); a refusal is an
// Error naming the offset.
#include <ATen/ATen.h>
#include <c10/core/CPUAllocator.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <sstream>
#include <string>
#include <string_view>

#include "fuzz.support.hpp"
#include "unpickler.hpp"

namespace ts = ckpt::torch_store;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view pickle(reinterpret_cast<const char*>(data), size);
  const ts::StorageLoader load = [&](const std::string& key, std::size_t nbytes, const std::string&) -> c10::Storage {
    if (nbytes > 64 * size + 4096) throw ts::Error("storage '" + key + "' is larger than the file");
    return c10::Storage(c10::Storage::use_byte_size_t(), nbytes, c10::GetDefaultCPUAllocator(), false);
  };
  try {
    ts::Value v = ts::unpickle(pickle, load);
    std::ostringstream s;
    s << v;
    (void)ts::to_json(v);
  } catch (const std::exception&) {
  }
  return 0;
}
