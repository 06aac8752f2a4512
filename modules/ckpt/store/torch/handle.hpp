// The bridge between the torch-typed and the narrow API, for C++17 code
// that builds a checkpoint from live tensors and hands it to C++20 code.
#pragma once
#include "checkpoint.hpp"
#include "narrow.hpp"

namespace ckpt::torch_store {

Handle to_handle(Value checkpoint);
/// The checkpoint a handle holds; a null Value for an empty handle.
const Value& value_of(const Handle& handle);

}  // namespace ckpt::torch_store
