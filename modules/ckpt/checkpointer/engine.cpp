// The engine: the hook reducer and the fs store for the Checkpointer.
// Shell code in C++20 (it imports the policy modules); the torch side sees
// only engine.hpp.
#include "engine.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

#include "ckpt/internal/overload.hpp"
#include "converge.hpp"
#include "tree.hpp"
import ckpt;
import ckpt.store.fs;

namespace ckpt::checkpointer {

namespace {

using internal::overload;
namespace store = ckpt::store::fs;

using HookState = std::variant<hook::State, legacy::State>;

Error config_error(const py::PyError& e, const std::string& where) {
  std::string what = where + ": " + e.type + ": " + e.message;
  if (!e.parameter.empty()) what += " (" + e.parameter + "=" + e.value + ")";
  if (!e.clause.empty()) what += " [spec " + e.clause + "]";
  Error out(what, e.type);
  out.parameter = e.parameter;
  out.value = e.value;
  out.clause = e.clause;
  return out;
}

Error store_error(const store::Error& e) {
  py::PyError p = store::python_exception(e);
  Error out(p.type + ": " + p.message, p.type);
  out.path = e.path;
  out.err = e.err;
  return out;
}

py::Dict parse_kwargs(const EngineConfig& c) {
  if (c.hook_json.empty()) {
    if (c.hook_kwargs.is<std::monostate>()) return {};
    if (!c.hook_kwargs.is<Tree::Dict>()) throw Error("hook: the keyword arguments must be a dict", "TypeError");
    return to_dict(c.hook_kwargs.as<Tree::Dict>());
  }
  auto parsed = json::parse(c.hook_json);
  // json.loads' exceptions: JSONDecodeError and UnicodeDecodeError, both ValueErrors
  if (!parsed) {
    const bool decode = parsed.error().type == "UnicodeDecodeError";
    throw Error("hook: not valid JSON: " + parsed.error().type + ": " + parsed.error().message + " in " + c.hook_json,
                decode ? "UnicodeDecodeError" : "ValueError");
  }
  if (!parsed->is<py::Dict>()) throw Error("hook: the JSON must be an object of keyword arguments, got " + c.hook_json, "TypeError");
  return parsed->as<py::Dict>();
}

// The root the store may write checkpoints under: the out_dir as given
// (before E12 joins the work_dir's basename), else the work_dir.
std::string checkpoint_root(const py::Dict& kwargs, const std::string& work_dir) {
  const auto* out_dir = py::find(kwargs, "out_dir");
  if (out_dir && out_dir->is<std::string>() && !out_dir->as<std::string>().empty()) return out_dir->as<std::string>();
  return work_dir;
}

bool is_disk_effect(const Effect& e) {
  return !std::holds_alternative<Log>(e) && !std::holds_alternative<SyncBuffers>(e);
}

}  // namespace

std::string to_json(const Tree& tree) { return json::dump(to_value(tree)); }

// --- Job ---------------------------------------------------------------------

struct Job::Impl {
  Plan plan;
  py::Dict info_before;
  HookState state_before;
  std::vector<SaveRequest> saves;
  std::vector<std::pair<bool, std::string>> logs;
  bool sync = false;
  bool empty = true;
};

Job::Job() : impl_(std::make_shared<Impl>()) {}
Job::~Job() = default;
Job::Job(const Job&) = default;
Job& Job::operator=(const Job&) = default;
Job::Job(Job&&) noexcept = default;
Job& Job::operator=(Job&&) noexcept = default;
const std::vector<SaveRequest>& Job::saves() const { return impl_->saves; }
bool Job::empty() const { return impl_->empty; }
const std::vector<std::pair<bool, std::string>>& Job::logs() const { return impl_->logs; }
bool Job::sync_buffers() const { return impl_->sync; }

// --- Engine ------------------------------------------------------------------

struct Engine::Impl {
  EngineConfig config;
  py::Dict kwargs;
  HookConfig hook_config;
  std::optional<CkptConfig> ckpt_config;  // the `ckpt` profile
  LegacyConfig legacy_config;
  HookState state;
  store::Store store;

  Impl(EngineConfig c, py::Dict kw)
      : config(std::move(c)),
        kwargs(std::move(kw)),
        store(checkpoint_root(kwargs, config.work_dir), config.work_dir,
              store::Options{config.ordering == Ordering::safe ? store::Ordering::safe : store::Ordering::reference,
                             config.main_process, config.evict_first_if_short}) {}

