// Bodies of ckpt.hook: each hook method as the reference orders its work.
// A `Txn` accumulates the next state and the plan; an error stops the call
// after the effects already planned, as an exception would.
module;
#include "ckpt/internal/overload.hpp"
#include <cstddef>
#include <cstdint>
#include <gsl/assert>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <variant>
#include <vector>
module ckpt.hook;

namespace ckpt::hook {

namespace {

using internal::overload;

using Error = std::optional<py::PyError>;

struct Txn {
  State& s;
  Plan plan;

  void info(const std::string& key, py::Value value) {
    py::set(s.runtime_info, key, value);
    plan.push_back(SetRuntimeInfo{key, std::move(value)});
  }
  void log(std::string message, LogLevel level = LogLevel::info) { plan.push_back(Log{level, std::move(message)}); }
};

py::PyError no_attribute(const char* name, const char* clause) {
  return py::attribute_error(std::string("'CheckpointHook' object has no attribute '") + name + "'", clause);
}

// The legacy FileClient (used when file_client_args is set) has no rmtree.
bool tree_ok(const State& s) { return s.config.file_client_args.is_none(); }

bool single_key(const State& s) { return s.settings.save_best && s.settings.key_rules.keys.size() == 1; }

// X2: retention forgets the step but leaves its file.
bool archived(const State& s, const py::Value& step) { return s.extensions && archival(*s.extensions, step); }

// E36, X3: what a best save passes.
SaveCheckpoint best_save(const State& s, const std::string& name, const py::Dict& meta) {
  bool resumable = s.extensions && s.extensions->best_save_optimizer;
  return SaveCheckpoint{s.out_dir.as<std::string>(), name, resumable, resumable ? s.config.save_param_scheduler : false,
                        meta, false, {}};
}

// E12: what FileClient.infer_client and get_file_backend accept (local disk only).
Error check_backend(const HookConfig& c, const py::Value& out_dir) {
  if (auto e = check_file_client(c.file_client_args, out_dir, c.file_client_args.is_none() ? "E12" : "E3")) return e;
  const auto& b = c.backend_args;
  if (!b.is_none() && c.file_client_args.is_none()) {
    if (!b.is<py::Dict>()) return py::type_error("backend_args must be a dict", "E12");
    for (const auto& [key, value] : b.as<py::Dict>()) {
      if (key != "backend") return py::type_error("__init__() got an unexpected keyword argument '" + key + "'", "E12");
      if (!(value.is<std::string>() && value.as<std::string>() == "local"))
        return py::value_error("Backend " + py::str(value) + " is not supported by ckpt (local disk only).", "E12");
    }
  }
  return std::nullopt;
}

// E24–E27: `_save_checkpoint_with_step`.
Error save_with_step(Txn& t, const Runner& r, const py::Value& step, const py::Dict& meta) {
  State& s = t.s;
  auto keep_positive = py::compare(s.config.max_keep_ckpts, py::Cmp::gt, py::Value(0));
  if (!keep_positive) return py::with_clause(keep_positive.error(), "E24");
  if (*keep_positive) {
    if (!s.keep) return no_attribute("keep_ckpt_ids", "E24");
    auto kept = retain(*s.keep, s.config.max_keep_ckpts, step);
    if (!kept) return kept.error();
    if (kept->evicted && r.is_main_process) {
      if (!s.prepared) return no_attribute("file_backend", "E24");
      auto name = checkpoint_name(s.settings.filename_tmpl, *kept->evicted);
      if (!name) return py::with_clause(name.error(), "B61");
      if (!archived(s, *kept->evicted))
        t.plan.push_back(RemoveCheckpoint{py::path::join(s.out_dir.as<std::string>(), *name), tree_ok(s)});
    }
    s.keep = kept->keep;
    if (kept->appended) t.info("keep_ckpt_ids", py::List(s.keep->ids.begin(), s.keep->ids.end()));
  }
  auto filename = checkpoint_name(s.settings.filename_tmpl, step);
  if (!filename) return py::with_clause(filename.error(), "B61");
  if (!s.prepared) return no_attribute("file_backend", "E25");
  Expects(s.out_dir.is<std::string>());  // before_train resolved it (E12)
  const auto& out_dir = s.out_dir.as<std::string>();
  s.last_ckpt = py::path::join(out_dir, *filename);
  t.info("last_ckpt", s.last_ckpt);
  // E43: the runner's save_checkpoint has a fixed signature.
  for (const auto& [key, _] : s.config.extra) {
    bool positional = key == "out_dir" || key == "filename" || key == "file_client_args" || key == "meta" ||
                      key == "by_epoch" || key == "backend_args" || key == "save_optimizer" ||
                      key == "save_param_scheduler";
    return py::type_error(positional ? "save_checkpoint() got multiple values for argument '" + key + "'"
                                     : "save_checkpoint() got an unexpected keyword argument '" + key + "'",
                          "E43");
  }
  t.plan.push_back(SaveCheckpoint{out_dir, *filename, s.config.save_optimizer, s.config.save_param_scheduler, meta,
                                  s.config.by_epoch, s.config.extra});
  if (r.is_main_process)
    t.plan.push_back(WriteText{py::path::join(r.work_dir, "last_checkpoint"), s.last_ckpt.as<std::string>()});
  if (s.extensions && s.extensions->interval_seconds && r.time) {  // X4: the clock restarts at each periodic save
    s.last_save_time = r.time;
    t.info("last_save_time", *r.time);
  }
  return std::nullopt;
}

// E11–E16.
Error before_train(Txn& t, const Runner& r) {
  State& s = t.s;
  if (s.out_dir.is_none()) s.out_dir = r.work_dir;
  if (auto e = check_backend(s.config, s.out_dir)) return e;
  s.prepared = true;
  auto out_dir = derive_out_dir(s.out_dir, r.work_dir, "E12");
  if (!out_dir) return out_dir.error();
  s.out_dir = *out_dir;
  t.log("Checkpoints will be saved to " + *out_dir + ".");
  if (s.settings.save_best) {  // E15
    if (single_key(s)) {
      const auto* stored = py::find(s.runtime_info, "best_ckpt");
      s.best_ckpt_path = stored ? *stored : py::Value();
    } else {
      if (!s.best_ckpt_paths) s.best_ckpt_paths = py::Dict{};
      for (const auto& key : s.settings.key_rules.keys) {
        const auto* stored = py::find(s.runtime_info, "best_ckpt_" + key);
        py::set(*s.best_ckpt_paths, key, stored ? *stored : py::Value());
      }
    }
  }
  auto keep_positive = py::compare(s.config.max_keep_ckpts, py::Cmp::gt, py::Value(0));
  if (!keep_positive) return py::with_clause(keep_positive.error(), "E16");
  if (*keep_positive) {  // E16
    const auto* stored = py::find(s.runtime_info, "keep_ckpt_ids");
    auto trim = trim_resumed(stored, s.config.max_keep_ckpts);
    if (!trim) return trim.error();
    // get_info hands out the stored list itself, so each pop trims it in
    // place before its file is removed: a removal that raises leaves the
    // runtime info already without that step.
    py::List remaining = trim->dropped;
    if (!trim->dropped.empty())
      for (const auto& x : trim->stored_after.as<py::List>()) remaining.push_back(x);
    for (std::size_t i = 0; i < trim->dropped.size(); ++i) {
      t.info("keep_ckpt_ids", py::Value(py::List(remaining.begin() + static_cast<std::ptrdiff_t>(i) + 1, remaining.end())));
      if (!r.is_main_process) continue;
      auto name = checkpoint_name(s.settings.filename_tmpl, trim->dropped[i]);
      if (!name) return py::with_clause(name.error(), "B61");
      if (!archived(s, trim->dropped[i])) t.plan.push_back(RemoveCheckpoint{py::path::join(*out_dir, *name), tree_ok(s)});
    }
    auto keep = bounded_ids(trim->stored_after, s.config.max_keep_ckpts);
    if (!keep) return keep.error();
    s.keep = *keep;
  }
  if (s.extensions && s.extensions->interval_seconds) {  // X4: a resumed run counts from its last save
    const auto* stored = py::find(s.runtime_info, "last_save_time");
    s.last_save_time = stored && !stored->is<bool>() && py::is_number(*stored) ? std::optional(py::to_double(*stored))
                                                                                : r.time;
  }
  return std::nullopt;
}

// E17, E18, E23.
Error after_train_step(Txn& t, const Runner& r, bool epoch_call) {
  State& s = t.s;
  if (py::truthy(s.config.by_epoch) != epoch_call) return std::nullopt;
  std::int64_t counter = epoch_call ? r.epoch : r.iter;
  std::int64_t max = epoch_call ? r.max_epochs : r.max_iters;
  auto save = should_save(counter, max, s.config.interval, s.config.save_begin, s.config.save_last);
  if (!save) return py::with_clause(save.error(), epoch_call ? "E17" : "E18");
  bool timed = false;
  if (!*save && s.extensions && s.extensions->interval_seconds) {  // X4
    timed = time_due(*s.extensions, s.last_save_time, r.time);
    if (!s.last_save_time) s.last_save_time = r.time;  // the first timed call starts the clock
  }
  if (!*save && !timed) return std::nullopt;
  t.log("Saving checkpoint at " + std::to_string(counter + 1) + (epoch_call ? " epochs" : " iterations") +
        (timed ? " (interval_seconds)" : ""));
  auto sm = periodic_step(epoch_call, r.epoch, r.iter);
  return save_with_step(t, r, py::Value(sm.step), sm.meta);
}

// X1: keep_best > 1. The kept list lives in runtime info (`best_kept` /
// `best_kept_<key>`); best_score / best_ckpt stay mmengine's (the best one).
Error keep_best_n(Txn& t, const Runner& r, const std::string& key, bool single, const py::Value& score,
                  const py::Value* stored_best, const py::Value& previous, Rule rule, const std::string& filename,
                  const StepMeta& sm, bool& new_best) {
  State& s = t.s;
  const std::string kept_key = single ? "best_kept" : "best_kept_" + key;
  std::vector<BestEntry> kept;
  if (const auto* stored = py::find(s.runtime_info, kept_key)) kept = kept_from_value(*stored);
  else if (stored_best && previous.is<std::string>() && py::truthy(previous))  // resumed from one best (E15)
    kept = {BestEntry{*stored_best, previous.as<std::string>()}};
  std::string name = best_name(key, filename);
  std::string path = s.prepared ? py::path::join(s.out_dir.as<std::string>(), name) : name;
  auto update = keep_best(std::move(kept), score, path, rule, s.extensions->keep_best);
  if (!update) return py::with_clause(update.error(), "X1");
  if (!update->rank) return std::nullopt;
  if (!s.prepared) return no_attribute("file_backend", "X1");
  new_best = *update->rank == 0;
  if (new_best) t.info(single ? "best_score" : "best_score_" + key, score);
  if (r.is_main_process)
    for (const auto& evicted : update->evicted) t.plan.push_back(RemoveCheckpoint{evicted, tree_ok(s)});
  t.info(kept_key, kept_to_value(update->kept));
  if (new_best) {
    if (single) s.best_ckpt_path = path;
    else py::set(*s.best_ckpt_paths, key, path);
    t.info(single ? "best_ckpt" : "best_ckpt_" + key, path);
  }
  t.plan.push_back(best_save(s, name, sm.meta));
  auto shown = py::format_one(score, "0.4f");
  t.log("A top-" + std::to_string(s.extensions->keep_best) + " checkpoint with " + (shown ? *shown : py::str(score)) +
        " " + key + " (rank " + std::to_string(*update->rank + 1) + ") is saved to " + name + ".");
  return std::nullopt;
}

// E31–E37.
Error after_val_epoch(Txn& t, const Runner& r, const py::Dict& metrics) {
  State& s = t.s;
  if (metrics.empty()) {
    t.log("Since `metrics` is an empty dict, the behavior to save the best checkpoint will be skipped in this "
          "evaluation.",
          LogLevel::warning);
    return std::nullopt;
  }
  if (!s.settings.save_best || s.settings.save_best->empty()) return std::nullopt;
  bool by_epoch = py::truthy(s.config.by_epoch);
  auto sm = best_step(by_epoch, r.epoch, r.iter);
  auto filename = checkpoint_name(s.settings.filename_tmpl, py::Value(sm.step));
  if (!filename) return py::with_clause(filename.error(), "B61");
  auto& kr = s.settings.key_rules;
  for (const auto& key : kr.keys)
    if (key == "auto") {  // E34
      auto resolved = init_rules(rule_names(kr.rules), {metrics.front().first}, s.settings.greater_keys,
                                 s.settings.less_keys);
      if (!resolved) return py::PyError{resolved.error().type, resolved.error().message, "E34"};
      kr = *resolved;
      break;
    }
  bool updated = false;
  for (std::size_t i = 0; i < kr.keys.size(); ++i) {  // E35
    const std::string key = kr.keys[i];
    const auto* score = py::find(metrics, key);
    if (!score) return py::key_error(py::str_repr(key), "E35");
    bool single = kr.keys.size() == 1;
    std::string score_key = single ? "best_score" : "best_score_" + key;
    std::string ckpt_key = single ? "best_ckpt" : "best_ckpt_" + key;
    py::Value previous;
    if (single) {
      previous = s.best_ckpt_path;
    } else {
      const auto* stored = s.best_ckpt_paths ? py::find(*s.best_ckpt_paths, key) : nullptr;
      if (!stored) return py::key_error(py::str_repr(key), "E32");
      previous = *stored;
    }
    const auto* stored_best = py::find(s.runtime_info, score_key);
    if (!stored_best && !kr.rules[i]) return py::key_error("None", "E35");
    py::Value best = stored_best ? *stored_best : py::Value(initial_best(*kr.rules[i]));
    if (score->is_none()) continue;
    if (!kr.rules[i]) return py::key_error(py::str_repr(key), "E35");
    if (s.extensions && s.extensions->keep_best > 1) {
      bool new_best = false;
      if (auto e = keep_best_n(t, r, key, single, *score, stored_best, previous, *kr.rules[i], *filename, sm, new_best))
        return e;
      updated = updated || new_best;
      continue;
    }
    auto better = is_better(*score, best, *kr.rules[i]);
    if (!better) return py::with_clause(better.error(), "E35");
    if (!*better) continue;
    updated = true;
    t.info(score_key, *score);
    if (py::truthy(previous) && r.is_main_process) {
      if (!s.prepared) return no_attribute("file_backend", "E32");
      t.plan.push_back(RemoveCheckpoint{py::str(previous), tree_ok(s)});
    }
    std::string name = best_name(key, *filename);
    if (!s.prepared) return no_attribute("file_backend", "E32");
    py::Value path(py::path::join(s.out_dir.as<std::string>(), name));
    if (single) s.best_ckpt_path = path;
    else py::set(*s.best_ckpt_paths, key, path);
    t.info(ckpt_key, path);
    t.plan.push_back(best_save(s, name, sm.meta));
    auto shown = py::format_one(*score, "0.4f");
    t.log("The best checkpoint with " + (shown ? *shown : py::str(*score)) + " " + key + " at " +
          std::to_string(sm.step) + (by_epoch ? " epoch" : " iter") + " is saved to " + name + ".");
  }
  if (updated && !s.last_ckpt.is_none()) return save_with_step(t, r, py::Value(sm.step), sm.meta);  // E37
  return std::nullopt;
}

// X5: the save after_val_epoch's re-save makes (E37), and nothing else.
Error preempt(Txn& t, const Runner& r) {
  State& s = t.s;
  if (!s.extensions) return py::attribute_error("'CheckpointHook' object has no attribute 'preempt'", "X5");
  bool by_epoch = py::truthy(s.config.by_epoch);
  auto sm = best_step(by_epoch, r.epoch, r.iter);
  t.log("Saving checkpoint at " + std::to_string(sm.step) + (by_epoch ? " epochs" : " iterations") + " (preempted)");
  return save_with_step(t, r, py::Value(sm.step), sm.meta);
}

// E41, E42.
Error publish(Txn& t, const Runner& r, const py::Value& path) {
  if (!r.is_main_process) return std::nullopt;
  if (!path.is<std::string>())
    return py::type_error("expected string or bytes-like object, got '" + std::string(py::type_name(path)) + "'",
                          "E41");
  t.plan.push_back(Publish{path.as<std::string>(), *t.s.settings.published_keys});
  return std::nullopt;
}

Error after_train(Txn& t, const Runner& r) {
  State& s = t.s;
  if (!s.settings.published_keys) return std::nullopt;
  if (py::truthy(s.config.save_last) && !s.last_ckpt.is_none())
    if (auto e = publish(t, r, s.last_ckpt)) return e;
  if (single_key(s) && !s.best_ckpt_path.is_none())
    if (auto e = publish(t, r, py::Value(py::str(s.best_ckpt_path)))) return e;
  if (s.settings.save_best && !single_key(s) && s.best_ckpt_paths)
    for (const auto& [key, path] : *s.best_ckpt_paths)
      if (auto e = publish(t, r, path)) return e;
  return std::nullopt;
}

}  // namespace

py::Result<State> init(HookConfig config, py::Dict runtime_info) {
  auto settings = validate(config);
  if (!settings) return settings.error();
  State s;
  s.out_dir = config.out_dir;
  s.config = std::move(config);
  s.settings = std::move(*settings);
  if (s.settings.save_best && s.settings.key_rules.keys.size() != 1) s.best_ckpt_paths = py::Dict{};
  s.runtime_info = std::move(runtime_info);
  return s;
}

py::Result<State> init(CkptConfig config, py::Dict runtime_info) {
  auto s = init(std::move(config.hook), std::move(runtime_info));
  if (!s) return s;
  auto extensions = validate_extensions(config.extensions);
  if (!extensions) return extensions.error();
  s.value().extensions = *extensions;
  return s;
}

Outcome advance(State& state, const Event& event) {
  Txn t{state, {}};
  // Counters the policy cannot add to exactly fail before any rule runs.
  Error range = std::visit([](const auto& e) { return runner_out_of_range(e.runner); }, event);
  if (const auto* iter = std::get_if<AfterTrainIter>(&event); !range && iter)
    range = counter_out_of_range("batch_idx", iter->batch_idx);
  if (range) return {{}, std::move(range)};
  Error error = std::visit(overload{
                               [&](const BeforeTrain& e) { return before_train(t, e.runner); },
                               [&](const AfterTrainIter& e) { return after_train_step(t, e.runner, false); },
                               [&](const AfterTrainEpoch& e) { return after_train_step(t, e.runner, true); },
                               [&](const AfterValEpoch& e) { return after_val_epoch(t, e.runner, e.metrics); },
                               [&](const AfterTrain& e) { return after_train(t, e.runner); },
                               [&](const Preempt& e) { return preempt(t, e.runner); },
                           },
                           event);
  return {std::move(t.plan), std::move(error)};
}

Step step(State state, const Event& event) {
  auto out = advance(state, event);
  return {std::move(state), std::move(out.plan), std::move(out.error)};
}

py::Dict hook_runtime_info(const py::Dict& info, bool extensions) {
  py::Dict out;
  for (const auto& [key, value] : info)
    if (key == "keep_ckpt_ids" || key == "last_ckpt" || key == "best_score" || key == "best_ckpt" ||
        key.rfind("best_score_", 0) == 0 || key.rfind("best_ckpt_", 0) == 0 ||
        (extensions && (key == "best_kept" || key.rfind("best_kept_", 0) == 0 || key == "last_save_time")))
      out.emplace_back(key, value);
  return out;
}

std::ostream& operator<<(std::ostream& os, const Event& event) {
  auto where = [&](const Runner& r) {
    os << "epoch=" << r.epoch << ", iter=" << r.iter;
    if (r.time) os << ", time=" << py::float_repr(*r.time);
  };
  std::visit(overload{
                 [&](const BeforeTrain& e) { os << "before_train("; where(e.runner); os << ")"; },
                 [&](const AfterTrainIter& e) { os << "after_train_iter("; where(e.runner); os << ", batch_idx=" << e.batch_idx << ")"; },
                 [&](const AfterTrainEpoch& e) { os << "after_train_epoch("; where(e.runner); os << ")"; },
                 [&](const AfterValEpoch& e) { os << "after_val_epoch("; where(e.runner); os << ", metrics=" << py::Value(e.metrics) << ")"; },
                 [&](const AfterTrain& e) { os << "after_train("; where(e.runner); os << ")"; },
                 [&](const Preempt& e) { os << "preempt("; where(e.runner); os << ")"; },
             },
             event);
  return os;
}

std::ostream& operator<<(std::ostream& os, const State& s) {
  os << "State(out_dir=" << s.out_dir << ", prepared=" << (s.prepared ? "True" : "False")
     << ", last_ckpt=" << s.last_ckpt << ", best_ckpt_path=" << s.best_ckpt_path;
  if (s.best_ckpt_paths) os << ", best_ckpt_paths=" << py::Value(*s.best_ckpt_paths);
  if (s.keep) os << ", keep=" << *s.keep;
  if (s.extensions) os << ", extensions=" << *s.extensions;
  if (s.last_save_time) os << ", last_save_time=" << py::float_repr(*s.last_save_time);
  return os << ", runtime_info=" << py::Value(s.runtime_info) << ")";
}

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  os << "Outcome(plan=" << o.plan;
  if (o.error) os << ", error=" << *o.error;
  return os << ")";
}

std::ostream& operator<<(std::ostream& os, const Step& st) {
  os << "Step(plan=" << st.plan;
  if (st.error) os << ", error=" << *st.error;
  return os << ")";
}

}  // namespace ckpt::hook
