// tools/bench save/load, the C++ side (C++17: includes LibTorch). One
// measurement per process, so that each peak-RSS reading is its own:
//   bench-store save-raw|save-pickle|save-ours SPEC OUT
//   bench-store load-raw|load-pickle|load-ours|load-ours-nocrc|load-ours-mmap|verify FILE
//   bench-store load-ours-into FILE SPEC
// SPEC: one tensor a line, "name f32|i64 dim...". load-raw is the disk's
// limit: the whole file into memory, no parsing, the way the loader's
// storage reads go (8 threads, O_DIRECT, 4 MiB requests). load-ours-into
// loads into a state of SPEC's shapes built (and touched) beforehand, as a
// resuming trainer's; verify checks the file without loading it. Prints
// one JSON line: {"seconds": ..., "bytes": ..., "peak_extra_rss_mib": ...,
// "cpu_user_s": ..., "cpu_sys_s": ...} (CPU seconds of the timed part, all
// threads). Timings include fsync for saves; building the state is not
// timed.
#include <ATen/ATen.h>
#include <torch/csrc/jit/serialization/pickle.h>

#include <algorithm>
#include <atomic>
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
#include <sys/mman.h>
#include <sys/resource.h>
#include <thread>
#include <unistd.h>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ckpt/store/torch/checkpoint.hpp"
#include "state.hpp"

namespace {

using bench::file_size;
using bench::vm_hwm_kib;

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

// CPU seconds of this process, all threads: on a shared machine they vary
// less than wall time, and split the work between us (user) and the
// kernel (sys: page faults, copies out of the page cache).
struct CpuTimes {
  double user = 0, sys = 0;
};

CpuTimes cpu_times() {
  struct rusage u;
  ::getrusage(RUSAGE_SELF, &u);
  const auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return {seconds(u.ru_utime), seconds(u.ru_stime)};
}

void close_synced(int fd) {
  if (::fsync(fd) != 0 || ::close(fd) != 0) throw std::runtime_error(std::string("fsync: ") + std::strerror(errno));
}


// load-raw: reads `path` with 8 threads of 4 MiB O_DIRECT preads into one
// page-aligned (huge-page advised) buffer, left mapped like a loaded
// checkpoint's memory (the process exits next).
void read_raw(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("open " + path + " with O_DIRECT: " + std::strerror(errno));
  const auto size = static_cast<std::size_t>(file_size(path));
  constexpr std::size_t request = std::size_t{4} << 20;
  const std::size_t length = (size + 4095) / 4096 * 4096;  // O_DIRECT reads whole blocks
  void* mem = ::mmap(nullptr, std::max<std::size_t>(length, 1), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) throw std::runtime_error(std::string("mmap: ") + std::strerror(errno));
  ::madvise(mem, length, MADV_HUGEPAGE);
  char* buf = static_cast<char*>(mem);
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  auto work = [&] {
    for (std::size_t at; (at = next.fetch_add(request)) < length && !failed;) {
      const std::size_t n = std::min(request, length - at);
      for (std::size_t got = 0; got < n && at + got < size;) {
        const ssize_t r = ::pread(fd, buf + at + got, n - got, static_cast<off_t>(at + got));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) { failed = true; return; }
        got += static_cast<std::size_t>(r);
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < 8; ++t) pool.emplace_back(work);
  for (std::thread& t : pool) t.join();
  ::close(fd);
  if (failed) throw std::runtime_error("O_DIRECT read of " + path + " failed");
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench-store save-raw|save-pickle|save-ours SPEC OUT\n"
                         "       bench-store load-raw|load-pickle|load-ours|load-ours-nocrc|load-ours-mmap|verify FILE\n"
                         "       bench-store load-ours-into FILE SPEC\n");
    return 2;
  }
  const std::string mode = argv[1];
  std::int64_t bytes = 0;
  bench::State state;
  if (mode.rfind("save-", 0) == 0) {
    if (argc < 4) throw std::runtime_error("save needs SPEC OUT");
    state = bench::make_state(argv[2], bytes);
  } else if (mode == "load-ours-into") {
    if (argc < 4) throw std::runtime_error("load-ours-into needs FILE SPEC");
    state = bench::make_state(argv[3], bytes);
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
  const CpuTimes cpu0 = cpu_times();
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
  } else if (mode == "load-raw") {
    read_raw(argv[2]);
    touched = 1;
  } else if (mode == "load-pickle") {
    std::ifstream in(argv[2], std::ios::binary);
    std::vector<char> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto v = torch::jit::pickle_load(data);
    touched = v.isGenericDict() ? v.toGenericDict().size() : 1;
  } else if (mode == "load-ours-into") {
    // The file's top level is the state's OrderedDict: its keys name the tensors.
    std::unordered_map<std::string, at::Tensor> by_name(state.begin(), state.end());
    ckpt::torch_store::LoadOptions options;
    options.into = [&](const std::vector<ckpt::torch_store::Value>& keys, const at::Tensor&) {
      if (keys.size() != 1 || !keys[0].is<std::string>()) return at::Tensor();
      auto it = by_name.find(keys[0].as<std::string>());
      return it == by_name.end() ? at::Tensor() : it->second;
    };
    auto v = ckpt::torch_store::load(argv[2], options);
    touched = v.is<ckpt::torch_store::Dict>() ? v.as<ckpt::torch_store::Dict>().items.size() : 1;
  } else if (mode == "verify") {
    const ckpt::torch_store::Verified r = ckpt::torch_store::verify(argv[2]);
    if (!r.error.empty()) throw std::runtime_error(r.error);
    touched = r.records;
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
  const CpuTimes cpu1 = cpu_times();
  if (mode.rfind("load-", 0) == 0 || mode == "verify") bytes = file_size(argv[2]);
  else bytes = file_size(argv[3]);
  std::printf("{\"seconds\": %.6f, \"bytes\": %lld, \"peak_extra_rss_mib\": %.1f, \"entries\": %zu, "
              "\"cpu_user_s\": %.6f, \"cpu_sys_s\": %.6f}\n",
              s, static_cast<long long>(bytes), static_cast<double>(hwm1 - hwm0) / 1024.0, touched,
              cpu1.user - cpu0.user, cpu1.sys - cpu0.sys);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "bench-store: %s\n", e.what());
  return 1;
}
