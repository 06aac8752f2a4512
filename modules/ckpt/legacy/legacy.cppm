// ckpt.legacy — mmcv 1.x CheckpointHook with EpochBasedRunner /
// IterBasedRunner.save_checkpoint (C46–C58), as one reducer.
//
// The runner's save is part of the policy here: it names the file (C54),
// merges `runner.meta` into the hook's `meta` keyword (mutating it, C55),
// and links `latest.pth` (C56). `runner.meta` lives in the state; its
// `hook_msgs` dict is shared with the hook's `meta` keyword after a save,
// which this model reproduces (C58).
module;
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <variant>
#include <vector>
export module ckpt.legacy;
export import ckpt.policy;

export namespace ckpt::legacy {

enum class RunnerKind { epoch, iter };

struct Runner {
  std::string work_dir;
  std::int64_t epoch = 0;
  std::int64_t iter = 0;
  std::int64_t max_epochs = 0;
  std::int64_t max_iters = 0;
  int rank = 0;
  friend bool operator==(const Runner&, const Runner&) = default;
};

struct BeforeRun {
  Runner runner;
  friend bool operator==(const BeforeRun&, const BeforeRun&) = default;
};
struct AfterTrainIter {
  Runner runner;
  friend bool operator==(const AfterTrainIter&, const AfterTrainIter&) = default;
};
struct AfterTrainEpoch {
  Runner runner;
  friend bool operator==(const AfterTrainEpoch&, const AfterTrainEpoch&) = default;
};
struct AfterRun {
  Runner runner;
  friend bool operator==(const AfterRun&, const AfterRun&) = default;
};

using Event = std::variant<BeforeRun, AfterTrainIter, AfterTrainEpoch, AfterRun>;

/// The mmcv release imitated unless `init` is told another: the
/// `mmcv_version` that mmcv's save_checkpoint writes into meta (C55).
inline constexpr const char* default_mmcv_version = "1.7.2";

struct State {
  LegacyConfig config;
  RunnerKind kind = RunnerKind::epoch;
  py::Value out_dir;             // C47: resolved by before_run
  bool prepared = false;         // before_run has run (the file client exists)
  py::Dict args;                 // the hook's **kwargs, as mutated by saves (C48, C55)
  bool meta_shares_hook_msgs = false;  // args['meta']['hook_msgs'] is runner.meta['hook_msgs'] (C58)
  py::Value runner_meta;         // runner.meta (None or a dict)
  std::string mmcv_version = default_mmcv_version;  // written into meta (C55)
  friend bool operator==(const State&, const State&) = default;
};

/// The runner's save_checkpoint as the hook called it (C55): kept when the
/// runner raised inside it (a non-dict meta, an unformattable template, B61),
/// so that an observer sees the call the reference made before raising.
struct SaveCall {
  py::Value out_dir;
  py::Value save_optimizer;
  py::Value create_symlink;
  py::Value meta;
  friend bool operator==(const SaveCall&, const SaveCall&) = default;
};

struct Step {
  State state;
  Plan plan;
  std::optional<py::PyError> error;
  std::optional<SaveCall> raised_in = std::nullopt;  // the save the error came from
  friend bool operator==(const Step&, const Step&) = default;
};

/// The constructor (C46: no validation at all). `mmcv_version` is the
/// release imitated (what the runner writes into meta as `mmcv_version`).
State init(LegacyConfig config, RunnerKind kind, py::Value runner_meta = py::none,
           std::string mmcv_version = default_mmcv_version);

/// What one hook call did: the plan, and the exception that ended it.
struct Outcome {
  Plan plan;
  std::optional<py::PyError> error;
  std::optional<SaveCall> raised_in = std::nullopt;  // the save the error came from
  friend bool operator==(const Outcome&, const Outcome&) = default;
};

/// One hook call, updating `state` in place (no copy of the state; the
/// form for hot loops). `step` is this on a copy.
Outcome advance(State& state, const Event& event);

/// One hook call: the reducer.
Step step(State state, const Event& event);

/// `runner.meta` as the world sees it now (the shared hook_msgs included).
py::Value runner_meta(const State& state);

/// The `time` string mmcv's save_checkpoint writes into meta. Fixed, so
/// that runs compare; the conformance adapters pin the reference's clock to it.
inline constexpr const char* fixed_time = "<time>";

std::ostream& operator<<(std::ostream& os, const Event& event);
std::ostream& operator<<(std::ostream& os, const State& state);
std::ostream& operator<<(std::ostream& os, const Step& step);

}  // namespace ckpt::legacy
