// LoadOptions::into: which tensors of the loaded tree go where, decided after
// unpickling and before any storage is read. Every storage the pickle named
// gets a route; the tree gets the caller's tensors once reading is done.
// No I/O here. Internal to load.cpp.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstddef>
#include <vector>

#include "archive.hpp"
#include "checkpoint.hpp"

namespace ckpt::torch_store::detail {

/// How one described storage is read.
enum class Route {
  host,    // into memory the loader allocates: tensors without destinations, and fallbacks
  direct,  // straight into one destination's memory: no allocation, no copy
  device,  // through the pinned staging buffer onto a CUDA device
};

struct Placement {
  Route route = Route::host;
  char* memory = nullptr;   // direct: the destination's bytes
  at::Tensor device_bytes;  // device: the storage's bytes there (a destination's own, or a temporary)
};

/// A slot of the tree that receives a caller's tensor.
struct Assignment {
  Value* slot = nullptr;
  at::Tensor destination;
  std::size_t storage = 0;  // its index in Archive::described()
  /// Filled by copy_ once every storage is read and checked: from the
  /// slot's loaded tensor (host) or its view of device_bytes (device).
  bool copy = false;
};

struct Binding {
  std::vector<Placement> placements;  // by described storage
  std::vector<Assignment> assignments;
  bool writes_destinations = false;  // some read writes into a destination
};

/// Calls `into` for every tensor reached in `root` (through dict, list and
/// tuple items), checks what it returns and routes every described
/// storage (every one to the host when `into` is empty). Throws Error
/// naming the key path before anything is read.
Binding bind(Value& root, const std::vector<Described>& described, const Into& into);

/// Once every storage is read and checked: the copies, then every
/// destination into its slot.
void finish(const Binding& binding);

}  // namespace ckpt::torch_store::detail
