// The Checkpointer's engine: the policy (ckpt.hook or ckpt.legacy) and the
// plan interpreter (ckpt.store.fs) behind a header with neither modules nor
// torch types, so that the C++17 torch side can drive them. The engine owns
// the hook's state, and with it the runtime info (one owner); it never
// touches tensors: a save's bytes come from a Writer the torch side gives.
//
// Threads: `advance` and `rollback` run on the training thread; `apply`
// reads nothing `advance` changes, so a background thread may apply one
// Job while the training thread advances the next event.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "ckpt/internal/sink.hpp"

namespace ckpt {

/// The one exception the Checkpointer throws. For a configuration error or
/// an exception the reference raises at an event: `type` is the reference's
/// exception class (`ValueError`, `TypeError`, ...), with `parameter`,
/// `value` (as Python's repr shows it) and the spec `clause` where known.
/// For a failed system call: `type` is "OSError", with `path` and `err`
/// (errno). what() says all of it in one line.
struct Error : std::runtime_error {
  Error(const std::string& what, std::string type) : std::runtime_error(what), type(std::move(type)) {}
  std::string type;
  std::string parameter;
  std::string value;
  std::string clause;
  std::string path;
  int err = 0;
};

}  // namespace ckpt

namespace ckpt::checkpointer {

/// A plain value crossing between the policy and the torch side: what the
/// hook's runtime info, metas and keyword arguments hold (no tensors).
struct Tree {
  using List = std::vector<Tree>;
  using Dict = std::vector<std::pair<std::string, Tree>>;
  std::variant<std::monostate, bool, std::int64_t, double, std::string, List, Dict> v;

  Tree() = default;
  Tree(bool b) : v(b) {}
  Tree(std::int64_t i) : v(i) {}
  Tree(int i) : v(std::int64_t{i}) {}
  Tree(double d) : v(d) {}
  Tree(const char* s) : v(std::string(s)) {}
  Tree(std::string s) : v(std::move(s)) {}
  Tree(List l) : v(std::move(l)) {}
  Tree(Dict d) : v(std::move(d)) {}
  template <class T>
  bool is() const { return std::holds_alternative<T>(v); }
  template <class T>
  const T& as() const { return std::get<T>(v); }
};

/// JSON text for a tree (for people and logs; nothing in the process reads it back).
std::string to_json(const Tree& tree);

/// `ckpt`: mmengine's hook plus the opt-in keywords X1–X5
/// (docs/spec/extensions.md); with them at their defaults, mmengine's.
enum class Profile { mmengine, mmcv, ckpt };
enum class Ordering { safe, reference };
/// `preempt`: the `ckpt` profile's X5 event (completed counters).
enum class Hook { before_train, after_train_iter, after_train_epoch, after_val_epoch, after_train, preempt };

/// The hook's method name, as logs and errors give it.
inline const char* hook_name(Hook hook) {
  static const char* const names[] = {"before_train", "after_train_iter", "after_train_epoch", "after_val_epoch",
                                      "after_train", "preempt"};
  return names[static_cast<int>(hook)];
}

struct EngineConfig {
  std::string work_dir;
  Profile profile = Profile::mmengine;
  /// The hook's keyword arguments: JSON text (`hook_json`) when not empty,
  /// else `hook_kwargs` (a Dict).
  std::string hook_json;
  Tree hook_kwargs;
  Ordering ordering = Ordering::safe;
  bool main_process = true;
  /// mmcv: IterBasedRunner rather than EpochBasedRunner.
  bool iter_runner = false;
  /// Safe ordering, free space short: evict first (store::Options).
  bool evict_first_if_short = false;
};

/// One checkpoint a plan writes, and what its file holds besides tensors.
struct SaveRequest {
  std::size_t effect = 0;  // its place in the plan
  std::string path;
  /// mmengine: the hook's meta (epoch, iter); mmcv: the file's whole meta.
  Tree::Dict meta;
  /// mmengine: the message hub's runtime info at this save (E25 before E26).
  Tree::Dict runtime_info;
  bool save_optimizer = true;
  bool save_param_scheduler = true;  // mmengine
  bool best = false;                 // E36: a best checkpoint
};

struct PublishRequest {
  std::size_t effect = 0;
  std::string source;
  std::vector<std::string> keys;
};

/// One hook call's plan, to apply now or in the background.
class Job {
 public:
  Job();
  ~Job();
  Job(const Job&);
  Job& operator=(const Job&);
  Job(Job&&) noexcept;
  Job& operator=(Job&&) noexcept;
  /// Checkpoints the plan writes, in plan order (a best save and the E37
  /// re-save of one event: two).
  const std::vector<SaveRequest>& saves() const;
  /// Whether anything reaches the disk (or the runtime info) at all.
  bool empty() const;
  /// The plan's log lines: (is_warning, message).
  const std::vector<std::pair<bool, std::string>>& logs() const;
  /// mmcv C50: all ranks average the model's buffers before the save.
  bool sync_buffers() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
  friend class Engine;
};

/// What applying a Job did.
struct Applied {
  std::vector<std::string> written;
  std::vector<std::string> removed;
  /// The first failure (the rest of the plan was not applied): an OSError
  /// naming the path and errno, or what the writer threw.
  std::optional<Error> error;
  /// Space was short and the plan evicted first (evict_first_if_short).
  bool evicted_first = false;
};

/// What resuming did beyond restoring the file (see Engine::converge).
struct Converged {
  std::vector<std::string> removed;
  /// The resumed checkpoint's step was saved before its validation, which
  /// may never have run: the trainer validates first (after_val_epoch).
  bool validate_first = false;
};

/// A checkpoint's recorded keep_ckpt_ids (mmengine), nullopt when unreadable.
using KeepIdsOf = std::function<std::optional<std::vector<std::int64_t>>(const std::string& path)>;

using Writer = std::function<void(const SaveRequest&, internal::Sink&)>;
using Publisher = std::function<void(const PublishRequest&, internal::Sink&)>;

class Engine {
 public:
  /// Validates the configuration as the reference's constructor does;
  /// throws Error.
  explicit Engine(EngineConfig config);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// Runtime info of a resumed run (the message hub's), before before_train.
  void set_runtime_info(const Tree::Dict& info);
  Tree::Dict runtime_info() const;
  /// Only the keys the hook reads or writes (E30).
  Tree::Dict hook_runtime_info() const;

