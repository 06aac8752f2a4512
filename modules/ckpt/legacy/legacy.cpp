// Bodies of ckpt.legacy: mmcv's hook methods and the runners' save, in the
// reference's order. See the interface for the aliasing it reproduces.
module;
#include "ckpt/internal/overload.hpp"
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <variant>
module ckpt.legacy;

namespace ckpt::legacy {

namespace {

using internal::overload;

using Error = std::optional<py::PyError>;

struct Txn {
  State& s;
  Plan plan;
  std::optional<SaveCall> save_call;  // the runner's save being carried out
};

// The hook's meta keyword as the runner receives it: hook_msgs shared with runner.meta.
py::Value meta_keyword(const State& s) {
  const py::Value* kw = py::find(s.args, "meta");
  if (!kw) return py::none;
  py::Value meta = *kw;
  if (s.meta_shares_hook_msgs && meta.is<py::Dict>() && s.runner_meta.is<py::Dict>())
    if (const auto* msgs = py::find(s.runner_meta.as<py::Dict>(), "hook_msgs"))
      py::set(meta.as<py::Dict>(), "hook_msgs", *msgs);
  return meta;
}

// C47, C48.
Error before_run(Txn& t, const Runner& r) {
  State& s = t.s;
  if (!py::truthy(s.out_dir)) s.out_dir = r.work_dir;
  if (auto e = check_file_client(s.config.file_client_args, s.out_dir, "C47")) return e;
  s.prepared = true;
  auto out_dir = derive_out_dir(s.out_dir, r.work_dir, "C47");
  if (!out_dir) return out_dir.error();
  s.out_dir = *out_dir;
  t.plan.push_back(Log{LogLevel::info, "Checkpoints will be saved to " + *out_dir + " by HardDiskBackend."});
  if (!py::find(s.args, "create_symlink")) py::set(s.args, "create_symlink", true);  // local disk allows links
  return std::nullopt;
}

// The runner's save_checkpoint (C55, C56, C57).
Error runner_save(Txn& t, const Runner& r) {
  State& s = t.s;
  bool epoch_runner = s.kind == RunnerKind::epoch;
  py::Value tmpl = epoch_runner ? "epoch_{}.pth" : "iter_{}.pth";
  py::Value create_symlink = true;
  for (const auto& [key, value] : s.args) {
    if (key == "filename_tmpl") tmpl = value;
    else if (key == "create_symlink") create_symlink = value;
    else if (key == "meta") continue;
    else if (key == "save_optimizer" || key == "out_dir")
      return py::type_error("save_checkpoint() got multiple values for argument '" + key + "'", "C55");
    else return py::type_error("save_checkpoint() got an unexpected keyword argument '" + key + "'", "C55");
  }
  py::Value passed = meta_keyword(s);
  // the call is made (Python bound its arguments); what follows runs inside it
  t.save_call = SaveCall{s.out_dir, s.config.save_optimizer, create_symlink, passed};
  if (!passed.is_none() && !passed.is<py::Dict>())
    return py::type_error("meta should be a dict or None, but got " + py::class_repr(passed), "C55");
  py::Dict meta = passed.is_none() ? py::Dict{} : passed.as<py::Dict>();
  bool shares = false;
  if (!s.runner_meta.is_none()) {
    if (!s.runner_meta.is<py::Dict>())
      return py::type_error("'" + std::string(py::type_name(s.runner_meta)) + "' object is not iterable", "C55");
    for (const auto& [key, value] : s.runner_meta.as<py::Dict>()) py::set(meta, key, value);
    const auto* msgs = py::find(s.runner_meta.as<py::Dict>(), "hook_msgs");
    shares = msgs && msgs->is<py::Dict>();
  }
  py::set(meta, "epoch", r.epoch + 1);
  py::set(meta, "iter", r.iter);
  auto filename = checkpoint_name(tmpl, py::Value(epoch_runner ? r.epoch + 1 : r.iter + 1));
  if (!filename) return py::with_clause(filename.error(), "C55");
  if (!s.out_dir.is<std::string>())
    return py::type_error("expected str, bytes or os.PathLike object, not " + std::string(py::type_name(s.out_dir)),
                          "C55");
  const auto& out_dir = s.out_dir.as<std::string>();
  std::string filepath = py::path::join(out_dir, *filename);
  py::set(meta, "mmcv_version", s.mmcv_version);
  py::set(meta, "time", fixed_time);
  t.plan.push_back(LegacySaveCheckpoint{out_dir, *filename, filepath, s.config.save_optimizer, create_symlink, passed,
                                        meta});
  t.save_call.reset();  // done: the effect itself records it
  if (!passed.is_none()) {  // the runner updated the hook's own dict
    py::set(s.args, "meta", meta);
    s.meta_shares_hook_msgs = shares;
  }
  if (py::truthy(create_symlink)) t.plan.push_back(Symlink{py::path::join(out_dir, "latest.pth"), *filename});
  return std::nullopt;
}

// C51, C52: `_save_checkpoint`, rank 0 only.
Error save_checkpoint(Txn& t, const Runner& r) {
  State& s = t.s;
  if (auto e = runner_save(t, r)) return e;
  bool by_epoch = py::truthy(s.config.by_epoch);
  std::int64_t current = by_epoch ? r.epoch + 1 : r.iter + 1;
  const py::Value* given_tmpl = py::find(s.args, "filename_tmpl");
  py::Value tmpl = given_tmpl ? *given_tmpl : py::Value(by_epoch ? "epoch_{}.pth" : "iter_{}.pth");
  if (!s.runner_meta.is_none()) {
    auto name = checkpoint_name(tmpl, py::Value(current));
    if (!name) return py::with_clause(name.error(), "C51");
    auto& meta = s.runner_meta.as<py::Dict>();
    if (!py::find(meta, "hook_msgs")) py::set(meta, "hook_msgs", py::Dict{});
    auto* msgs = py::find(meta, "hook_msgs");
    if (!msgs->is<py::Dict>())
      return py::type_error("'" + std::string(py::type_name(*msgs)) + "' object does not support item assignment",
                            "C51");
    if (!s.prepared) return py::attribute_error("'CheckpointHook' object has no attribute 'file_client'", "C51");
    py::set(msgs->as<py::Dict>(), "last_ckpt", py::path::join(s.out_dir.as<std::string>(), *name));
    t.plan.push_back(SetRunnerMeta{s.runner_meta});
  }
  auto keep_positive = py::compare(s.config.max_keep_ckpts, py::Cmp::gt, py::Value(0));
  if (!keep_positive) return py::with_clause(keep_positive.error(), "C52");
  if (!*keep_positive) return std::nullopt;
  auto series = legacy_retention(s.out_dir.is<std::string>() ? s.out_dir.as<std::string>() : std::string(), tmpl,
                                 current, s.config.max_keep_ckpts, s.config.interval);
  if (!series) return series.error();
  if (*series) {
    if (!s.prepared) return py::attribute_error("'CheckpointHook' object has no attribute 'file_client'", "C52");
    t.plan.push_back(**series);
  }
  return std::nullopt;
}

// C49, C50.
Error after_train_step(Txn& t, const Runner& r, bool epoch_call) {
  State& s = t.s;
  if (py::truthy(s.config.by_epoch) != epoch_call) return std::nullopt;
  std::int64_t counter = epoch_call ? r.epoch : r.iter;
  std::int64_t max = epoch_call ? r.max_epochs : r.max_iters;
  auto save = legacy_should_save(counter, max, s.config.interval, s.config.save_last);
  if (!save) return save.error();
  if (!*save) return std::nullopt;
  t.plan.push_back(Log{LogLevel::info, "Saving checkpoint at " + std::to_string(counter + 1) +
                                           (epoch_call ? " epochs" : " iterations")});
  if (py::truthy(s.config.sync_buffer)) t.plan.push_back(SyncBuffers{});
  if (r.rank != 0) return std::nullopt;
  return save_checkpoint(t, r);
}

}  // namespace

State init(LegacyConfig config, RunnerKind kind, py::Value meta, std::string mmcv_version) {
  State s;
  s.mmcv_version = std::move(mmcv_version);
  s.out_dir = config.out_dir;
  s.args = config.extra;
  s.config = std::move(config);
  s.kind = kind;
  s.runner_meta = std::move(meta);
  return s;
}

Outcome advance(State& state, const Event& event) {
  Txn t{state, {}, std::nullopt};
  // Counters the policy cannot add to exactly fail before any rule runs.
  if (Error range = std::visit([](const auto& e) { return runner_out_of_range(e.runner); }, event))
    return {{}, std::move(range), std::nullopt};
  Error error = std::visit(overload{
                               [&](const BeforeRun& e) { return before_run(t, e.runner); },
                               [&](const AfterTrainIter& e) { return after_train_step(t, e.runner, false); },
                               [&](const AfterTrainEpoch& e) { return after_train_step(t, e.runner, true); },
                               [&](const AfterRun&) { return Error{}; },
                           },
                           event);
  std::optional<SaveCall> raised_in = error ? std::move(t.save_call) : std::nullopt;
  return {std::move(t.plan), std::move(error), std::move(raised_in)};
}

Step step(State state, const Event& event) {
  auto out = advance(state, event);
  return {std::move(state), std::move(out.plan), std::move(out.error), std::move(out.raised_in)};
}

py::Value runner_meta(const State& state) { return state.runner_meta; }

std::ostream& operator<<(std::ostream& os, const Event& event) {
  auto where = [&](const Runner& r) { os << "epoch=" << r.epoch << ", iter=" << r.iter; };
  std::visit(overload{
                 [&](const BeforeRun& e) { os << "before_run("; where(e.runner); os << ")"; },
                 [&](const AfterTrainIter& e) { os << "after_train_iter("; where(e.runner); os << ")"; },
                 [&](const AfterTrainEpoch& e) { os << "after_train_epoch("; where(e.runner); os << ")"; },
                 [&](const AfterRun& e) { os << "after_run("; where(e.runner); os << ")"; },
             },
             event);
  return os;
}

std::ostream& operator<<(std::ostream& os, const State& s) {
  return os << "legacy::State(out_dir=" << s.out_dir << ", args=" << py::Value(s.args)
            << ", runner_meta=" << s.runner_meta << ", mmcv_version=" << s.mmcv_version << ")";
}

std::ostream& operator<<(std::ostream& os, const Step& st) {
  os << "Step(plan=" << st.plan;
  if (st.error) os << ", error=" << *st.error;
  return os << ")";
}

}  // namespace ckpt::legacy
