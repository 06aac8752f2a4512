// ckpt.hook — mmengine's CheckpointHook as one reducer.
//
// `init(config)` is the constructor (E1–E10); `step(state, event)` is one
// hook call and returns the next state, the plan of effects in the order
// the reference performs them, and the exception the reference would raise
// (after the effects before it). Replaying a run is a fold of `step`. Pure:
// the runner's counters, rank and metrics arrive in the events; the message
// hub's runtime info lives in the state and every change to it is also an
// effect, so a trainer can mirror it.
module;
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <variant>
#include <vector>
export module ckpt.hook;
export import ckpt.policy;

export namespace ckpt::hook {

/// What the hook reads from the runner during a call.
struct Runner {
  std::string work_dir;
  std::int64_t epoch = 0;
  std::int64_t iter = 0;
  std::int64_t max_epochs = 0;
  std::int64_t max_iters = 0;
  bool is_main_process = true;
  /// Wall-clock seconds when the call happens, read by the `ckpt` profile's
  /// `interval_seconds` (X4) only; the core reads no clock.
  std::optional<double> time = std::nullopt;
  friend bool operator==(const Runner&, const Runner&) = default;
};

struct BeforeTrain {
  Runner runner;
  friend bool operator==(const BeforeTrain&, const BeforeTrain&) = default;
};
struct AfterTrainIter {
  Runner runner;
  std::int64_t batch_idx = 0;
  friend bool operator==(const AfterTrainIter&, const AfterTrainIter&) = default;
};
struct AfterTrainEpoch {
  Runner runner;
  friend bool operator==(const AfterTrainEpoch&, const AfterTrainEpoch&) = default;
};
/// `metrics` keeps the evaluator's key order (E34 takes the first key).
struct AfterValEpoch {
  Runner runner;
  py::Dict metrics;
  friend bool operator==(const AfterValEpoch&, const AfterValEpoch&) = default;
};
struct AfterTrain {
  Runner runner;
  friend bool operator==(const AfterTrain&, const AfterTrain&) = default;
};

/// The `ckpt` profile's preemption (X5): a periodic-style save at the
/// current step and nothing else. The counters are read as at validation
/// (completed epochs and iterations).
struct Preempt {
  Runner runner;
  friend bool operator==(const Preempt&, const Preempt&) = default;
};

using Event = std::variant<BeforeTrain, AfterTrainIter, AfterTrainEpoch, AfterValEpoch, AfterTrain, Preempt>;

/// The hook instance plus the runtime info it reads and writes.
struct State {
  HookConfig config;
  Settings settings;
  py::Value out_dir;                       // E12: resolved by before_train
  bool prepared = false;                   // before_train has run (the file backend exists)
  py::Value best_ckpt_path;                // one key (E9, E15)
  std::optional<py::Dict> best_ckpt_paths; // several keys (E9, E15)
  std::optional<KeepIds> keep;             // E16, E24 (when max_keep_ckpts > 0)
  py::Value last_ckpt;                     // set by this instance's periodic saves (E25, E37)
  py::Dict runtime_info;                   // the message hub's runtime info
  std::optional<ExtensionSettings> extensions;  // the `ckpt` profile (X1–X5); none: mmengine
  std::optional<double> last_save_time;    // X4: when the last periodic save happened
  friend bool operator==(const State&, const State&) = default;
};

struct Step {
  State state;
  Plan plan;
  std::optional<py::PyError> error;
  friend bool operator==(const Step&, const Step&) = default;
};

/// The constructor: validation errors come back as values (event -1).
py::Result<State> init(HookConfig config, py::Dict runtime_info = {});

/// The `ckpt` profile's constructor: mmengine's checks (E1–E10), then the
/// extensions' (X1–X4).
py::Result<State> init(CkptConfig config, py::Dict runtime_info = {});

/// What one hook call did: the plan, and the exception that ended it.
struct Outcome {
  Plan plan;
  std::optional<py::PyError> error;
  friend bool operator==(const Outcome&, const Outcome&) = default;
};

/// One hook call, updating `state` in place (no copy of the state; the
/// form for hot loops). `step` is this on a copy.
Outcome advance(State& state, const Event& event);

/// One hook call: the reducer.
Step step(State state, const Event& event);

/// The runtime-info keys this hook reads or writes (E30), in `info`'s order;
/// with `extensions`, also the `ckpt` profile's (`best_kept*`, X1;
/// `last_save_time`, X4).
py::Dict hook_runtime_info(const py::Dict& info, bool extensions = false);

std::ostream& operator<<(std::ostream& os, const Event& event);
std::ostream& operator<<(std::ostream& os, const State& state);
std::ostream& operator<<(std::ostream& os, const Step& step);
std::ostream& operator<<(std::ostream& os, const Outcome& outcome);

}  // namespace ckpt::hook
