// Test support for the Checkpointer: a small model and optimizer, a loop
// that drives the hook points as mmengine's EpochBasedTrainLoop calls them,
// captured log lines, and files read back through the tensor store.
#pragma once
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <ckpt/checkpointer.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "store.torch.support.hpp"

namespace checkpointer_test {

namespace ts = ckpt::torch_store;
using store_test::TempDir;

/// Linear + BatchNorm (buffers, num_batches_tracked) + Linear, and SGD.
struct Model {
  explicit Model(std::uint64_t seed = 0)
      : net((torch::manual_seed(seed), torch::nn::Sequential(torch::nn::Linear(4, 8), torch::nn::BatchNorm1d(8),
                                                              torch::nn::ReLU(), torch::nn::Linear(8, 2)))),
        optimizer(net->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9)) {}
  torch::nn::Sequential net;
  torch::optim::SGD optimizer;

  void step(std::int64_t iter) {
    auto gen = at::detail::createCPUGenerator(static_cast<std::uint64_t>(100 + iter));
    auto x = torch::randn({16, 4}, gen);
    optimizer.zero_grad();
    auto loss = torch::nn::functional::cross_entropy(net->forward(x), (x.sum(1) > 0).to(torch::kLong));
    loss.backward();
    optimizer.step();
  }
  /// Every parameter and buffer, concatenated (to compare two models).
  torch::Tensor flat() const {
    std::vector<torch::Tensor> parts;
    for (const auto& t : net->parameters()) parts.push_back(t.detach().flatten());
    for (const auto& t : net->buffers()) parts.push_back(t.detach().to(torch::kDouble).flatten());
    for (auto& p : parts) p = p.to(torch::kDouble);
    return torch::cat(parts);
  }
};

/// Log lines, captured.
struct Logs {
  std::shared_ptr<std::vector<std::string>> lines = std::make_shared<std::vector<std::string>>();
  std::function<void(ckpt::LogLevel, const std::string&)> sink() const {
    auto l = lines;
    return [l](ckpt::LogLevel level, const std::string& m) {
      l->push_back((level == ckpt::LogLevel::warning ? "warning: " : "") + m);
    };
  }
  bool contains(const std::string& part) const {
    for (const auto& l : *lines)
      if (l.find(part) != std::string::npos) return true;
    return false;
  }
  std::string all() const {
    std::string out;
    for (const auto& l : *lines) out += l + "\n";
    return out;
  }
};

/// mmengine's epoch loop: `epochs` epochs of `iters` iterations from `at`,
/// validating after each with `acc(epoch)` as the metric.
template <class Acc>
std::int64_t train(ckpt::Checkpointer& ck, Model& m, const ckpt::ResumePoint& at, std::int64_t epochs,
                   std::int64_t iters, Acc acc, std::int64_t stop_after_epoch = -1) {
  std::int64_t iter = at.iter;
  for (std::int64_t e = at.epoch; e < epochs; ++e) {
    for (std::int64_t b = iter - e * iters; b < iters; ++b, ++iter) {
      m.step(iter);
      ck.after_train_iter(e, iter, b);
    }
    ck.after_train_epoch(e, iter);
    ck.after_val_epoch(e + 1, iter, {{"acc", acc(e + 1)}});
    if (e + 1 == stop_after_epoch) return iter;
  }
  ck.after_train(epochs, iter);
  return iter;
}

inline double rising(std::int64_t epoch) { return 0.1 * static_cast<double>(epoch); }

/// Flips the first byte of the first tensor record's data in a checkpoint
/// (its CRC-32 no longer matches; the zip structure stays intact).
inline void flip_tensor_byte(const std::string& path) {
  std::string bytes = store_test::read_file(path);
  const auto name = bytes.find("/data/0");
  ASSERT_NE(name, std::string::npos);
  const auto header = bytes.rfind("PK\x03\x04", name);
  ASSERT_NE(header, std::string::npos);
  auto u16 = [&](std::size_t at) {
    return static_cast<std::size_t>(static_cast<unsigned char>(bytes[at])) |
           static_cast<std::size_t>(static_cast<unsigned char>(bytes[at + 1])) << 8;
  };
  const std::size_t data = header + 30 + u16(header + 26) + u16(header + 28);
  ASSERT_LT(data, bytes.size());
  bytes[data] = static_cast<char>(bytes[data] ^ 0x5a);
  store_test::write_file(path, bytes);
}

inline const ts::Dict& dict(const ts::Value& v) { return v.as<ts::Dict>(); }

inline std::vector<std::string> keys(const ts::Value& v) {
  std::vector<std::string> out;
  for (const auto& item : dict(v).items) out.push_back(item.first.as<std::string>());
  return out;
}

inline std::string str(const ts::Value* v) { return v && v->is<std::string>() ? v->as<std::string>() : "<none>"; }

}  // namespace checkpointer_test
