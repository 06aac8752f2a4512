#include "verify.hpp"

#include <exception>

#include "ckpt/store/torch/checkpoint.hpp"

namespace ckpt::inspect {

namespace ts = torch_store;

Verified verify(const std::string& path) {
  try {
    ts::LoadOptions options;
    options.verify_crc = true;
    options.io_threads = 1;
    ts::load(path, options);  // every record the pickle names, CRC-checked; data.pkl and version too
    return {};
  } catch (const std::exception& e) {
    std::string line = e.what();
    for (char& c : line)
      if (c == '\n') c = ' ';
    return {line};
  }
}

}  // namespace ckpt::inspect
