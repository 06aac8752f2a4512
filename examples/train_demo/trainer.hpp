// The demo's model, data and training step: a small MLP with batch norm (so
// there are buffers to synchronise) on generated Gaussian clusters, and the
// Gloo process group when several ranks train. C++17, LibTorch.
#pragma once
#include <torch/torch.h>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>

#include <cstdint>
#include <string>

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

struct NetImpl : torch::nn::Module {
  NetImpl(int features, int classes);
  torch::Tensor forward(torch::Tensor x);
  torch::nn::Linear fc1;
  torch::nn::BatchNorm1d bn;
  torch::nn::Linear fc2;
};
TORCH_MODULE(Net);

class Trainer {
 public:
  explicit Trainer(const Options& options);

  int iters_per_epoch() const;
  /// One optimisation step on batch `iter % iters_per_epoch()`; returns the loss.
  double train_iter(std::int64_t iter);
  /// Accuracy and loss on the validation set (eval mode).
  Metrics validate();
  /// Average the model's floating-point buffers over all ranks; a no-op with one rank.
  void sync_buffers();
  /// A fingerprint of the model's parameters and buffers (sum of all values),
  /// to compare ranks or a resumed run with an uninterrupted one.
  double fingerprint() const;

  Net net;
  torch::optim::SGD optimizer;
  /// The ranks' group (null with one rank).
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;

 private:
  Options o_;
  torch::Tensor train_x_, train_y_, val_x_, val_y_;
};

}  // namespace demo
