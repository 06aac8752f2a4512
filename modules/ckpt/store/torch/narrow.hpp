// ckpt_torch_store without torch types: what C++20 code (the policy's
// adapters, which cannot include LibTorch 1.13's headers) needs to load,
// inspect, save, publish and verify checkpoints. Errors come back as text
// (empty when none), so no exception crosses into the functional core's
// callers.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "verify.hpp"  // verify(): checks a file without loading it (no torch types either)

namespace ckpt::torch_store {

/// A loaded checkpoint, opaque and immutable; copies share it.
class Handle {
 public:
  Handle();
  ~Handle();
  Handle(const Handle&);
  Handle(Handle&&) noexcept;
  Handle& operator=(const Handle&);
  Handle& operator=(Handle&&) noexcept;
  bool empty() const { return impl_ == nullptr; }

  struct Impl;  // defined where torch is available

 private:
  std::shared_ptr<const Impl> impl_;
  friend struct HandleAccess;
};

/// What is in a checkpoint, without its tensor data.
struct Summary {
  std::vector<std::string> top_level_keys;  // non-str keys as their repr
  std::size_t tensor_count = 0;             // tensors reached in the tree
  std::uint64_t tensor_bytes = 0;           // sum of their numel * element size
  std::string meta_json;                    // the `meta` entry as JSON ("null" if absent)
  friend bool operator==(const Summary& a, const Summary& b) {
    return a.top_level_keys == b.top_level_keys && a.tensor_count == b.tensor_count &&
           a.tensor_bytes == b.tensor_bytes && a.meta_json == b.meta_json;
  }
};

struct LoadedHandle {
  Handle handle;
  std::string error;
};
struct LoadedSummary {
  Summary summary;
  std::string error;
};
struct PublishedFile {
  std::string path;
  std::string sha256;
  std::string error;
};

LoadedHandle load_handle(const std::string& path);
/// Writes the checkpoint to `fd` (not closed); the error, or empty.
std::string save_handle(const Handle& handle, int fd);
Summary summarize(const Handle& handle);
/// A summary straight from a file: maps it and reads only data.pkl, so it
/// costs the same for 1 MiB and 100 GiB (tensor CRCs are not checked).
LoadedSummary load_summary(const std::string& path);
/// E42: publish `handle` filtered to `published_keys` as
/// `name_for(sha256_hex)` (pass ckpt.policy's published_name).
PublishedFile publish_handle(const Handle& handle, const std::vector<std::string>& published_keys,
                             const std::function<std::string(std::string_view sha256_hex)>& name_for);

}  // namespace ckpt::torch_store
