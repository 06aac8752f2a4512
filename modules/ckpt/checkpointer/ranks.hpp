// What several ranks must agree on, over the trainer's c10d ProcessGroup
// (Gloo or NCCL): the file rank 0 chose to resume from, and C50's buffers.
#pragma once
#include <torch/types.h>

#include <string>
#include <vector>

namespace c10d {
class ProcessGroup;
}

namespace ckpt::checkpointer {

struct Ranks {
  c10d::ProcessGroup* group = nullptr;
  int rank = 0;
  int size = 1;
  bool main() const { return rank == 0; }
};

Ranks ranks_of(c10d::ProcessGroup* group);

/// Rank 0's `text` on every rank.
std::string broadcast(const Ranks& ranks, const std::string& text);

/// The largest of every rank's `value` (X5: a signal one rank caught stops all).
int agree_max(const Ranks& ranks, int value);

/// mmcv C50: every rank's buffers become their average over all ranks.
void average(const Ranks& ranks, const std::vector<torch::Tensor>& buffers);

}  // namespace ckpt::checkpointer
