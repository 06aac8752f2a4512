// The demo's model and training loop behind a header with no torch types:
// LibTorch 1.13's headers do not compile as C++20, so the C++20 policy code
// (main.cpp, which imports ckpt) drives training only through this header.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace demo {

struct Metrics {
  double acc = 0;
  double loss = 0;
};

struct Options {
  std::uint64_t seed = 0;
  int train_samples = 1024;
  int val_samples = 256;
  int features = 16;
  int classes = 4;
  int batch = 64;
  double lr = 0.05;
  int rank = 0;
  int world_size = 1;
  std::string master_addr = "127.0.0.1";
  int master_port = 29511;
};

class Trainer {
 public:
  explicit Trainer(const Options& options);
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  int iters_per_epoch() const;
  /// One optimisation step on batch `iter % iters_per_epoch()`; returns the loss.
  double train_iter(std::int64_t iter);
  /// Accuracy and loss on the validation set (eval mode).
  Metrics validate();
  /// C50: average the model's buffers over all ranks (Gloo all-reduce);
  /// a no-op with one rank.
  void sync_buffers();
  /// A fingerprint of the model's parameters and buffers (sum of all values),
  /// to compare ranks or a resumed run with an uninterrupted one.
  double fingerprint() const;

  /// Writes an mmengine-layout checkpoint (meta, state_dict, optimizer when
  /// `with_optimizer`, message_hub) to `fd`; `meta_json` and
  /// `runtime_info_json` are JSON objects. Returns an error, empty on success.
  std::string save(int fd, const std::string& meta_json, const std::string& runtime_info_json,
                   bool with_optimizer) const;
  /// Restores model and optimizer from a checkpoint file. Returns
  /// `{"meta": ..., "runtime_info": ...}` as JSON, or empty with `error` set.
  std::string load(const std::string& path, std::string& error);
  /// E42: writes the checkpoint at `source` with only the top-level `keys`
  /// to `fd`. Returns an error, empty on success.
  static std::string publish(const std::string& source, const std::vector<std::string>& keys, int fd);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace demo
