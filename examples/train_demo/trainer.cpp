// The demo trainer (trainer.hpp). C++17, LibTorch.
#include "trainer.hpp"

#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <string>
#include <vector>

namespace demo {

NetImpl::NetImpl(int features, int classes)
    : fc1(register_module("fc1", torch::nn::Linear(features, 64))),
      bn(register_module("bn", torch::nn::BatchNorm1d(64))),
      fc2(register_module("fc2", torch::nn::Linear(64, classes))) {}

torch::Tensor NetImpl::forward(torch::Tensor x) { return fc2(torch::relu(bn(fc1(x)))); }

namespace {

// Samples around fixed random centres (the same for training and
// validation, and on every rank); `seed` draws the samples.
std::pair<torch::Tensor, torch::Tensor> clusters(int n, int features, int classes, std::uint64_t seed) {
  auto centres = torch::randn({classes, features}, at::detail::createCPUGenerator(42)) * 2.0;
  auto gen = at::detail::createCPUGenerator(seed);
  auto labels = torch::randint(classes, {n}, gen, torch::kLong);
  auto x = centres.index_select(0, labels) + torch::randn({n, features}, gen) * 4.0;
  return {x, labels};
}

}  // namespace

Trainer::Trainer(const Options& options)
    : net((torch::manual_seed(options.seed), Net(options.features, options.classes))),
      optimizer(net->parameters(), torch::optim::SGDOptions(options.lr).momentum(0.9)),
      o_(options) {
  // the data are the same for every seed offset: generated from a fixed seed
  std::tie(train_x_, train_y_) = clusters(o_.train_samples, o_.features, o_.classes, 1234);
  std::tie(val_x_, val_y_) = clusters(o_.val_samples, o_.features, o_.classes, 5678);
  if (o_.world_size > 1) {
    c10d::TCPStoreOptions so;
    so.port = static_cast<std::uint16_t>(o_.master_port);
    so.isServer = o_.rank == 0;
    so.numWorkers = o_.world_size;
    auto store = c10::make_intrusive<c10d::TCPStore>(o_.master_addr, so);
    auto go = c10d::ProcessGroupGloo::Options::create();
    go->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(o_.master_addr));
    group = c10::make_intrusive<c10d::ProcessGroupGloo>(store, o_.rank, o_.world_size, go);
  }
}

int Trainer::iters_per_epoch() const { return (o_.train_samples + o_.batch - 1) / o_.batch; }

double Trainer::train_iter(std::int64_t iter) {
  net->train();
  std::int64_t b = iter % iters_per_epoch();
  auto x = train_x_.slice(0, b * o_.batch, (b + 1) * o_.batch);
  auto y = train_y_.slice(0, b * o_.batch, (b + 1) * o_.batch);
  optimizer.zero_grad();
  auto loss = torch::nn::functional::cross_entropy(net->forward(x), y);
  loss.backward();
  optimizer.step();
  return loss.item<double>();
}

Metrics Trainer::validate() {
  torch::NoGradGuard no_grad;
  net->eval();
  auto logits = net->forward(val_x_);
  Metrics out;
  out.loss = torch::nn::functional::cross_entropy(logits, val_y_).item<double>();
  out.acc = logits.argmax(1).eq(val_y_).to(torch::kDouble).mean().item<double>();
  return out;
}

void Trainer::sync_buffers() {
  if (!group) return;
  torch::NoGradGuard no_grad;
  for (auto& buffer : net->buffers()) {
    if (!buffer.is_floating_point()) continue;  // num_batches_tracked stays per rank, as in mmcv
    std::vector<torch::Tensor> tensors{buffer};
    group->allreduce(tensors)->wait();
    buffer.div_(o_.world_size);
  }
}

double Trainer::fingerprint() const {
  double sum = 0;
  for (const auto& p : net->parameters()) sum += p.sum().item<double>();
  for (const auto& b : net->buffers()) sum += b.to(torch::kDouble).sum().item<double>();
  return sum;
}

}  // namespace demo
