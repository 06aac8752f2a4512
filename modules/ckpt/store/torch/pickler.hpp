// Value -> pickle protocol 2, laid out as torch.save lays out an object
// tree: tensors as torch._utils._rebuild_tensor_v2 over a persistent id
// ('storage', torch.<Type>Storage, key, location, numel). The tensor bytes
// are not in the pickle: the caller writes each storage as `data/<key>`.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "checkpoint.hpp"

namespace ckpt::torch_store {

/// A storage the archive must hold as `data/<key>`: the bytes of `tensor`
/// made contiguous (still on its device; the writer copies it out).
struct StorageRecord {
  std::string key;
  at::Tensor tensor;
};

struct Pickled {
  std::string bytes;
  std::vector<StorageRecord> storages;
};

/// Every tensor is saved as its own contiguous storage at offset 0, except
/// that tensors viewing the same contiguous bytes (tied weights) share one,
/// and the same tensor object twice is one object in Python too. Throws
/// `Error` for what pickle cannot express (an undefined, sparse or quantized
/// tensor, an unsupported leaf without a recipe, absurd nesting).
/// `on_storage`, when given, sees each storage record as soon as it is
/// found, in order (the background saver starts copying then).
Pickled pickle(const Value& root, const std::function<void(const StorageRecord&)>& on_storage = {});

}  // namespace ckpt::torch_store
