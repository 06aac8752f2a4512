// ckpt::Checkpointer — mmengine-compatible checkpointing for LibTorch
// trainers, in a few lines:
//
//   #include <ckpt/checkpointer.hpp>      // CMake: find_package(ckpt 0.2 REQUIRED), target ckpt::checkpointer
//   ckpt::Checkpointer ck({.work_dir = "work_dirs/exp",
//                          .hook = R"({"interval": 1, "max_keep_ckpts": 2, "save_best": "acc"})",
//                          .async_save = true});
//   ck.track("model", model);             // -> the file's `state_dict`
//   ck.track("optimizer", optimizer);     // -> `optimizer` (torch.optim's layout)
//   auto at = ck.resume();                // newest verifiable checkpoint, restored in place
//   ck.before_train(at, max_epochs, max_iters);
//   ... ck.after_train_iter(epoch, iter, batch_idx);
//   ... ck.after_train_epoch(epoch, iter);
//   ... ck.after_val_epoch(epoch, iter, {{"acc", 0.91}, {"loss", 0.3}});
//   ck.after_train(epoch, iter);          // returns once the last save is durable
//
// The policy is mmengine's CheckpointHook (or mmcv 1.x's), decided by the
// same pure reducer the conformance suite checks against the real hooks;
// files are what mmengine's Runner.save_checkpoint writes, in torch's zip
// format, so Python's torch.load, mmengine's load_checkpoint and
// Runner.resume read them. docs/guide.md says everything below at length.
//
// C++17 on purpose: LibTorch 1.13's headers do not compile as C++20, and a
// trainer includes this from its torch code. No C++20 modules are needed to
// use it: the policy is compiled into the library.
#pragma once
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ckpt/checkpointer/engine.hpp"
#include "ckpt/store/torch/checkpoint.hpp"

namespace c10d {
class ProcessGroup;
}

namespace ckpt {

using checkpointer::Ordering;
using checkpointer::Profile;

/// mmengine `CheckpointHook` keyword arguments, typed (E1); the defaults are
/// the reference's. An empty `save_best`/`rule` is None.
struct MmengineHook {
  std::int64_t interval = -1;
  bool by_epoch = true;
  bool save_optimizer = true;
  bool save_param_scheduler = true;
  std::optional<std::string> out_dir = {};
  std::int64_t max_keep_ckpts = -1;
  bool save_last = true;
  std::vector<std::string> save_best = {};
  std::vector<std::string> rule = {};
  std::optional<std::vector<std::string>> greater_keys = {};
  std::optional<std::vector<std::string>> less_keys = {};
  std::optional<std::string> filename_tmpl = {};
  std::optional<std::vector<std::string>> published_keys = {};
  std::int64_t save_begin = 0;
};

/// mmcv 1.x `CheckpointHook` keyword arguments, typed (C46), with the
/// runner's `filename_tmpl` and `create_symlink` (C55, C56).
struct MmcvHook {
  std::int64_t interval = -1;
  bool by_epoch = true;
  bool save_optimizer = true;
  std::optional<std::string> out_dir = {};
  std::int64_t max_keep_ckpts = -1;
  bool save_last = true;
  bool sync_buffer = false;
  std::optional<std::string> filename_tmpl = {};
  std::optional<bool> create_symlink = {};
};

// Every field has an initializer, so that `{.work_dir = ..., .hook = ...}`
// leaves the rest to their defaults without -Wextra's warnings.

/// The hook's keyword arguments: JSON text as mmengine's config writes them
/// (`R"({"interval": 1})"`; the profile is Options::profile), or typed.
class HookArgs {
 public:
  HookArgs(const char* json) : json_(json) {}
  HookArgs(std::string json) : json_(std::move(json)) {}
  HookArgs(const MmengineHook& hook);
  HookArgs(const MmcvHook& hook);
  const std::string& json() const { return json_; }
  const checkpointer::Tree& kwargs() const { return kwargs_; }
  /// The profile the typed form implies (none for JSON).
  std::optional<Profile> profile() const { return profile_; }

