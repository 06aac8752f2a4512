// The demo trainer: a small MLP with batch norm (so there are buffers to
// synchronise) trained on generated Gaussian clusters. C++17, LibTorch.
#include "trainer.hpp"

#include <torch/torch.h>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "ckpt/store/torch/checkpoint.hpp"
#include "checkpoint_io.hpp"

namespace demo {

namespace ts = ckpt::torch_store;

namespace {

struct NetImpl : torch::nn::Module {
  NetImpl(int features, int classes)
      : fc1(register_module("fc1", torch::nn::Linear(features, 64))),
        bn(register_module("bn", torch::nn::BatchNorm1d(64))),
        fc2(register_module("fc2", torch::nn::Linear(64, classes))) {}
  torch::Tensor forward(torch::Tensor x) { return fc2(torch::relu(bn(fc1(x)))); }
  torch::nn::Linear fc1;
  torch::nn::BatchNorm1d bn;
  torch::nn::Linear fc2;
};
TORCH_MODULE(Net);

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

struct Trainer::Impl {
  Options o;
  Net net;
  torch::optim::SGD optim;
  torch::Tensor train_x, train_y, val_x, val_y;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;

  explicit Impl(const Options& options)
      : o(options),
        net((torch::manual_seed(options.seed), Net(options.features, options.classes))),
        optim(net->parameters(), torch::optim::SGDOptions(options.lr).momentum(0.9)) {
    // the data are the same for every seed offset: generated from a fixed seed
    std::tie(train_x, train_y) = clusters(o.train_samples, o.features, o.classes, 1234);
    std::tie(val_x, val_y) = clusters(o.val_samples, o.features, o.classes, 5678);
    if (o.world_size > 1) {
      c10d::TCPStoreOptions so;
      so.port = static_cast<std::uint16_t>(o.master_port);
      so.isServer = o.rank == 0;
      so.numWorkers = o.world_size;
      auto store = c10::make_intrusive<c10d::TCPStore>(o.master_addr, so);
      auto go = c10d::ProcessGroupGloo::Options::create();
      go->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(o.master_addr));
      group = c10::make_intrusive<c10d::ProcessGroupGloo>(store, o.rank, o.world_size, go);
    }
  }
};

Trainer::Trainer(const Options& options) : impl_(std::make_unique<Impl>(options)) {}
Trainer::~Trainer() = default;

int Trainer::iters_per_epoch() const { return (impl_->o.train_samples + impl_->o.batch - 1) / impl_->o.batch; }

double Trainer::train_iter(std::int64_t iter) {
  auto& m = *impl_;
  m.net->train();
  std::int64_t b = iter % iters_per_epoch();
  auto x = m.train_x.slice(0, b * m.o.batch, (b + 1) * m.o.batch);
  auto y = m.train_y.slice(0, b * m.o.batch, (b + 1) * m.o.batch);
  m.optim.zero_grad();
  auto loss = torch::nn::functional::cross_entropy(m.net->forward(x), y);
  loss.backward();
  m.optim.step();
  return loss.item<double>();
}

Metrics Trainer::validate() {
  auto& m = *impl_;
  torch::NoGradGuard no_grad;
  m.net->eval();
  auto logits = m.net->forward(m.val_x);
  Metrics out;
  out.loss = torch::nn::functional::cross_entropy(logits, m.val_y).item<double>();
  out.acc = logits.argmax(1).eq(m.val_y).to(torch::kDouble).mean().item<double>();
  return out;
}

void Trainer::sync_buffers() {
  auto& m = *impl_;
  if (!m.group) return;
  torch::NoGradGuard no_grad;
  for (auto& buffer : m.net->buffers()) {
    if (!buffer.is_floating_point()) continue;  // num_batches_tracked stays per rank, as in mmcv
    std::vector<torch::Tensor> tensors{buffer};
    m.group->allreduce(tensors)->wait();
    buffer.div_(m.o.world_size);
  }
}

double Trainer::fingerprint() const {
  double sum = 0;
  for (const auto& p : impl_->net->parameters()) sum += p.sum().item<double>();
  for (const auto& b : impl_->net->buffers()) sum += b.to(torch::kDouble).sum().item<double>();
  return sum;
}

// E29's layout: meta, state_dict (an OrderedDict, as Module.state_dict()),
// message_hub (MessageHub.state_dict()), optimizer (Optimizer.state_dict():
// per-parameter state keyed by index, then param_groups).
std::string Trainer::save(int fd, const std::string& meta_json, const std::string& runtime_info_json,
                          bool with_optimizer) const {
  try {
    auto& m = *impl_;
    ts::Dict meta = from_json(meta_json).as<ts::Dict>();
    meta.set("seed", static_cast<std::int64_t>(m.o.seed));
    meta.set("experiment_name", "train-demo");
    ts::Dict state_dict;
    state_dict.ordered = true;
    for (const auto& p : m.net->named_parameters()) state_dict.set(p.key(), p.value().detach());
    for (const auto& b : m.net->named_buffers()) state_dict.set(b.key(), b.value().detach());
    ts::Value info = from_json(runtime_info_json);
    ts::Dict resumed;
    for (const auto& item : info.as<ts::Dict>().items) resumed.items.emplace_back(item.first, true);
    ts::Dict hub;
    hub.set("log_scalars", ts::Dict{});
    hub.set("runtime_info", info);
    hub.set("resumed_keys", resumed);
    ts::Dict checkpoint;
    checkpoint.set("meta", meta);
    checkpoint.set("state_dict", state_dict);
    checkpoint.set("message_hub", hub);
    if (with_optimizer) {
      ts::Dict state;
      ts::List params;
      auto& slots = m.optim.state();
      const auto parameters = m.net->parameters();
      for (std::size_t i = 0; i < parameters.size(); ++i) {
        params.items.emplace_back(static_cast<std::int64_t>(i));
        auto it = slots.find(c10::guts::to_string(parameters[i].unsafeGetTensorImpl()));
        if (it == slots.end()) continue;
        const auto& sgd = static_cast<const torch::optim::SGDParamState&>(*it->second);
        ts::Dict slot;
        slot.set("momentum_buffer", sgd.momentum_buffer());
        state.items.emplace_back(static_cast<std::int64_t>(i), slot);
      }
      const auto& o = static_cast<const torch::optim::SGDOptions&>(m.optim.param_groups()[0].options());
      ts::Dict group;
      group.set("lr", o.lr());
      group.set("momentum", o.momentum());
      group.set("dampening", o.dampening());
      group.set("weight_decay", o.weight_decay());
      group.set("nesterov", o.nesterov());
      group.set("maximize", false);
      group.set("foreach", ts::None{});
      group.set("differentiable", false);
      group.set("params", params);
      ts::Dict optimizer;
      optimizer.set("state", state);
      optimizer.set("param_groups", ts::List{{group}});
      checkpoint.set("optimizer", optimizer);
    }
    ts::save(checkpoint, fd);
    return {};
  } catch (const std::exception& e) {
    return e.what();
  }
}

std::string Trainer::load(const std::string& path, std::string& error) {
  try {
    auto& m = *impl_;
    ts::Value checkpoint = ts::load(path);
    const auto& top = checkpoint.as<ts::Dict>();
    const ts::Value* sd = top.find("state_dict");
    if (!sd || !sd->is<ts::Dict>()) throw ts::Error(path + ": no state_dict");
    torch::NoGradGuard no_grad;
    auto restore = [&](const std::string& name, torch::Tensor target) {
      const ts::Value* v = sd->as<ts::Dict>().find(name);
      if (!v || !v->is<at::Tensor>()) throw ts::Error(path + ": state_dict has no tensor '" + name + "'");
      target.copy_(v->as<at::Tensor>());
    };
    for (auto& p : m.net->named_parameters()) restore(p.key(), p.value());
    for (auto& b : m.net->named_buffers()) restore(b.key(), b.value());
    if (const ts::Value* opt = top.find("optimizer"); opt && opt->is<ts::Dict>()) {
      const ts::Value* state = opt->as<ts::Dict>().find("state");
      const auto parameters = m.net->parameters();
      for (const auto& [index, slot] : state && state->is<ts::Dict>() ? state->as<ts::Dict>().items
                                                                      : decltype(ts::Dict::items){}) {
        auto i = static_cast<std::size_t>(index.as<std::int64_t>());
        const ts::Value* buf = slot.as<ts::Dict>().find("momentum_buffer");
        if (i >= parameters.size() || !buf || !buf->is<at::Tensor>()) continue;
        auto st = std::make_unique<torch::optim::SGDParamState>();
        st->momentum_buffer(buf->as<at::Tensor>().clone());
        m.optim.state()[c10::guts::to_string(parameters[i].unsafeGetTensorImpl())] = std::move(st);
      }
    }
    ts::Dict out;
    const ts::Value* meta = top.find("meta");
    out.set("meta", meta ? *meta : ts::Value(ts::Dict{}));
    const ts::Value* hub = top.find("message_hub");
    const ts::Value* info = hub && hub->is<ts::Dict>() ? hub->as<ts::Dict>().find("runtime_info") : nullptr;
    out.set("runtime_info", info ? *info : ts::Value(ts::Dict{}));
    return ts::to_json(out);
  } catch (const std::exception& e) {
    error = e.what();
    return {};
  }
}

std::string Trainer::publish(const std::string& source, const std::vector<std::string>& keys, int fd) {
  try {
    ts::Value checkpoint = ts::load(source);
    ts::Dict kept;
    for (const auto& [key, value] : checkpoint.as<ts::Dict>().items)
      if (key.is<std::string>() && std::find(keys.begin(), keys.end(), key.as<std::string>()) != keys.end())
        kept.items.emplace_back(key, value);
    ts::save(kept, fd);
    return {};
  } catch (const std::exception& e) {
    return e.what();
  }
}

}  // namespace demo