  bool mmcv() const { return config.profile == Profile::mmcv; }

  void init(const py::Dict& runtime_info, const py::Value& runner_meta) {
    if (mmcv()) {
      state = legacy::init(legacy_config, config.iter_runner ? legacy::RunnerKind::iter : legacy::RunnerKind::epoch,
                           runner_meta);
      return;
    }
    auto s = ckpt_config ? hook::init(*ckpt_config, runtime_info) : hook::init(hook_config, runtime_info);
    if (!s) throw config_error(s.error(), "CheckpointHook");
    state = std::move(s).value();
  }

  py::Dict runtime_info() const {
    if (const auto* h = std::get_if<hook::State>(&state)) return h->runtime_info;
    // mmcv keeps what the hook records in runner.meta['hook_msgs'] (C51).
    py::Value meta = legacy::runner_meta(std::get<legacy::State>(state));
    if (meta.is<py::Dict>())
      if (const auto* msgs = py::find(meta.as<py::Dict>(), "hook_msgs"); msgs && msgs->is<py::Dict>())
        return msgs->as<py::Dict>();
    return {};
  }

  py::Value filename_tmpl() const {
    if (const auto* h = std::get_if<hook::State>(&state)) return h->settings.filename_tmpl;
    if (const auto* t = py::find(legacy_config.extra, "filename_tmpl")) return *t;
    return config.iter_runner ? "iter_{}.pth" : "epoch_{}.pth";
  }
};

Engine::Engine(EngineConfig config) {
  py::Dict kwargs = parse_kwargs(config);
  impl_ = std::make_unique<Impl>(std::move(config), std::move(kwargs));
  Impl& m = *impl_;
  if (m.mmcv()) {
    m.legacy_config = legacy_config_from_kwargs(m.kwargs);
    m.init({}, py::Value(py::Dict{}));
  } else if (m.config.profile == Profile::ckpt) {
    m.ckpt_config = ckpt_config_from_kwargs(m.kwargs);
    m.hook_config = m.ckpt_config->hook;
    m.init({}, py::none);
  } else {
    m.hook_config = hook_config_from_kwargs(m.kwargs);
    m.init({}, py::none);
  }
}

Engine::~Engine() = default;

void Engine::set_runtime_info(const Tree::Dict& info) {
  py::Dict d = to_dict(info);
  impl_->init(d, py::Value(py::Dict{{"hook_msgs", py::Value(d)}}));
}

Tree::Dict Engine::runtime_info() const { return to_tree(impl_->runtime_info()); }

Tree::Dict Engine::hook_runtime_info() const {
  if (impl_->mmcv()) return runtime_info();
  return to_tree(hook::hook_runtime_info(impl_->runtime_info(), impl_->config.profile == Profile::ckpt));
}

Job Engine::advance(Hook which, std::int64_t epoch, std::int64_t iter, std::int64_t batch_idx,
                    const std::vector<std::pair<std::string, double>>& metrics, std::int64_t max_epochs,
                    std::int64_t max_iters) {
  Impl& m = *impl_;
  Job job;
  Job::Impl& j = *job.impl_;
  j.state_before = m.state;
  j.info_before = m.runtime_info();
  std::optional<py::PyError> raised;
  std::visit(overload{
                 [&](hook::State& s) {
                   hook::Runner r{m.config.work_dir, epoch, iter, max_epochs, max_iters, m.config.main_process};
                   if (m.ckpt_config)  // X4: the core reads no clock; the shell gives the time
                     r.time = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
                   hook::Event event;
                   switch (which) {
                     case Hook::before_train: event = hook::BeforeTrain{r}; break;
                     case Hook::after_train_iter: event = hook::AfterTrainIter{r, batch_idx}; break;
                     case Hook::after_train_epoch: event = hook::AfterTrainEpoch{r}; break;
                     case Hook::after_val_epoch: {
                       py::Dict d;
                       for (const auto& [k, x] : metrics) d.emplace_back(k, x);
                       event = hook::AfterValEpoch{r, std::move(d)};
                       break;
                     }
                     case Hook::after_train: event = hook::AfterTrain{r}; break;
                     case Hook::preempt: event = hook::Preempt{r}; break;
                   }
                   auto out = hook::advance(s, event);
                   j.plan = std::move(out.plan);
                   raised = std::move(out.error);
                 },
                 [&](legacy::State& s) {
                   legacy::Runner r{m.config.work_dir, epoch, iter, max_epochs, max_iters, m.config.main_process ? 0 : 1};
                   legacy::Event event;
                   switch (which) {
                     case Hook::before_train: event = legacy::BeforeRun{r}; break;
                     case Hook::after_train_iter: event = legacy::AfterTrainIter{r}; break;
                     case Hook::after_train_epoch: event = legacy::AfterTrainEpoch{r}; break;
                     case Hook::after_val_epoch: return;  // C59: best checkpoints are not this hook's
                     case Hook::after_train: event = legacy::AfterRun{r}; break;
                     case Hook::preempt:  // X5 is the `ckpt` profile's; mmcv's hook has no such method
                       raised = py::attribute_error("'CheckpointHook' object has no attribute 'preempt'", "X5");
                       return;
                   }
                   auto out = legacy::advance(s, event);
                   j.plan = std::move(out.plan);
                   raised = std::move(out.error);
                 },
             },
             m.state);
  if (raised) {
    m.state = j.state_before;
    throw config_error(*raised, std::string("CheckpointHook.") + hook_name(which));
  }
  py::Dict info = j.info_before;
  for (std::size_t i = 0; i < j.plan.size(); ++i) {
    const Effect& e = j.plan[i];
    j.empty = j.empty && !is_disk_effect(e);
    std::visit(overload{
                   [&](const SetRuntimeInfo& x) { py::set(info, x.key, x.value); },
                   [&](const SaveCheckpoint& x) {
                     j.saves.push_back(SaveRequest{i, py::path::join(x.out_dir, x.filename), to_tree(x.meta),
                                                   to_tree(info), py::truthy(x.save_optimizer),
                                                   py::truthy(x.save_param_scheduler)});
                   },
                   [&](const LegacySaveCheckpoint& x) {
                     j.saves.push_back(SaveRequest{i, x.filepath, to_tree(x.checkpoint_meta), {},
                                                   py::truthy(x.save_optimizer), false});
                   },
                   [&](const Log& x) { j.logs.emplace_back(x.level == LogLevel::warning, x.message); },
                   [&](const SyncBuffers&) { j.sync = true; },
                   [&](const auto&) {},
               },
               e);
  }
  return job;
}

Applied Engine::apply(const Job& job, const Writer& write, const Publisher& publish,
                      const std::vector<std::uint64_t>& sizes) const {
  const Job::Impl& j = *job.impl_;
  Applied out;
  if (j.empty) return out;
  auto writer = [&](const store::Payload& p, store::Sink& sink) -> std::optional<std::string> {
    const auto index = static_cast<std::size_t>(&p.effect - j.plan.data());
    if (const auto* pub = std::get_if<Publish>(&p.effect)) {
      publish(PublishRequest{index, pub->source, pub->keys}, sink);
      return std::nullopt;
    }
    auto it = std::find_if(j.saves.begin(), j.saves.end(), [&](const SaveRequest& s) { return s.effect == index; });
    if (it == j.saves.end()) return "no checkpoint was asked for at this effect";
    write(*it, sink);
    return std::nullopt;
  };
  auto expected = [&](const Effect& e) -> std::optional<std::uint64_t> {
    const auto index = static_cast<std::size_t>(&e - j.plan.data());
    for (std::size_t i = 0; i < j.saves.size() && i < sizes.size(); ++i)
      if (j.saves[i].effect == index) return sizes[i];
    return std::nullopt;
  };
  store::Applied applied = impl_->store.apply(j.plan, writer, j.info_before, expected);
  out.written = std::move(applied.written);
  out.removed = std::move(applied.removed);
  out.evicted_first = applied.evicted_first;
  if (applied.error) out.error = store_error(*applied.error);
  return out;
}

void Engine::rollback(const Job& job) { impl_->state = job.impl_->state_before; }

std::string Engine::out_dir() const {
  const Impl& m = *impl_;
  if (const auto* h = std::get_if<hook::State>(&m.state); h && h->prepared && h->out_dir.is<std::string>())
    return h->out_dir.as<std::string>();
  const auto* given = py::find(m.kwargs, "out_dir");
  py::Value out_dir = given && py::truthy(*given) ? *given : py::Value(m.config.work_dir);
  auto derived = derive_out_dir(out_dir, m.config.work_dir, m.mmcv() ? "C47" : "E12");
  return derived ? *derived : m.config.work_dir;
}

std::vector<std::string> Engine::resume_candidates() const {
  std::vector<std::string> out;
  std::ifstream last(impl_->config.work_dir + "/last_checkpoint", std::ios::binary);
  if (last) {
    std::string path((std::istreambuf_iterator<char>(last)), std::istreambuf_iterator<char>());
    if (!path.empty()) out.push_back(path);
  }
  for (const auto& [step, path] : converge::periodic_files(out_dir(), impl_->filename_tmpl()))
    if (std::find(out.begin(), out.end(), path) == out.end()) out.push_back(path);
  return out;
}

namespace {

std::optional<std::int64_t> as_count(const py::Value& v) {
  if (v.is<bool>()) return v.as<bool>() ? 1 : 0;  // E16: True acts as 1
  if (v.is<std::int64_t>()) return v.as<std::int64_t>();
  return std::nullopt;
}

}  // namespace

Converged Engine::converge(const std::string& path, std::int64_t epoch, const KeepIdsOf& keep_ids_of) {
  Impl& m = *impl_;
  Converged out;
  const std::string dir = out_dir();
  const py::Value tmpl = m.filename_tmpl();
  const py::Dict info = m.runtime_info();
  const auto resumed_step = path.empty() ? std::nullopt : converge::step_of(tmpl, py::path::basename(path));
  Plan pending;
  if (m.config.ordering == Ordering::safe && !path.empty()) {
    if (auto* h = std::get_if<hook::State>(&m.state)) {
      // The instance that saved this file had a last_ckpt: E37 re-saves and
      // E41 publishes as they would have without the crash.
      if (const auto* last = py::find(info, "last_ckpt"); last && last->is<std::string>()) h->last_ckpt = *last;
      const auto keys = converge::best_keys(h->settings.save_best.value_or(std::vector<std::string>{}), tmpl, info);
      if (m.config.main_process) {
        if (auto max_keep = as_count(h->config.max_keep_ckpts))
          pending = converge::pending_eviction(dir, tmpl, *max_keep, info, keep_ids_of);
        for (auto& e : converge::orphaned_best(dir, tmpl, keys, info)) pending.push_back(std::move(e));
      }
      out.validate_first = py::truthy(h->config.by_epoch) && resumed_step == epoch &&
                           !converge::validation_recorded(dir, tmpl, keys, info, epoch);
    } else if (resumed_step) {
      pending = converge::pending_legacy_retention(dir, tmpl, *resumed_step, m.legacy_config.max_keep_ckpts,
                                                   m.legacy_config.interval);
      // C51: the hook records last_ckpt right after the save, so the file
      // holds the one before; the run that saved it went on with this one.
      py::Dict msgs = info;
      py::set(msgs, "last_ckpt", py::Value(path));
      m.init(msgs, py::Value(py::Dict{{"hook_msgs", py::Value(msgs)}}));
      // C56: the save links latest.pth to its file after writing it; a kill
      // in between leaves the link on the file before, which the retention
      // just completed may have removed.
      const py::Value* link = py::find(m.legacy_config.extra, "create_symlink");
      if (m.config.main_process && (!link || py::truthy(*link))) {
        const std::string latest = py::path::join(py::path::dirname(path), "latest.pth");
        const std::string name = py::path::basename(path);
        std::error_code ec;
        const auto target = std::filesystem::read_symlink(latest, ec);
        if (ec || target.string() != name) pending.push_back(Symlink{latest, name});
      }
    }
  }
  if (!m.config.main_process) return out;
  auto swept = m.store.sweep_temporaries({dir, m.config.work_dir});
  if (auto* e = std::get_if<store::Error>(&swept)) throw store_error(*e);
  out.removed = std::get<std::vector<std::string>>(std::move(swept));
  if (pending.empty()) return out;
  store::Applied applied = m.store.apply(pending);
  if (applied.error) throw store_error(*applied.error);
  out.removed.insert(out.removed.end(), applied.removed.begin(), applied.removed.end());
  return out;
}

}  // namespace ckpt::checkpointer
