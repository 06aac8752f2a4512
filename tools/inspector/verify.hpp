// Whether a checkpoint file is whole: zip structure, data.pkl, and the
// CRC-32 of every record. The shape of the tensor store's `verify` (branch
// load-into: zip structure and every CRC with bounded memory); until that
// lands this one loads the file with every CRC checked, and `tools/inspect
// --verify`, the torture and resume's candidates call it here. Switch
// `verify` below to ckpt::torch_store::verify when it merges. C++17.
#pragma once
#include <string>

namespace ckpt::inspect {

struct Verified {
  /// Empty when the file is valid; else one line saying why not.
  std::string error;
  bool ok() const { return error.empty(); }
};

Verified verify(const std::string& path);

}  // namespace ckpt::inspect
