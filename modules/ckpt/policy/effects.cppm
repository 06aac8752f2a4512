// ckpt.policy:effects — what a hook asks the world to do, as data.
//
// A plan is a vector of effects in the order the reference performs them.
// The shell (a filesystem/tensor adapter, or a test) applies it; the core
// never does. Every effect compares with == and prints.
module;
#include <cstdint>
#include <ostream>
#include <string>
#include <variant>
#include <vector>
export module ckpt.policy:effects;
import ckpt.py;

export namespace ckpt {

using py::Value;

/// mmengine: `runner.save_checkpoint(out_dir, filename, ...)` (E26, E36).
struct SaveCheckpoint {
  std::string out_dir;
  std::string filename;
  Value save_optimizer;
  Value save_param_scheduler;
  py::Dict meta;
  Value by_epoch;
  py::Dict extra;  // the hook's **kwargs (E1); empty for best saves (E36)
  friend bool operator==(const SaveCheckpoint&, const SaveCheckpoint&) = default;
};

/// mmcv: the runner writes `filepath` (C55, C57). `meta` is the keyword
/// the hook passed (None when it passed none), `checkpoint_meta` what the
/// file's `meta` holds.
struct LegacySaveCheckpoint {
  std::string out_dir;
  std::string filename;
  std::string filepath;
  Value save_optimizer;
  Value create_symlink;
  Value meta;
  py::Dict checkpoint_meta;
  friend bool operator==(const LegacySaveCheckpoint&, const LegacySaveCheckpoint&) = default;
};

/// Remove a checkpoint: a file is unlinked, a directory removed as a tree,
/// a missing path skipped (E16, E24, E35). Main process only. With
/// `file_client_args` set the hook removes through the legacy FileClient,
/// which has no rmtree: a directory then raises AttributeError.
struct RemoveCheckpoint {
  std::string path;
  bool can_remove_tree = true;
  friend bool operator==(const RemoveCheckpoint&, const RemoveCheckpoint&) = default;
};

/// mmcv retention (C52): for s in range(start, 0, step), remove
/// join(out_dir, tmpl.format(s)) while it is a regular file; stop at the
/// first that is not. Needs the disk to decide, so it travels as data.
struct RemoveUntilGap {
  std::string out_dir;
  std::string filename_tmpl;
  std::int64_t start = 0;
  std::int64_t step = -1;
  friend bool operator==(const RemoveUntilGap&, const RemoveUntilGap&) = default;
};

/// `runner.message_hub.update_info(key, value)` (E16, E24, E25, E35).
struct SetRuntimeInfo {
  std::string key;
  Value value;
  friend bool operator==(const SetRuntimeInfo&, const SetRuntimeInfo&) = default;
};

/// mmcv: `runner.meta` after the hook wrote `hook_msgs` (C51).
struct SetRunnerMeta {
  Value meta;
  friend bool operator==(const SetRunnerMeta&, const SetRunnerMeta&) = default;
};

/// A small text file written whole (`last_checkpoint`, E27).
struct WriteText {
  std::string path;
  std::string content;
  friend bool operator==(const WriteText&, const WriteText&) = default;
};

/// E42: load `source`, keep the top-level `keys`, write it as
/// `splitext(source)[0] + '-' + sha256(data)[:8] + '.pth'`.
struct Publish {
  std::string source;
  std::vector<std::string> keys;
  friend bool operator==(const Publish&, const Publish&) = default;
};

/// C56: `link` becomes a symbolic link whose stored target is `target`,
/// replacing what was there.
struct Symlink {
  std::string link;
  std::string target;
  friend bool operator==(const Symlink&, const Symlink&) = default;
};

/// C50: all ranks average the model's buffers (all-reduce).
struct SyncBuffers {
  friend bool operator==(const SyncBuffers&, const SyncBuffers&) = default;
};

enum class LogLevel { info, warning };

struct Log {
  LogLevel level = LogLevel::info;
  std::string message;
  friend bool operator==(const Log&, const Log&) = default;
};

using Effect = std::variant<SaveCheckpoint, LegacySaveCheckpoint, RemoveCheckpoint, RemoveUntilGap,
                            SetRuntimeInfo, SetRunnerMeta, WriteText, Publish, Symlink, SyncBuffers, Log>;
using Plan = std::vector<Effect>;

std::ostream& operator<<(std::ostream& os, const Effect& effect);
std::ostream& operator<<(std::ostream& os, const Plan& plan);

}  // namespace ckpt
