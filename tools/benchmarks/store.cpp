// tools/bench save/load, the C++ side (C++17: includes LibTorch). One
// measurement per process, so that each peak-RSS reading is its own:
//   bench-store save-raw|save-pickle|save-ours SPEC OUT
//   bench-store load-pickle|load-ours|load-ours-nocrc|load-ours-mmap FILE
// SPEC: one tensor a line, "name f32|i64 dim...". Prints one JSON line:
// {"seconds": ..., "bytes": ..., "peak_extra_rss_mib": ...}. Timings
// include fsync for saves; building the state is not timed.
#include <ATen/ATen.h>
#include <torch/csrc/jit/serialization/pickle.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <utility>
#include <vector>

#include "ckpt/store/torch/checkpoint.hpp"

namespace {

// VmHWM (peak resident set) of this process, in KiB.
long vm_hwm_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

std::vector<std::pair<std::string, at::Tensor>> make_state(const std::string& spec_path, std::int64_t& bytes) {
  std::ifstream in(spec_path);
  if (!in) throw std::runtime_error("cannot read " + spec_path);
  std::vector<std::pair<std::string, at::Tensor>> state;
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

void write_all(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    auto w = ::write(fd, p, n);
    if (w < 0) throw std::runtime_error(std::string("write: ") + std::strerror(errno));
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

int open_out(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("open " + path + ": " + std::strerror(errno));
  return fd;
}

void close_synced(int fd) {
  if (::fsync(fd) != 0 || ::close(fd) != 0) throw std::runtime_error(std::string("fsync: ") + std::strerror(errno));
}

std::int64_t file_size(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  return static_cast<std::int64_t>(in.tellg());
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench-store save-raw|save-pickle|save-ours SPEC OUT\n"
                         "       bench-store load-pickle|load-ours|load-ours-nocrc|load-ours-mmap FILE\n");
    return 2;
  }
  const std::string mode = argv[1];
  std::int64_t bytes = 0;
  std::vector<std::pair<std::string, at::Tensor>> state;
  if (mode.rfind("save-", 0) == 0) {
    if (argc < 4) throw std::runtime_error("save needs SPEC OUT");
    state = make_state(argv[2], bytes);
  }
  // Built outside the timed region: the input each save starts from.
  ckpt::torch_store::Value ours_value;
  c10::IValue pickle_value;
  if (mode == "save-ours") {
    ckpt::torch_store::Dict::Items items;
    for (auto& [name, t] : state) items.emplace_back(name, t);
    ours_value = ckpt::torch_store::Dict(std::move(items), true);
  } else if (mode == "save-pickle") {
    c10::Dict<std::string, at::Tensor> dict;
    for (auto& [name, t] : state) dict.insert(name, t);
    pickle_value = dict;
  }
  const long hwm0 = vm_hwm_kib();
  const auto t0 = std::chrono::steady_clock::now();
  std::size_t touched = 0;
  if (mode == "save-raw") {
    int fd = open_out(argv[3]);
    for (auto& [name, t] : state) write_all(fd, static_cast<const char*>(t.data_ptr()), t.nbytes());
    close_synced(fd);
  } else if (mode == "save-pickle") {
    auto data = torch::jit::pickle_save(pickle_value);
    int fd = open_out(argv[3]);
    write_all(fd, data.data(), data.size());
    close_synced(fd);
  } else if (mode == "save-ours") {
    int fd = open_out(argv[3]);
    ckpt::torch_store::save(ours_value, fd);
    close_synced(fd);
  } else if (mode == "load-pickle") {
    std::ifstream in(argv[2], std::ios::binary);
    std::vector<char> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto v = torch::jit::pickle_load(data);
    touched = v.isGenericDict() ? v.toGenericDict().size() : 1;
  } else if (mode == "load-ours" || mode == "load-ours-nocrc" || mode == "load-ours-mmap") {
    ckpt::torch_store::LoadOptions options;
    options.verify_crc = mode == "load-ours";  // mmap: CRCs would touch every byte
    options.mmap = mode == "load-ours-mmap";
    auto v = ckpt::torch_store::load(argv[2], options);
    touched = v.is<ckpt::torch_store::Dict>() ? v.as<ckpt::torch_store::Dict>().items.size() : 1;
  } else {
    throw std::runtime_error("unknown mode " + mode);
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const long hwm1 = vm_hwm_kib();
  if (mode.rfind("load-", 0) == 0) bytes = file_size(argv[2]);
  else bytes = file_size(argv[3]);
  std::printf("{\"seconds\": %.6f, \"bytes\": %lld, \"peak_extra_rss_mib\": %.1f, \"entries\": %zu}\n", s,
              static_cast<long long>(bytes), static_cast<double>(hwm1 - hwm0) / 1024.0, touched);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "bench-store: %s\n", e.what());
  return 1;
}
