#include "ranks.hpp"

#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/torch.h>

#include <cstring>

namespace ckpt::checkpointer {

Ranks ranks_of(c10d::ProcessGroup* group) {
  if (!group) return {};
  return Ranks{group, group->getRank(), group->getSize()};
}

namespace {

// NCCL moves CUDA tensors only; Gloo CPU ones.
torch::Device device_of(const Ranks& ranks) {
  return ranks.group->getBackendName() == "nccl" ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
}

}  // namespace

std::string broadcast(const Ranks& ranks, const std::string& text) {
  if (!ranks.group || ranks.size == 1) return text;
  const auto device = device_of(ranks);
  std::vector<at::Tensor> one{torch::tensor({static_cast<std::int64_t>(text.size())}, torch::kLong).to(device)};
  ranks.group->broadcast(one)->wait();
  const auto n = one[0].item<std::int64_t>();
  if (n == 0) return {};
  at::Tensor bytes = torch::zeros({n}, torch::kUInt8);
  if (ranks.main()) std::memcpy(bytes.data_ptr(), text.data(), static_cast<std::size_t>(n));
  std::vector<at::Tensor> payload{bytes.to(device)};
  ranks.group->broadcast(payload)->wait();
  const at::Tensor host = payload[0].to(torch::kCPU);
  return std::string(static_cast<const char*>(host.data_ptr()), static_cast<std::size_t>(n));
}

int agree_max(const Ranks& ranks, int value) {
  if (!ranks.group || ranks.size == 1) return value;
  std::vector<at::Tensor> one{torch::tensor({static_cast<std::int64_t>(value)}, torch::kLong).to(device_of(ranks))};
  c10d::AllreduceOptions options;
  options.reduceOp = c10d::ReduceOp::MAX;
  ranks.group->allreduce(one, options)->wait();
  return static_cast<int>(one[0].item<std::int64_t>());
}

void average(const Ranks& ranks, const std::vector<torch::Tensor>& buffers) {
  if (!ranks.group || ranks.size == 1) return;
  torch::NoGradGuard no_grad;
  for (const auto& buffer : buffers) {
    std::vector<at::Tensor> one{buffer};
    ranks.group->allreduce(one)->wait();
    buffer.div_(ranks.size);
  }
}

}  // namespace ckpt::checkpointer
