// The engine's plain trees as the tensor store's values, and back (C++17).
#pragma once
#include <optional>

#include "ckpt/checkpointer/engine.hpp"
#include "ckpt/store/torch/checkpoint.hpp"

namespace ckpt::checkpointer {

torch_store::Value to_torch(const Tree& tree);
torch_store::Dict to_torch(const Tree::Dict& dict);

/// The value as a plain tree, when it is one: tuples become lists; a
/// tensor, an unsupported object or a non-str dict key has no plain form.
std::optional<Tree> to_plain(const torch_store::Value& value);

}  // namespace ckpt::checkpointer