 private:
  std::string json_;
  checkpointer::Tree kwargs_;
  std::optional<Profile> profile_;
};

enum class LogLevel { info, warning };

struct Options {
  /// runner.work_dir: `last_checkpoint` lives here, and checkpoints too
  /// unless the hook's out_dir says otherwise (E12).
  std::string work_dir = {};
  HookArgs hook = "{}";
  /// Saves return once the tensors are copied (one copy of their bytes;
  /// CUDA tensors through pinned memory); a background thread writes the
  /// file, then applies what depends on it (last_checkpoint, evictions,
  /// publishing, latest.pth) in plan order. At most one save in flight: the
  /// next save waits for it, so memory holds one snapshot at most.
  bool async_save = false;
  /// Which hook a JSON `hook` configures (typed forms say it themselves).
  Profile profile = Profile::mmengine;
  /// mmcv: IterBasedRunner's saves (iter_{}.pth, C57) instead of EpochBasedRunner's.
  bool iter_based_runner = false;
  /// `safe`: a new checkpoint is durable before anything is evicted; the
  /// files left are the reference's. `reference`: mmengine's order (E28).
  Ordering ordering = Ordering::safe;
  /// Safe ordering: a save whose expected size exceeds the free space is
  /// refused before anything is written or removed (ckpt::Error, ENOSPC,
  /// saying how much is needed). True: such a save evicts first, as
  /// mmengine does, so the evictions make room (a crash or a failed write
  /// then loses the evicted checkpoint).
  bool evict_first_if_short = false;
  /// Several ranks: every rank makes the same calls; rank 0 alone writes and
  /// evicts; resume restores on every rank the file rank 0 chose. Not owned.
  c10d::ProcessGroup* process_group = nullptr;
  /// Where the hook's log lines go (default: stderr, as "[ckpt] ...").
  std::function<void(LogLevel, const std::string&)> log = {};
  /// Written into every checkpoint's meta, as mmengine's runner does (E29).
  std::string experiment_name = {};
  std::optional<std::int64_t> seed = {};
  /// The `ckpt` profile's preemption (X5, docs/spec/extensions.md): signals
  /// that ask for a save now. The handler only notes the signal; the next
  /// hook call does its own work, then saves at the current step (as
  /// preempt() does) and waits until that file is durable. With a process
  /// group, all ranks agree at every hook call (one all-reduce of an int),
  /// so a signal that reached one rank stops them all at the same call.
  /// Unset: SIGTERM and SIGUSR1 for the `ckpt` profile, none for the
  /// others; the others have no preemption, and a non-empty list for them
  /// is refused (AttributeError, as their hooks have no `preempt`). Empty:
  /// no handler. One Checkpointer per process may handle signals.
  std::optional<std::vector<int>> preempt_signals = {};
  /// After a preemption save: true gives the signal back the handling it
  /// had before the Checkpointer and raises it again, so the process ends
  /// as the signal would have ended it, one durable checkpoint later;
  /// false returns from the hook call, and preempted() says which signal
  /// came, for a trainer that stops by itself.
  bool exit_after_preempt = true;
};

/// Where training continues: the counters of the restored checkpoint's meta
/// (`epoch`, `iter`: completed counts as mmengine saves them, so a loop
/// starts its next epoch at `epoch` and its next iteration at `iter`), and
/// the file (empty when nothing was resumed).
struct ResumePoint {
  std::int64_t epoch = 0;
  std::int64_t iter = 0;
  std::string path = {};
  /// Safe ordering, by-epoch mmengine hook: the file is the periodic save
  /// of epoch `epoch`, written before that epoch's validation, which may
  /// never have run (the process died in between). Validate first
  /// (`after_val_epoch(epoch, iter, metrics)` right after before_train),
  /// then train on: the run then ends as an uninterrupted one. Harmless
  /// when the validation had run: an equal score never wins (E35).
  bool validate_first = false;
  bool resumed() const { return !path.empty(); }
};

/// Metrics in the evaluator's order (E34: `save_best="auto"` takes the first).
using Metrics = std::vector<std::pair<std::string, double>>;

class Checkpointer {
 public:
  /// Validates the hook's arguments as the reference's constructor does;
  /// throws ckpt::Error (type, parameter, value, clause).
  explicit Checkpointer(Options options);
  /// Waits for a save in flight; a failure it meets is logged (call
  /// after_train() or wait() to have it thrown).
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  /// What goes into every checkpoint, under the file's top-level keys:
  /// a module named "model" is `state_dict` (Module.state_dict()'s layout:
  /// parameters and buffers, Python's order), an optimizer named
  /// "optimizer" is `optimizer` (torch.optim's state_dict for SGD, Adam,
  /// AdamW) and is left out where the hook says (save_optimizer, E36); any
  /// other name is a key of its own. Tracked objects must outlive the
  /// Checkpointer. Throws ckpt::Error for a name given twice or an
  /// unsupported optimizer.
  void track(const std::string& name, torch::nn::Module& module);
  void track(const std::string& name, torch::optim::Optimizer& optimizer);
  /// A tensor of extra state, restored in place.
  void track(const std::string& name, torch::Tensor& tensor);
  /// Any other state as a value tree: `save` gives it at each save,
  /// `restore` receives it on resume. "param_schedulers" is left out where
  /// the hook says (save_param_scheduler, E36).
  void track(const std::string& name, std::function<torch_store::Value()> save,
             std::function<void(const torch_store::Value&)> restore);

