// JSON text -> tensor-store values, for the small dicts (meta, runtime info)
// that cross the narrow trainer header (the other way is
// ckpt::torch_store::to_json). C++17.
#pragma once
#include <string>
#include "ckpt/store/torch/checkpoint.hpp"

namespace demo {
ckpt::torch_store::Value from_json(const std::string& text);
}  // namespace demo
