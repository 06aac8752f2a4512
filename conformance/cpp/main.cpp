// ckpt-adapter: the conformance protocol's command line for the C++ library.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <unistd.h>
#include "adapter.hpp"

namespace fs = std::filesystem;
namespace py = ckpt::py;

namespace {

const char* usage =
    "usage: ckpt-adapter run CASE.json [--sandbox DIR]\n"
    "       ckpt-adapter serve [--sandbox DIR]\n"
    "\n"
    "The conformance-protocol adapter for the ckpt C++ library: runs cases of\n"
    "docs/spec/conformance-protocol.md (1.1) through ckpt.hook (profile mmengine;\n"
    "profile ckpt: mmengine plus the extensions of docs/spec/extensions.md) or\n"
    "ckpt.legacy (profile mmcv), applying every plan to a sandbox directory.\n"
    "\n"
    "  run CASE.json   one case; its observation on stdout as one JSON line\n"
    "  serve           one case per stdin line, one observation per stdout line\n"
    "  --sandbox DIR   run cases under DIR (kept afterwards) instead of a\n"
    "                  temporary directory that is removed\n"
    "  --mmcv-version V  the mmcv release the mmcv profile imitates (the\n"
    "                  `mmcv_version` written into meta) when a case names\n"
    "                  none in its optional `mmcv_version` (default 1.7.2)\n"
    "\n"
    "Exit status: 0 when every case ran (errors of the library are part of the\n"
    "observation), 2 for a malformed case or bad usage, with a reason on stderr.\n";

fs::path fresh_dir(const std::optional<fs::path>& base, std::size_t n) {
  if (base) {
    fs::path dir = *base / ("case-" + std::to_string(n));
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
  }
  std::string tmpl = (fs::temp_directory_path() / "ckpt-sandbox-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw adapter::Malformed{"cannot create a temporary sandbox"};
  return tmpl;
}

std::string observe(const std::string& text, const std::optional<fs::path>& base, std::size_t n,
                    const std::optional<std::string>& mmcv_version) {
  auto json = ckpt::json::parse(text, /*allow_nonfinite=*/false);
  if (!json) throw adapter::Malformed{"case is not valid JSON: " + json.error().message};
  auto c = adapter::parse_case(*json);
  if (!c.mmcv_version) c.mmcv_version = mmcv_version;
  fs::path dir = fresh_dir(base, n);
  struct Cleanup {
    fs::path dir;
    bool keep;
    ~Cleanup() {
      std::error_code ec;
      if (!keep) fs::remove_all(dir, ec);
    }
  } cleanup{dir, base.has_value()};
  return ckpt::json::dump(adapter::run_case(c, dir));
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::optional<fs::path> sandbox;
  std::optional<std::string> mmcv_version;
  std::vector<std::string> positional;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "-h" || args[i] == "--help") { std::cout << usage; return 0; }
    if (args[i] == "--sandbox") {
      if (i + 1 >= args.size()) { std::cerr << "ckpt-adapter: --sandbox needs a directory\n"; return 2; }
      sandbox = fs::absolute(args[++i]);
    } else if (args[i] == "--mmcv-version") {
      if (i + 1 >= args.size() || args[i + 1].empty()) {
        std::cerr << "ckpt-adapter: --mmcv-version needs a version\n";
        return 2;
      }
      mmcv_version = args[++i];
    } else {
      positional.push_back(args[i]);
    }
  }
  if (positional.empty()) { std::cerr << usage; return 2; }
  if (positional[0] == "run" && positional.size() == 2) {
    std::ifstream in(positional[1]);
    if (!in) { std::cerr << "ckpt-adapter: cannot read " << positional[1] << "\n"; return 2; }
    std::stringstream buf;
    buf << in.rdbuf();
    try {
      std::cout << observe(buf.str(), sandbox, 0, mmcv_version) << "\n";
    } catch (const adapter::Malformed& m) {
      std::cerr << "ckpt-adapter: malformed case " << positional[1] << ": " << m.reason << "\n";
      return 2;
    }
    return 0;
  }
  if (positional[0] == "serve" && positional.size() == 1) {
    std::string line;
    std::size_t n = 0;
    while (std::getline(std::cin, line)) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      try {
        std::cout << observe(line, sandbox, n++, mmcv_version) << std::endl;
      } catch (const adapter::Malformed& m) {
        // serve keeps going: a malformed line is answered with an adapter error
        std::cout << ckpt::json::dump(py::Value(py::Dict{
                         {"id", py::none},
                         {"implementation", "ckpt 0.1.0"},
                         {"error", py::Dict{{"type", "AdapterError"}, {"event", -1}, {"message", m.reason}}},
                         {"steps", py::List{}}}))
                  << std::endl;
      }
    }
    return 0;
  }
  std::cerr << usage;
  return 2;
}