  /// Restores the newest checkpoint of this run that verifies (zip
  /// structure and every record's CRC-32): the one work_dir/last_checkpoint
  /// names, else — saying which and why — the newest periodic checkpoint
  /// in out_dir. Tensors are loaded into the tracked tensors' own storage;
  /// optimizer state and the hook's runtime info (retention, best scores)
  /// come back too. Nothing to resume from: {0, 0, ""}. Call before
  /// before_train. It also removes what a killed run left unfinished
  /// (temporary files; under the safe ordering the eviction and best-file
  /// removal that were pending) and says whether to validate first.
  ResumePoint resume();
  /// Restores that file (same rules, no fallback).
  ResumePoint resume(const std::string& path);

  /// The hook points, with the runner's counters as mmengine's loops pass
  /// them (0-based; see docs/guide.md):
  ///  - before_train: where training starts (resume()'s point), and the
  ///    loop's length (E17, E18 save_last);
  ///  - after_train_iter(epoch, iter, batch_idx): `iter` is the iteration
  ///    just run (0-based: the first is 0), `epoch` the current (0-based);
  ///  - after_train_epoch(epoch, iter): `epoch` the epoch just run
  ///    (0-based), `iter` the iterations completed so far;
  ///  - after_val_epoch(epoch, iter, metrics): completed counts (after the
  ///    first epoch: epoch 1), as mmengine's runner has them then (E33);
  ///  - after_train(epoch, iter): completed counts; returns once every save
  ///    is durable.
  /// Each throws ckpt::Error where the reference raises (the hook's state
  /// is then as before the call), and for a save that failed — this call's,
  /// or an earlier background one's — naming the path and errno; the hook's
  /// state is then as before that save's call, nothing was evicted for it,
  /// and the same call can be made again.
  void before_train(const ResumePoint& at, std::int64_t max_epochs, std::int64_t max_iters);
  void after_train_iter(std::int64_t epoch, std::int64_t iter, std::int64_t batch_idx);
  void after_train_epoch(std::int64_t epoch, std::int64_t iter);
  void after_val_epoch(std::int64_t epoch, std::int64_t iter, const Metrics& metrics);
  void after_train(std::int64_t epoch, std::int64_t iter);

  /// The `ckpt` profile (X5): a periodic-style save at the current step,
  /// now, and nothing else (no best checkpoint, no publishing); durable on
  /// return. Counters are completed counts, as after_val_epoch's: `epoch`
  /// epochs and `iter` iterations done. A by-epoch hook names the file
  /// after `epoch` (a preemption mid-epoch rewrites that epoch's file, with
  /// meta {epoch, iter}: resume() then gives the iteration to go on from).
  /// Other profiles: ckpt::Error (AttributeError, X5).
  void preempt(std::int64_t epoch, std::int64_t iter);
  /// The signal whose preemption save was made (with exit_after_preempt
  /// false, or when its old handling returned); 0: none.
  int preempted() const;

  /// Blocks until the save in flight (if any) is durable; throws its error.
  void wait();
  /// Whether a background save is still being written.
  bool saving() const;
  /// The hook's runtime info (E30: keep_ckpt_ids, last_ckpt, best_*), JSON.
  std::string runtime_info_json() const;
  /// Where this run's checkpoints go (E12).
  std::string out_dir() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ckpt
