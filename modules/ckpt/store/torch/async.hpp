// Background saves: the training loop pays for one copy of the tensor
// bytes (the snapshot), the file is written while it goes on. One snapshot
// buffer, reused, and at most one save in flight: memory stays bounded by
// the largest checkpoint's tensor bytes, and a snapshot is never
// overwritten while its file is being written.
#pragma once
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "checkpoint.hpp"

namespace ckpt::torch_store {

/// Where a background save's bytes go. `write(sink)` streams the whole
/// archive; the destination decides what a sink is and when the file
/// counts as written. Throws on failure.
using Destination = std::function<void(const std::string& path, const std::function<void(Sink&)>& write)>;

/// The default: a temporary file in `path`'s folder, synced, then renamed
/// over `path` (a reader never sees a partial checkpoint under its name).
Destination durable_file();

struct AsyncSaveOptions {
  SaveOptions save;
  /// A save asked for while another is in flight: wait for that one to
  /// finish, or refuse (save() returns false and nothing changes).
  enum class WhenBusy { wait, refuse };
  WhenBusy when_busy = WhenBusy::wait;
  /// Empty means durable_file().
  Destination destination;
};

class AsyncSaver {
 public:
  explicit AsyncSaver(AsyncSaveOptions options = {});
  /// Waits for the save in flight. Its error, if any, is lost here: call
  /// wait() before dropping a saver to learn it.
  ~AsyncSaver();
  AsyncSaver(const AsyncSaver&) = delete;
  AsyncSaver& operator=(const AsyncSaver&) = delete;

  /// Grows the snapshot buffer to `bytes` and touches its pages now, so
  /// that the first save's stall is the copy alone.
  void reserve(std::size_t bytes);

  /// Pickles `checkpoint` and copies its tensor bytes (CUDA ones over the
  /// bus into page-locked memory), then returns; the file is written in the
  /// background. After it returns the caller may change or free anything.
  /// Returns false when refused (WhenBusy::refuse and a save in flight).
  /// Throws `Error` for what `save` would refuse, before anything is
  /// written, and the previous background save's error if nobody has seen
  /// it yet through wait() (this save then does not start).
  [[nodiscard]] bool save(const Value& checkpoint, const std::string& path);

  /// Blocks until the save in flight, if any, is written (and, with the
  /// default destination, durable); throws its error.
  void wait();

  /// Whether a background write is still running.
  bool in_flight() const;

  /// Bytes held for snapshots (pinned when a CUDA tensor was saved).
  std::size_t capacity() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ckpt::torch_store
