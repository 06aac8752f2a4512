// libFuzzer: Python's str.format for templates (B61, E23, E35): the first
// 8 bytes are the step, the rest the template; also format(step, spec)
// and the best-file name. Never a crash; results are values or PyErrors.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "fuzz.support.hpp"
import ckpt;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  long long step = 0;
  if (size >= 8) {
    std::memcpy(&step, data, 8);
    data += 8;
    size -= 8;
  }
  const std::string tmpl(reinterpret_cast<const char*>(data), size);
  namespace py = ckpt::py;
  for (const py::Value& arg : {py::Value(step), py::Value(static_cast<long long>(step % 1000)),
                               py::Value(static_cast<double>(step) / 7.0), py::Value(tmpl)}) {
    auto name = ckpt::checkpoint_name(py::Value(tmpl), arg);
    if (name) (void)ckpt::best_name(tmpl, *name);
    else if (name.error().type.empty()) fuzz::broken("an error without a type");
    auto one = py::format_one(arg, tmpl);
    if (!one && one.error().type.empty()) fuzz::broken("an error without a type");
  }
  return 0;
}
