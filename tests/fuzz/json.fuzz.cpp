// libFuzzer: ckpt.json. Any bytes: parse never crashes; what parses dumps
// to well-formed UTF-8 JSON that parses back to the same text (the
// conformance adapter's output must stay JSON whatever the case held).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz.support.hpp"
import ckpt;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (bool nonfinite : {true, false}) {
    auto value = ckpt::json::parse(text, nonfinite);
    if (!value) continue;
    const std::string out = ckpt::json::dump(*value);
    if (!fuzz::valid_utf8(out)) fuzz::broken("dump is not UTF-8");
    auto again = ckpt::json::parse(out);
    if (!again) fuzz::broken("dump does not parse back");
    if (ckpt::json::dump(*again) != out) fuzz::broken("dump(parse(dump(v))) != dump(v)");
  }
  return 0;
}
