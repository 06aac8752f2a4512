// Runs one case: builds the hook, folds the events through the reducer and
// applies each plan to the sandbox through ckpt.store.fs (the reference's
// ordering, the sandbox as the store's only root: nothing outside it is
// written or removed), recording what the protocol observes.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include "adapter.hpp"
#include "ckpt/internal/sink.hpp"
import ckpt.store.fs;

namespace adapter {

namespace fs = std::filesystem;
namespace py = ckpt::py;
namespace store = ckpt::store::fs;

namespace {

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

// The stand-in checkpoint: its top-level keys, as JSON (the protocol never
// compares contents; publishing needs the keys).
std::string stand_in(py::Dict content) { return ckpt::json::dump(py::Value(std::move(content))); }

// E42's load-filter-save over stand-ins; the exceptions torch.load raises
// travel as "Type: message" (python_exception reads them so).
std::optional<std::string> published(const ckpt::Publish& p, store::Sink& out) {
  std::error_code ec;
  if (!fs::is_regular_file(p.source, ec)) return "FileNotFoundError: " + p.source + " can not be found.";
  std::ifstream in(p.source, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.empty()) return std::string("EOFError: Ran out of input");
  auto parsed = ckpt::json::parse(text);
  if (!parsed || !parsed->is<py::Dict>()) return "UnpicklingError: not a checkpoint: " + p.source;
  py::Dict kept;
  for (const auto& [k, v] : parsed->as<py::Dict>())
    if (std::find(p.keys.begin(), p.keys.end(), k) != p.keys.end()) kept.emplace_back(k, v);
  std::string data = stand_in(std::move(kept));
  out.write(data.data(), data.size());
  return std::nullopt;
}

std::optional<std::string> write_payload(const store::Payload& p, store::Sink& out) {
  std::string data;
  if (const auto* x = std::get_if<ckpt::SaveCheckpoint>(&p.effect)) {
    py::Dict content{{"meta", x->meta}, {"state_dict", py::Dict{}}, {"message_hub", py::Dict{}}};
    if (py::truthy(x->save_optimizer)) content.emplace_back("optimizer", py::Dict{});
    if (py::truthy(x->save_param_scheduler)) content.emplace_back("param_schedulers", py::List{});
    data = stand_in(std::move(content));
  } else if (const auto* l = std::get_if<ckpt::LegacySaveCheckpoint>(&p.effect)) {
    py::Dict content{{"meta", l->checkpoint_meta}, {"state_dict", py::Dict{}}};
    if (py::truthy(l->save_optimizer)) content.emplace_back("optimizer", py::Dict{});
    data = stand_in(std::move(content));
  } else {
    return published(std::get<ckpt::Publish>(p.effect), out);
  }
  out.write(data.data(), data.size());
  return std::nullopt;
}

// The `saves` entry the protocol records for a save effect (nullopt for others).
std::optional<py::Value> save_entry(const ckpt::Effect& e) {
  if (const auto* x = std::get_if<ckpt::SaveCheckpoint>(&e))
    return py::Value(py::Dict{{"out_dir", x->out_dir}, {"filename", x->filename}, {"save_optimizer", x->save_optimizer},
                              {"save_param_scheduler", x->save_param_scheduler}, {"by_epoch", x->by_epoch},
                              {"meta", x->meta}});
  if (const auto* x = std::get_if<ckpt::LegacySaveCheckpoint>(&e))
    return py::Value(py::Dict{{"out_dir", x->out_dir}, {"filename", x->filename}, {"save_optimizer", x->save_optimizer},
                              {"create_symlink", x->create_symlink}, {"meta", x->meta}});
  return std::nullopt;
}

// One event's observation (protocol 3) from what the store did.
// `raised_in`: a save the runner raised inside (mmcv, C55), asked for too.
py::Value observe(const Sandbox& sb, std::size_t index, const ckpt::Plan& plan, const store::Applied& applied,
                  const py::Value& runtime_info, const std::optional<py::Value>& raised_in = std::nullopt) {
  py::List saves;
  std::vector<std::size_t> asked = applied.done;  // a save that failed was asked for too
  if (applied.failed_effect) asked.push_back(*applied.failed_effect);
  for (std::size_t i : asked)
    if (auto entry = save_entry(plan[i])) saves.push_back(sb.relative(*entry));
  if (raised_in) saves.push_back(sb.relative(*raised_in));
  std::vector<std::string> removed;
  for (const auto& r : applied.removed) removed.push_back(sb.relative(r));
  std::sort(removed.begin(), removed.end());
  std::map<std::string, std::string> text;
  for (const auto& t : applied.texts) text[sb.relative(t.path)] = sb.relative(t.content);
  py::Dict s{{"event", static_cast<std::int64_t>(index)}, {"saves", py::Value(std::move(saves))}};
  s = strings_list(removed, std::move(s), "removed");
  s = strings_list(sb.list_files(), std::move(s), "files");
  s.emplace_back("links", as_dict(sb.list_links()));
  s.emplace_back("runtime_info", sb.relative(runtime_info));
  s.emplace_back("text", as_dict(text));
  return py::Value(std::move(s));
}

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

// What a run ended with: the error (or None) and, for an error at an
// event, what that event did before it raised (protocol 1.1 failed_step).
struct Ending {
  py::Value error;
  py::Value failed_step;
};

// Folds the case's events through a reducer and applies each plan through
// the store, in the reference's order. `step(state, spec, counters)` returns
// the reducer's {state, plan, error}; `info(state)` the runtime info a
// payload sees (mmengine) and `observed(state_or_after)` what the protocol
// reports. A store error ends the run at its effect, as the reference's
// exception would; a reducer error after the plan's effects.
template <class State, class Step, class Info, class Observed>
Ending fold(const Case& c, const Sandbox& sb, py::List& steps, State s, Step step, Info info, Observed observed) {
  store::Store disk(sb.root(), sb.root(), store::Options{store::Ordering::reference, true});
  Counters at;
  for (std::size_t i = 0; i < c.events.size(); ++i) {
    at.update(c.events[i]);
    const auto before = info(s);
    auto out = step(s, c.events[i], at);
    auto applied = disk.apply(out.plan, write_payload, before.first);
    auto index = static_cast<std::int64_t>(i);
    if (applied.error || out.error) {
      auto e = applied.error ? store::python_exception(*applied.error) : *out.error;
      auto after = observed(store::runtime_info_after(before.first, out.plan, applied),
                            store::runner_meta_after(before.second, out.plan, applied));
      std::optional<py::Value> raised_in;
      if constexpr (requires { out.raised_in; })
        if (!applied.error && out.raised_in)
          raised_in = py::Value(py::Dict{{"out_dir", out.raised_in->out_dir}, {"filename", py::none},
                                         {"save_optimizer", out.raised_in->save_optimizer},
                                         {"create_symlink", out.raised_in->create_symlink},
                                         {"meta", out.raised_in->meta}});
      return {error_value(e.type, index, e.message), observe(sb, i, out.plan, applied, after, raised_in)};
    }
    s = std::move(out.state);
    auto now = info(s);
    steps.push_back(observe(sb, i, out.plan, applied, observed(now.first, now.second)));
  }
  return {py::none, py::none};
}

Ending run_mmengine(const Case& c, const Sandbox& sb, py::List& steps) {
  py::Dict kwargs = hook_kwargs(c, sb);
  py::Dict hub = c.runtime_info;
  for (auto& [key, value] : hub)
    if (is_path_key(key) && value.is<std::string>()) value = sb.join(value.as<std::string>());
  const bool extensions = c.profile == "ckpt";
  for (auto& [key, value] : hub)  // X1: the kept best lists hold paths too
    if (extensions && (key == "best_kept" || key.rfind("best_kept_", 0) == 0) && value.is<py::List>())
      for (auto& entry : value.as<py::List>())
        if (entry.is<py::List>() && entry.as<py::List>().size() == 2 && entry.as<py::List>()[1].is<std::string>())
          entry.as<py::List>()[1] = sb.join(entry.as<py::List>()[1].as<std::string>());
  auto state = extensions ? ckpt::hook::init(ckpt::ckpt_config_from_kwargs(kwargs), hub)
                          : ckpt::hook::init(ckpt::hook_config_from_kwargs(kwargs), hub);
  if (!state) {
    const auto& e = state.error();
    return {error_value(e.type, -1, e.parameter.empty() ? e.message : e.message + " [" + e.parameter + "=" + e.value + "]"),
            py::none};
  }
  auto step = [&](const ckpt::hook::State& st, const EventSpec& e, const Counters& at) {
    ckpt::hook::Runner r{sb.join(c.work_dir), at.epoch, at.iter, c.has_max_epochs ? c.max_epochs : unset_max,
                         c.has_max_iters ? c.max_iters : unset_max, true, e.time};
    ckpt::hook::Event event;
    if (e.hook == "before_train") event = ckpt::hook::BeforeTrain{r};
    else if (e.hook == "after_train_iter") event = ckpt::hook::AfterTrainIter{r, e.batch_idx.value_or(0)};
    else if (e.hook == "after_train_epoch") event = ckpt::hook::AfterTrainEpoch{r};
    else if (e.hook == "after_val_epoch") event = ckpt::hook::AfterValEpoch{r, e.metrics};
    else if (e.hook == "preempt") event = ckpt::hook::Preempt{r};
    else event = ckpt::hook::AfterTrain{r};
    return ckpt::hook::step(st, event);
  };
  auto info = [](const ckpt::hook::State& st) { return std::pair<py::Dict, py::Value>{st.runtime_info, py::none}; };
  auto observed = [extensions](const py::Dict& runtime_info, const py::Value&) {
    return py::Value(ckpt::hook::hook_runtime_info(runtime_info, extensions));
  };
  return fold(c, sb, steps, std::move(state).value(), step, info, observed);
}

Ending run_mmcv(const Case& c, const Sandbox& sb, py::List& steps) {
  py::Dict kwargs = hook_kwargs(c, sb);
  auto kind = c.runner_kind == "iter" ? ckpt::legacy::RunnerKind::iter : ckpt::legacy::RunnerKind::epoch;
  auto s = ckpt::legacy::init(ckpt::legacy_config_from_kwargs(kwargs), kind, c.runner_meta,
                              c.mmcv_version.value_or(ckpt::legacy::default_mmcv_version));
  auto step = [&](const ckpt::legacy::State& st, const EventSpec& e, const Counters& at) {
    ckpt::legacy::Runner r{sb.join(c.work_dir), at.epoch, at.iter, c.has_max_epochs ? c.max_epochs : unset_max,
                           c.has_max_iters ? c.max_iters : unset_max, 0};
    ckpt::legacy::Event event;
    if (e.hook == "before_run") event = ckpt::legacy::BeforeRun{r};
    else if (e.hook == "after_train_iter") event = ckpt::legacy::AfterTrainIter{r};
    else if (e.hook == "after_train_epoch") event = ckpt::legacy::AfterTrainEpoch{r};
    else event = ckpt::legacy::AfterRun{r};
    return ckpt::legacy::step(st, event);
  };
  auto info = [](const ckpt::legacy::State& st) {
    return std::pair<py::Dict, py::Value>{py::Dict{}, ckpt::legacy::runner_meta(st)};
  };
  auto observed = [](const py::Dict&, const py::Value& meta) { return py::Value(py::Dict{{"meta", meta}}); };
  return fold(c, sb, steps, std::move(s), step, info, observed);
}

}  // namespace

py::Value run_case(const Case& c, const fs::path& sandbox_root) {
  Sandbox sb(sandbox_root);
  py::List steps;
  try {
    for (const auto& f : c.files) sb.create_entry(f);
    sb.make_dirs(sb.join(c.work_dir));
  } catch (const Raised& raised) {
    throw Malformed{"cannot prepare the sandbox: " + raised.message};
  }
  Ending end = c.profile == "mmcv" ? run_mmcv(c, sb, steps) : run_mmengine(c, sb, steps);
  py::Dict observation{{"id", c.id}, {"implementation", "ckpt 0.2.0"}, {"error", end.error}, {"steps", steps}};
  if (!end.failed_step.is_none()) observation.emplace_back("failed_step", end.failed_step);
  return py::Value(std::move(observation));
}

}  // namespace adapter