  /// One hook call. Counters are the runner's as that hook sees them (see
  /// checkpointer.hpp). Throws Error where the reference raises; the state
  /// is then as before the call and nothing was applied. The `ckpt`
  /// profile's events carry the wall-clock time (X4), read here.
  Job advance(Hook hook, std::int64_t epoch, std::int64_t iter, std::int64_t batch_idx,
              const std::vector<std::pair<std::string, double>>& metrics, std::int64_t max_epochs,
              std::int64_t max_iters);

  /// Applies a Job's plan through the store (safe or reference ordering,
  /// containment, durable writes). Other ranks apply nothing to the disk.
  /// `sizes`: the bytes each of job.saves() is expected to write (the
  /// free-space check of the safe ordering); empty: the store estimates.
  Applied apply(const Job& job, const Writer& write, const Publisher& publish,
                const std::vector<std::uint64_t>& sizes = {}) const;

  /// The hook's state as before `job`'s event (its plan failed to apply).
  void rollback(const Job& job);

  /// Where this run's checkpoints go (E12/C47), as before_train derives it.
  std::string out_dir() const;
  /// Checkpoints a resume may start from, best first: the file
  /// work_dir/last_checkpoint names (when it exists), then the periodic
  /// files in out_dir that the filename template names, newest step first.
  std::vector<std::string> resume_candidates() const;

  /// After a resume restored `path` (empty: nothing was resumed), every
  /// rank: removes the temporary files killed writes left (rank 0; both
  /// orderings), and under the safe ordering what the crashed run had not
  /// finished, so the resumed run ends as an uninterrupted one would:
  /// mmengine's pending eviction (E24) and best files the runtime info no
  /// longer names (E35), mmcv's pending retention (C52) (rank 0); the hook
  /// instance continues (a periodic checkpoint was saved: E37, E41); and
  /// whether the step's validation is to be run first. `epoch` is the
  /// resumed meta's. Throws Error for a store failure.
  Converged converge(const std::string& path, std::int64_t epoch, const KeepIdsOf& keep_ids_of);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ckpt::checkpointer
