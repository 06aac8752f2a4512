// libFuzzer: one conformance case through the C++ adapter's run path (the
// case parser, the reducers, ckpt.store.fs over a real sandbox directory).
// Never a crash; the observation is well-formed UTF-8 JSON (it is printed
// to a harness that parses it); and nothing outside the sandbox is
// written or removed: canaries beside it are checked after every case.
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "adapter.hpp"
#include "fuzz.support.hpp"
#include "scratch.support.hpp"

namespace {

namespace fs = std::filesystem;

struct Place {
  fs::path base, sandbox;
  scratch::Canaries canaries;
  Place() : base(make_base()), sandbox(base / "sandbox"), canaries(base / "outside") {}
  ~Place() {  // libFuzzer ends with exit(): leave no scratch directory behind
    std::error_code ec;
    fs::remove_all(base, ec);
  }
  static fs::path make_base() {
    fs::path b = fs::path(std::getenv("CKPT_FUZZ_DIR") ? std::getenv("CKPT_FUZZ_DIR") : "/dev/shm") /
                 ("ckpt-fuzz-case-" + std::to_string(::getpid()));
    fs::remove_all(b);
    fs::create_directories(b);
    return b;
  }
};

Place& place() {
  static Place p;
  return p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Place& p = place();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto json = ckpt::json::parse(text, /*allow_nonfinite=*/false);
  if (!json) return 0;
  adapter::Case c;
  try {
    c = adapter::parse_case(*json);
  } catch (const adapter::Malformed&) {
    return 0;
  }
  if (c.events.size() > 64) return 0;  // the corpus' longest case has 40; keeps executions short
  std::error_code ec;
  fs::remove_all(p.sandbox, ec);
  fs::create_directories(p.sandbox);
  std::string out;
  try {
    out = ckpt::json::dump(adapter::run_case(c, p.sandbox));
  } catch (const adapter::Malformed&) {
  }
  if (!fuzz::valid_utf8(out)) fuzz::broken("the observation is not UTF-8");
  if (!out.empty() && !ckpt::json::parse(out)) fuzz::broken("the observation is not JSON");
  if (auto damage = p.canaries.damage(); !damage.empty()) fuzz::broken(("outside the sandbox: " + damage).c_str());
  for (const auto& entry : fs::directory_iterator(p.base))
    if (entry.path() != p.sandbox && entry.path() != p.canaries.dir)
      fuzz::broken(("created beside the sandbox: " + entry.path().string()).c_str());
  fs::permissions(p.sandbox, fs::perms::owner_all, fs::perm_options::add, ec);
  fs::remove_all(p.sandbox, ec);
  return 0;
}
