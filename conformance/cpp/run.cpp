// Runs one case: builds the hook, folds the events through the reducer and
// applies each plan to the sandbox, recording what the protocol observes.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include "adapter.hpp"
#include "ckpt/internal/overload.hpp"

namespace adapter {

namespace fs = std::filesystem;
namespace py = ckpt::py;

namespace {

using ckpt::internal::overload;

bool is_path_key(const std::string& key) {
  return key == "last_ckpt" || key == "best_ckpt" || key.rfind("best_ckpt_", 0) == 0;
}

py::Dict strings_list(const std::vector<std::string>& xs, py::Dict into, const char* key) {
  py::List l(xs.begin(), xs.end());
  into.emplace_back(key, py::Value(std::move(l)));
  return into;
}

py::Value as_dict(const std::map<std::string, std::string>& m) {
  py::Dict d;
  for (const auto& [k, v] : m) d.emplace_back(k, v);
  return py::Value(std::move(d));
}

py::Value error_value(const std::string& type, std::int64_t event, const std::string& message) {
  return py::Value(py::Dict{{"type", type}, {"event", event}, {"message", message}});
}

// What one event did, plus the runner counters that persist between events.
struct Recorder {
  Sandbox& sb;
  py::List saves;

  py::Value step(std::size_t index, const py::Value& runtime_info) {
    py::Dict s;
    s.emplace_back("event", static_cast<std::int64_t>(index));
    s.emplace_back("saves", py::Value(saves));
    auto removed = sb.removed;
    std::sort(removed.begin(), removed.end());
    s = strings_list(removed, std::move(s), "removed");
    s = strings_list(sb.list_files(), std::move(s), "files");
    s.emplace_back("links", as_dict(sb.list_links()));
    s.emplace_back("runtime_info", sb.relative(runtime_info));
    s.emplace_back("text", as_dict(sb.text));
    saves.clear();
    sb.removed.clear();
    sb.text.clear();
    return py::Value(std::move(s));
  }
};

struct Counters {
  std::int64_t epoch = 0, iter = 0;
  void update(const EventSpec& e) {
    if (e.epoch) epoch = *e.epoch;
    if (e.iter) iter = *e.iter;
  }
};

// The hook's keyword arguments: a str out_dir joined onto the sandbox.
py::Dict hook_kwargs(const Case& c, const Sandbox& sb) {
  py::Dict kwargs = c.hook;
  if (auto* out_dir = py::find(kwargs, "out_dir"); out_dir && out_dir->is<std::string>())
    *out_dir = sb.join(out_dir->as<std::string>());
  return kwargs;
}

constexpr std::int64_t unset_max = std::numeric_limits<std::int64_t>::min();

// Folds the case's events through a reducer: `step(state, spec, counters)`
// returns the reducer's {state, plan, error}; `apply` executes one effect;
// `observed` is the runtime info to report. An error (raised by an effect
// or returned by the reducer) ends the run and is returned.
template <class State, class Step, class Apply, class Observed>
py::Value fold(const Case& c, py::List& steps, Recorder& rec, State s, Step step, Apply apply, Observed observed) {
  Counters at;
  for (std::size_t i = 0; i < c.events.size(); ++i) {
    at.update(c.events[i]);
    auto out = step(std::move(s), c.events[i], at);
    auto index = static_cast<std::int64_t>(i);
    try {
      for (const auto& effect : out.plan) apply(effect);
    } catch (const Raised& raised) {
      return error_value(raised.type, index, raised.message);
    }
    if (out.error) return error_value(out.error->type, index, out.error->message);
    s = std::move(out.state);
    steps.push_back(rec.step(i, observed()));
  }
  return py::none;
}

py::Value run_mmengine(const Case& c, Sandbox& sb, py::List& steps) {
  py::Dict kwargs = hook_kwargs(c, sb);
  py::Dict hub = c.runtime_info;
  for (auto& [key, value] : hub)
    if (is_path_key(key) && value.is<std::string>()) value = sb.join(value.as<std::string>());
  auto state = ckpt::hook::init(ckpt::hook_config_from_kwargs(kwargs), hub);
  if (!state) {
    const auto& e = state.error();
    return error_value(e.type, -1, e.parameter.empty() ? e.message : e.message + " [" + e.parameter + "=" + e.value + "]");
  }
  Recorder rec{sb, {}};
  auto step = [&](ckpt::hook::State st, const EventSpec& e, const Counters& at) {
    ckpt::hook::Runner r{sb.join(c.work_dir), at.epoch, at.iter, c.has_max_epochs ? c.max_epochs : unset_max,
                         c.has_max_iters ? c.max_iters : unset_max, true};
    ckpt::hook::Event event;
    if (e.hook == "before_train") event = ckpt::hook::BeforeTrain{r};
    else if (e.hook == "after_train_iter") event = ckpt::hook::AfterTrainIter{r, e.batch_idx.value_or(0)};
    else if (e.hook == "after_train_epoch") event = ckpt::hook::AfterTrainEpoch{r};
    else if (e.hook == "after_val_epoch") event = ckpt::hook::AfterValEpoch{r, e.metrics};
    else event = ckpt::hook::AfterTrain{r};
    return ckpt::hook::step(std::move(st), event);
  };
  auto apply = [&](const ckpt::Effect& effect) {
    std::visit(overload{
                   [&](const ckpt::SaveCheckpoint& x) {
                     py::Dict content{{"meta", x.meta}, {"state_dict", py::Dict{}}, {"message_hub", py::Dict{}}};
                     if (py::truthy(x.save_optimizer)) content.emplace_back("optimizer", py::Dict{});
                     if (py::truthy(x.save_param_scheduler)) content.emplace_back("param_schedulers", py::List{});
                     sb.write_checkpoint(py::path::join(x.out_dir, x.filename), content);
                     rec.saves.push_back(sb.relative(py::Value(py::Dict{
                         {"out_dir", x.out_dir}, {"filename", x.filename}, {"save_optimizer", x.save_optimizer},
                         {"save_param_scheduler", x.save_param_scheduler}, {"by_epoch", x.by_epoch},
                         {"meta", x.meta}})));
                   },
                   [&](const ckpt::RemoveCheckpoint& x) { sb.remove_checkpoint(x); },
                   [&](const ckpt::SetRuntimeInfo& x) { py::set(hub, x.key, x.value); },
                   [&](const ckpt::WriteText& x) { sb.write_text(x.path, x.content); },
                   [&](const ckpt::Publish& x) { sb.publish(x); },
                   [&](const auto&) {},
               },
               effect);
  };
  return fold(c, steps, rec, std::move(state).value(), step, apply,
              [&] { return py::Value(ckpt::hook::hook_runtime_info(hub)); });
}

py::Value run_mmcv(const Case& c, Sandbox& sb, py::List& steps) {
  py::Dict kwargs = hook_kwargs(c, sb);
  auto kind = c.runner_kind == "iter" ? ckpt::legacy::RunnerKind::iter : ckpt::legacy::RunnerKind::epoch;
  auto s = ckpt::legacy::init(ckpt::legacy_config_from_kwargs(kwargs), kind, c.runner_meta);
  py::Value runner_meta = c.runner_meta;
  Recorder rec{sb, {}};
  auto step = [&](ckpt::legacy::State st, const EventSpec& e, const Counters& at) {
    ckpt::legacy::Runner r{sb.join(c.work_dir), at.epoch, at.iter, c.has_max_epochs ? c.max_epochs : unset_max,
                           c.has_max_iters ? c.max_iters : unset_max, 0};
    ckpt::legacy::Event event;
    if (e.hook == "before_run") event = ckpt::legacy::BeforeRun{r};
    else if (e.hook == "after_train_iter") event = ckpt::legacy::AfterTrainIter{r};
    else if (e.hook == "after_train_epoch") event = ckpt::legacy::AfterTrainEpoch{r};
    else event = ckpt::legacy::AfterRun{r};
    return ckpt::legacy::step(std::move(st), event);
  };
  auto apply = [&](const ckpt::Effect& effect) {
    std::visit(overload{
                   [&](const ckpt::LegacySaveCheckpoint& x) {
                     py::Dict content{{"meta", x.checkpoint_meta}, {"state_dict", py::Dict{}}};
                     if (py::truthy(x.save_optimizer)) content.emplace_back("optimizer", py::Dict{});
                     sb.write_checkpoint(x.filepath, content);
                     rec.saves.push_back(sb.relative(py::Value(py::Dict{
                         {"out_dir", x.out_dir}, {"filename", x.filename}, {"save_optimizer", x.save_optimizer},
                         {"create_symlink", x.create_symlink}, {"meta", x.meta}})));
                   },
                   [&](const ckpt::Symlink& x) { sb.symlink(x.link, x.target); },
                   [&](const ckpt::RemoveUntilGap& x) { sb.remove_until_gap(x); },
                   [&](const ckpt::SetRunnerMeta& x) { runner_meta = x.meta; },
                   [&](const auto&) {},
               },
               effect);
  };
  return fold(c, steps, rec, std::move(s), step, apply, [&] { return py::Value(py::Dict{{"meta", runner_meta}}); });
}

}  // namespace

py::Value run_case(const Case& c, const fs::path& sandbox_root) {
  Sandbox sb(sandbox_root);
  py::List steps;
  py::Value error;
  try {
    for (const auto& f : c.files) sb.create_entry(f);
    sb.make_dirs(sb.join(c.work_dir));
  } catch (const Raised& raised) {
    throw Malformed{"cannot prepare the sandbox: " + raised.message};
  }
  error = c.profile == "mmcv" ? run_mmcv(c, sb, steps) : run_mmengine(c, sb, steps);
  return py::Value(py::Dict{{"id", c.id}, {"implementation", "ckpt 0.1.0"}, {"error", error}, {"steps", steps}});
}

}  // namespace adapter
