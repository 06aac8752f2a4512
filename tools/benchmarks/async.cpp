// tools/bench async, the C++ side (C++17: includes LibTorch). One
// measurement per process, so that each peak-RSS reading is its own:
//   bench-async memcpy SPEC       one copy of the state's tensor bytes into
//                                 a buffer allocated and touched beforehand
//   bench-async ours SPEC OUT     AsyncSaver: a first save with a fresh
//                                 saver (its buffer faulted in during the
//                                 stall), then a second with the buffer warm
//                                 (OUT.first, then OUT)
// Prints one JSON line. Building the state is not timed.
#include <ATen/ATen.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "ckpt/store/torch/async.hpp"
#include "state.hpp"

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

int memcpy_baseline(const bench::State& state, std::int64_t bytes) {
  const auto length = static_cast<std::size_t>(bytes);
  auto* out = static_cast<char*>(::mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  if (out == MAP_FAILED) throw std::runtime_error("mmap failed");
  ::madvise(out, length, MADV_HUGEPAGE);
  std::memset(out, 1, length);  // the destination is resident, as the saver's is after its first save
  const long hwm0 = bench::vm_hwm_kib();
  const auto t0 = Clock::now();
  std::size_t at = 0;
  for (const auto& [name, t] : state) {
    std::memcpy(out + at, t.data_ptr(), t.nbytes());
    at += t.nbytes();
  }
  const double s = since(t0);
  std::printf("{\"seconds\": %.6f, \"bytes\": %lld, \"peak_extra_rss_mib\": %.1f}\n", s,
              static_cast<long long>(bytes), static_cast<double>(bench::vm_hwm_kib() - hwm0) / 1024.0);
  return 0;
}

int ours(const bench::State& state, std::int64_t bytes, const std::string& out) {
  ckpt::torch_store::Dict::Items items;
  for (const auto& [name, t] : state) items.emplace_back(name, t);
  const ckpt::torch_store::Value value = ckpt::torch_store::Dict(std::move(items), true);
  const long hwm0 = bench::vm_hwm_kib();
  ckpt::torch_store::AsyncSaver saver;
  // Checkpoints get fresh names (epoch_1.pth, epoch_2.pth): the first goes
  // elsewhere and is removed untimed, so that the second's rename does not
  // pay for freeing a 1 GiB file, which the synchronous baseline never does.
  const std::string first = out + ".first";
  auto t0 = Clock::now();
  if (!saver.save(value, first)) throw std::runtime_error("refused");
  const double cold_stall = since(t0);
  saver.wait();
  const double cold_total = since(t0);
  if (std::remove(first.c_str()) != 0) throw std::runtime_error("cannot remove " + first);
  // The file system here is mounted with online discard: freeing 1 GiB
  // issues discards at the next journal commit, which would compete with the
  // timed write. Commit now, untimed (the synchronous baseline's process
  // starts long after its predecessor's unlink).
  ::sync();
  t0 = Clock::now();
  if (!saver.save(value, out)) throw std::runtime_error("refused");
  const double stall = since(t0);
  saver.wait();
  const double total = since(t0);
  std::printf("{\"seconds\": %.6f, \"stall_s\": %.6f, \"cold_stall_s\": %.6f, \"cold_total_s\": %.6f, "
              "\"bytes\": %lld, \"snapshot_capacity\": %zu, \"peak_extra_rss_mib\": %.1f}\n",
              total, stall, cold_stall, cold_total, static_cast<long long>(bench::file_size(out)), saver.capacity(),
              static_cast<double>(bench::vm_hwm_kib() - hwm0) / 1024.0);
  (void)bytes;
  return 0;
}

}  // namespace

int main(int argc, char** argv) try {
  const std::string mode = argc > 1 ? argv[1] : "";
  if ((mode != "memcpy" || argc != 3) && (mode != "ours" || argc != 4)) {
    std::fprintf(stderr, "usage: bench-async memcpy SPEC\n       bench-async ours SPEC OUT\n");
    return 2;
  }
  std::int64_t bytes = 0;
  const bench::State state = bench::make_state(argv[2], bytes);
  return mode == "memcpy" ? memcpy_baseline(state, bytes) : ours(state, bytes, argv[3]);
} catch (const std::exception& e) {
  std::fprintf(stderr, "bench-async: %s\n", e.what());
  return 1;
}
