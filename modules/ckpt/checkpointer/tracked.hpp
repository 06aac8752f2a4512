// What a trainer tracked, and the checkpoint file built from it: the layout
// mmengine's Runner.save_checkpoint writes (E29), or mmcv's (C55). C++17.
#pragma once
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "ckpt/checkpointer/engine.hpp"
#include "ckpt/store/torch/checkpoint.hpp"

namespace ckpt::checkpointer {

namespace ts = torch_store;

struct Custom {
  std::function<ts::Value()> save;
  std::function<void(const ts::Value&)> restore;
};

/// The file's own words for what it holds besides the hook's meta.
struct FileFacts {
  Profile profile = Profile::mmengine;
  std::string experiment_name;
  std::optional<std::int64_t> seed;
  /// Runtime info a resumed file carried that has no plain form (tensors,
  /// unsupported objects): written back as it came, after the hook's keys.
  ts::Dict foreign_runtime_info;
  /// X5: a preemption save's meta says which hook call it followed.
  std::optional<std::string> preempted_after;
};

class Tracked {
 public:
  /// The file's top-level key for a tracked name ("model" is `state_dict`).
  static std::string key_of(const std::string& name);

  void add(const std::string& name, std::variant<torch::nn::Module*, torch::optim::Optimizer*, torch::Tensor*, Custom> what);
  bool empty() const { return entries_.empty(); }

  /// The whole checkpoint for one save; its tensors are the tracked ones
  /// (no copy: the snapshot or the writer reads them).
  ts::Value file_for(const SaveRequest& save, const FileFacts& facts) const;

  /// Puts a loaded file's state into the tracked objects (strict: a
  /// tracked key missing from the file is an error naming it and `where`).
  void restore(const ts::Value& file, const std::string& where) const;

  /// Where each tracked tensor is in a file of this layout, for loading
  /// straight into it (ts::LoadOptions::into): module tensors, the
  /// optimizer's existing state, tracked tensors. Undefined elsewhere.
  ts::Into destinations() const;

  /// Every module's floating-point buffers, for C50's all-reduce.
  std::vector<torch::Tensor> buffers() const;

 private:
  struct Entry {
    std::string name;
    std::string key;
    std::variant<torch::nn::Module*, torch::optim::Optimizer*, torch::Tensor*, Custom> what;
  };
  std::vector<Entry> entries_;
};

/// `time.strftime('%Y%m%d_%H%M%S')` (mmengine) or `time.asctime()` (mmcv), now.
std::string wall_time(Profile profile);

}  // namespace ckpt::checkpointer
