// Snapshots: the tensor bytes of one or more checkpoints copied at one
// moment into one reusable buffer, plus their pickles, so that each file can
// be written later, while training goes on, without touching the caller's
// tensors again. Several checkpoints of one moment (a periodic save and a
// best save of the same model, E37) share the bytes of every tensor they
// share: each tensor is copied once. The buffer grows to the largest
// snapshot taken and is reused, so memory stays bounded.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "checkpoint.hpp"

namespace ckpt::torch_store {

class Snapshotter;

/// What `Snapshotter::take` produced; valid until the next `take` (or
/// `reserve`) on the same Snapshotter.
class Snapshot {
 public:
  /// Archives held (one per tree given to take).
  std::size_t size() const { return archives_.size(); }
  /// Writes archive `i`, byte for byte what `save` writes for its tree.
  /// Throws what the sink throws.
  void write(std::size_t i, Sink& sink) const;
  /// Distinct tensor bytes copied (each shared tensor once).
  std::uint64_t tensor_bytes() const { return tensor_bytes_; }

 private:
  friend class Snapshotter;
  struct Archive {
    std::string pickle;
    std::vector<std::pair<std::string, std::uint64_t>> entries;  // key, bytes
    std::vector<std::size_t> offsets;                             // into the buffer
  };
  std::vector<Archive> archives_;
  std::uint64_t tensor_bytes_ = 0;
  const char* buffer_ = nullptr;
  SaveOptions options_;
};

class Snapshotter {
 public:
  explicit Snapshotter(SaveOptions options = {});
  ~Snapshotter();
  Snapshotter(const Snapshotter&) = delete;
  Snapshotter& operator=(const Snapshotter&) = delete;

  /// Grows the buffer to `bytes` and touches its pages now, so that the
  /// first snapshot's cost is the copy alone. Invalidates the last snapshot.
  void reserve(std::size_t bytes);

  /// Pickles every tree and copies the bytes of their storages (CUDA ones
  /// over the bus into page-locked memory), each distinct one once. The
  /// previous snapshot must be out of use: its buffer is reused. Throws
  /// `Error` for what `save` would refuse (the previous snapshot is then
  /// invalid too). After it returns the caller may change or free its
  /// tensors.
  const Snapshot& take(const std::vector<const Value*>& trees);

  /// Bytes held for snapshots (pinned once a CUDA tensor was seen).
  std::size_t capacity() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ckpt::torch_store
