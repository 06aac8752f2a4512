// tools/bench, the Checkpointer's side (C++17: includes LibTorch), one
// measurement per process:
//   bench-checkpointer save SPEC DIR    a module holding the state as its
//       buffers, ckpt::Checkpointer with async_save, a save every
//       iteration: a first save (its snapshot buffer mapped and faulted in),
//       its file removed and the disk's discards committed untimed, then
//       the timed save. stall_s: after_train_iter's return (the training
//       thread's cost); durable_s: until wait() returns (file fsync'ed and
//       renamed, last_checkpoint written).
//   bench-checkpointer resume SPEC FILE  a fresh module of the same shapes
//       (allocated and touched beforehand), ckpt::Checkpointer::resume(FILE)
//       timed: the restore path a trainer runs (load with every CRC
//       checked, tensors into the module's own storage).
// Prints one JSON line. Building the state is not timed.
#include <torch/torch.h>
#include <unistd.h>

#include <ckpt/checkpointer.hpp>

#include <chrono>
#include <cstdio>
#include <string>

#include "state.hpp"

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// The state as a module's buffers ("." is not allowed in LibTorch's names).
struct Holder : torch::nn::Module {
  explicit Holder(const bench::State& state) {
    for (const auto& [name, t] : state) {
      std::string n = name;
      for (auto& c : n)
        if (c == '.') c = '_';
      register_buffer(n, t);
    }
  }
};

ckpt::Options options(const std::string& work_dir) {
  ckpt::Options o{work_dir, R"({"interval": 1, "by_epoch": false})", true};
  o.log = [](ckpt::LogLevel, const std::string&) {};
  return o;
}

int save(const bench::State& state, const std::string& dir) {
  Holder model(state);
  const long hwm0 = bench::vm_hwm_kib();
  ckpt::Checkpointer ck(options(dir));
  ck.track("model", model);
  ck.before_train({}, 1, 1000);
  auto t0 = Clock::now();
  ck.after_train_iter(0, 0, 0);
  const double cold_stall = since(t0);
  ck.wait();
  if (std::remove((dir + "/iter_1.pth").c_str()) != 0) throw std::runtime_error("cannot remove iter_1.pth");
  ::sync();  // the first file's discards, committed untimed (see bench-async)
  t0 = Clock::now();
  ck.after_train_iter(0, 1, 1);
  const double stall = since(t0);
  ck.wait();
  const double durable = since(t0);
  std::printf("{\"seconds\": %.6f, \"stall_s\": %.6f, \"cold_stall_s\": %.6f, \"bytes\": %lld, "
              "\"peak_extra_rss_mib\": %.1f}\n",
              durable, stall, cold_stall, static_cast<long long>(bench::file_size(dir + "/iter_2.pth")),
              static_cast<double>(bench::vm_hwm_kib() - hwm0) / 1024.0);
  return 0;
}

int resume(const bench::State& state, const std::string& file) {
  Holder model(state);
  const long hwm0 = bench::vm_hwm_kib();
  ckpt::Checkpointer ck(options(file + ".work"));
  ck.track("model", model);
  const auto t0 = Clock::now();
  auto at = ck.resume(file);
  const double s = since(t0);
  if (!at.resumed()) throw std::runtime_error("nothing resumed");
  std::printf("{\"seconds\": %.6f, \"bytes\": %lld, \"peak_extra_rss_mib\": %.1f}\n", s,
              static_cast<long long>(bench::file_size(file)), static_cast<double>(bench::vm_hwm_kib() - hwm0) / 1024.0);
  return 0;
}

}  // namespace

int main(int argc, char** argv) try {
  const std::string mode = argc > 1 ? argv[1] : "";
  if ((mode != "save" && mode != "resume") || argc != 4) {
    std::fprintf(stderr, "usage: bench-checkpointer save SPEC DIR\n       bench-checkpointer resume SPEC FILE\n");
    return 2;
  }
  std::int64_t bytes = 0;
  const bench::State state = bench::make_state(argv[2], bytes);
  return mode == "save" ? save(state, argv[3]) : resume(state, argv[3]);
} catch (const std::exception& e) {
  std::fprintf(stderr, "bench-checkpointer: %s\n", e.what());
  return 1;
}
