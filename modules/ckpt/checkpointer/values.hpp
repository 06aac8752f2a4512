// The engine's plain trees as the tensor store's values, and back (C++17).
#pragma once
#include <cstdint>
#include <optional>

#include "ckpt/checkpointer/engine.hpp"
#include "ckpt/store/torch/checkpoint.hpp"

namespace ckpt::checkpointer {

torch_store::Value to_torch(const Tree& tree);
torch_store::Dict to_torch(const Tree::Dict& dict);

/// The value as a plain tree, when it is one: tuples become lists; a
/// tensor, an unsupported object or a non-str dict key has no plain form.
std::optional<Tree> to_plain(const torch_store::Value& value);

/// About what `value` takes as a file: its distinct storages' bytes plus
/// the pickle and zip records (an over-estimate for the free-space check).
std::uint64_t expected_file_size(const torch_store::Value& value);

}  // namespace ckpt::checkpointer
