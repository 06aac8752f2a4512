// The benchmarks' shared pieces: the state dict a spec file describes (one
// tensor a line, "name f32|i64 dim..."), every page touched before any
// timing, and the process's peak resident memory.
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace bench {

using State = std::vector<std::pair<std::string, at::Tensor>>;

/// VmHWM (peak resident set) of this process, in KiB.
inline long vm_hwm_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

inline State make_state(const std::string& spec_path, std::int64_t& bytes) {
  std::ifstream in(spec_path);
  if (!in) throw std::runtime_error("cannot read " + spec_path);
  State state;
  std::string line;
  bytes = 0;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string name, dtype;
    if (!(words >> name >> dtype)) continue;
    std::vector<std::int64_t> shape;
    for (std::int64_t d; words >> d;) shape.push_back(d);
    auto t = at::empty(shape, dtype == "i64" ? at::kLong : at::kFloat);
    t.fill_(dtype == "i64" ? 1 : 0.5);  // touch every page before the baseline
    bytes += static_cast<std::int64_t>(t.nbytes());
    state.emplace_back(std::move(name), std::move(t));
  }
  return state;
}

inline std::int64_t file_size(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  return static_cast<std::int64_t>(in.tellg());
}

}  // namespace bench
