// Properties of the `ckpt` profile's extensions (docs/spec/extensions.md):
// each one, switched on, changes what its clause claims and nothing else.
// A generated run goes through the C++ adapter in-process twice, once as
// mmengine's hook and once with the extension on, on real sandbox
// directories; the observations (protocol section 3) are compared event by
// event. Plus: nothing is removed outside out_dir, replay is a fold, and a
// run resumed from its runtime info ends as the uninterrupted one.
// The off side (every extension at its default = mmengine) is the
// differential property `Differential.CkptDefaultsAgreeWithMmengine`.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <ostream>
#include <regex>
#include <set>
#include <string>
#include <unistd.h>
#include <variant>
#include <vector>
#include "adapter.hpp"

namespace {

namespace fs = std::filesystem;
namespace py = ckpt::py;
using py::Value;

const std::string work_dir = "work_dirs/exp";
const Value null;

/// A generated run: the hook's mmengine keywords and its events, as a
/// protocol case; prints as the case file.
struct Run {
  py::Dict hook;
  bool by_epoch = true;
  int epochs = 1, per_epoch = 1;
  py::List events;
  py::Dict runtime_info;
  py::List files;
  std::vector<std::string> keys;  // save_best keys, in order
};

Value case_json(const Run& r, const char* profile, const py::Dict& extra = {}) {
  py::Dict hook = r.hook;
  for (const auto& kv : extra) hook.push_back(kv);
  return Value(py::Dict{{"id", std::string("generated/") + profile},
                        {"profile", profile},
                        {"hook", hook},
                        {"runner", py::Dict{{"kind", r.by_epoch ? "epoch" : "iter"}, {"work_dir", work_dir},
                                            {"max_epochs", r.by_epoch ? r.epochs : 1},
                                            {"max_iters", r.epochs * r.per_epoch}}},
                        {"runtime_info", r.runtime_info},
                        {"files", r.files},
                        {"events", r.events}});
}

std::ostream& operator<<(std::ostream& os, const Run& r) {
  return os << "\ncase file (profile mmengine; the property adds its keywords):\n"
            << ckpt::json::dump(case_json(r, "mmengine")) << "\n";
}

struct Shape {
  bool best = true;       // generate save_best and metrics
  bool periodic = true;   // generate interval / max_keep_ckpts
  bool resumed = true;    // sometimes resume with keep_ckpt_ids and files
};

/// mmengine's loops (tools/trace): the hook's by_epoch matches the loop;
/// every event carries a time (seconds, increasing).
rc::Gen<Run> run_gen(Shape shape) {
  return rc::gen::exec([shape] {
    Run r;
    r.by_epoch = *rc::gen::arbitrary<bool>();
    r.epochs = *rc::gen::inRange(1, 8);
    r.per_epoch = *rc::gen::inRange(1, 4);
    int val_every = *rc::gen::inRange(1, 4);
    r.hook = {{"by_epoch", r.by_epoch}};
    if (shape.periodic) {
      r.hook.emplace_back("interval", *rc::gen::element(-1, 1, 1, 2, 3));
      r.hook.emplace_back("max_keep_ckpts", *rc::gen::element(-1, 1, 2, 3));
      r.hook.emplace_back("save_begin", *rc::gen::element(0, 0, 1, 2));
    }
    r.hook.emplace_back("save_last", *rc::gen::arbitrary<bool>());
    if (*rc::gen::arbitrary<bool>()) r.hook.emplace_back("save_param_scheduler", *rc::gen::arbitrary<bool>());
    if (shape.best) {
      r.keys = *rc::gen::element(std::vector<std::string>{"acc"}, std::vector<std::string>{"loss"},
                                 std::vector<std::string>{"acc", "loss"},
                                 std::vector<std::string>{"coco/bbox_mAP", "loss"});
      r.hook.emplace_back("save_best", r.keys.size() == 1 ? Value(r.keys[0])
                                                          : Value(py::List(r.keys.begin(), r.keys.end())));
    }
    const std::string tmpl = r.by_epoch ? "epoch_" : "iter_";
    if (shape.resumed && shape.periodic && *rc::gen::inRange(0, 4) == 0) {
      r.runtime_info = {{"keep_ckpt_ids", py::List{1, 2, 3, 4}}};
      r.files = {work_dir + "/" + tmpl + "1.pth", work_dir + "/" + tmpl + "2.pth", work_dir + "/" + tmpl + "3.pth",
                 work_dir + "/" + tmpl + "4.pth"};
    }
    double t = *rc::gen::inRange(0, 100);
    auto event = [&](py::Dict e) {
      t += *rc::gen::inRange(0, 6);
      e.emplace_back("time", t);
      r.events.push_back(Value(std::move(e)));
    };
    auto val = [&](std::int64_t e, std::int64_t i) {
      if (r.keys.empty()) return;
      py::Dict m;
      for (const auto& k : r.keys) m.emplace_back(k, *rc::gen::element(Value(0.1), Value(0.3), Value(0.5), Value(0.5),
                                                                         Value(0.7), Value(0.9), null, Value("NaN")));
      event({{"hook", "after_val_epoch"}, {"epoch", e}, {"iter", i}, {"metrics", m}});
    };
    event({{"hook", "before_train"}, {"epoch", 0}, {"iter", 0}});
    std::int64_t iter = 0;
    for (int e = 0; e < r.epochs; ++e) {
      for (int b = 0; b < r.per_epoch; ++b, ++iter) {
        event({{"hook", "after_train_iter"}, {"epoch", r.by_epoch ? e : 0}, {"iter", iter},
               {"batch_idx", r.by_epoch ? b : iter}});
        if (!r.by_epoch && (iter + 1) % val_every == 0) val(0, iter + 1);
      }
      if (r.by_epoch) {
        event({{"hook", "after_train_epoch"}, {"epoch", e}, {"iter", iter}});
        if ((e + 1) % val_every == 0) val(e + 1, iter);
      }
    }
    if (!r.by_epoch) event({{"hook", "after_train_epoch"}, {"epoch", 0}, {"iter", iter}});
    event({{"hook", "after_train"}, {"epoch", r.by_epoch ? r.epochs : 0}, {"iter", iter}});
    return r;
  });
}

// ---- observations

// The scratch directory: a tmpfs when there is one (the store fsyncs every
// write, which costs more than the rest of a case on a disk).
fs::path scratch() {
  static const fs::path root = [] {
    std::error_code ec;
    fs::path base = fs::is_directory("/dev/shm", ec) && ::access("/dev/shm", W_OK) == 0 ? fs::path("/dev/shm")
                                                                                           : fs::temp_directory_path();
    return base / ("ckpt-ext-props-" + std::to_string(::getpid()));
  }();
  static const struct Cleanup {
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(root, ec);  // this process's own scratch directory
    }
  } cleanup;
  return root;
}

Value observe(const Value& json) {
  static int n = 0;
  fs::path dir = scratch() / std::to_string(n++);
  fs::create_directories(dir);
  auto obs = adapter::run_case(adapter::parse_case(json), dir);
  fs::remove_all(dir);  // the test's own scratch directory
  return obs;
}

const py::Dict& dict(const Value& v) { return v.as<py::Dict>(); }
const Value& at(const Value& v, const char* key) {
  static const Value absent;
  const auto* x = py::find(dict(v), key);
  return x ? *x : absent;
}
const py::List& steps(const Value& obs) { return at(obs, "steps").as<py::List>(); }
std::vector<std::string> strings(const Value& list) {
  std::vector<std::string> out;
  for (const auto& x : list.as<py::List>()) out.push_back(x.as<std::string>());
  return out;
}
bool is_best(const std::string& path) { return py::path::basename(path).rfind("best_", 0) == 0; }

std::set<std::string> files_where(const Value& step, bool best) {
  std::set<std::string> out;
  for (const auto& f : strings(at(step, "files")))
    if (is_best(f) == best) out.insert(f);
  return out;
}
py::List saves_where(const Value& step, bool best) {
  py::List out;
  for (const auto& s : at(step, "saves").as<py::List>())
    if (is_best(at(s, "filename").as<std::string>()) == best) out.push_back(s);
  return out;
}
py::Dict info_without(const Value& step, const std::string& prefix) {
  py::Dict out;
  for (const auto& [k, v] : dict(at(step, "runtime_info")))
    if (k.rfind(prefix, 0) != 0) out.emplace_back(k, v);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}
Value error_of(const Value& obs) {
  const auto& e = at(obs, "error");
  if (e.is_none()) return e;
  return Value(py::Dict{{"type", at(e, "type")}, {"event", at(e, "event")}});
}

// The periodic step a default-named file stands for.
std::optional<std::int64_t> periodic_step(const std::string& path) {
  static const std::regex name(R"((epoch|iter)_(\d+)\.pth)");
  std::smatch m;
  std::string base = py::path::basename(path);
  if (!std::regex_match(base, m, name)) return std::nullopt;
  return std::stoll(m[2].str());
}

/// Runs `r` as mmengine and with `extra` keywords as ckpt; both without error
/// and with one step per event.
std::pair<Value, Value> both(const Run& r, const py::Dict& extra) {
  auto base = observe(case_json(r, "mmengine"));
  auto ours = observe(case_json(r, "ckpt", extra));
  RC_ASSERT(error_of(ours) == error_of(base));
  RC_ASSERT(steps(ours).size() == steps(base).size());
  return {base, ours};
}

double score_of(const Value& v) { return v.is<double>() ? v.as<double>() : static_cast<double>(v.as<std::int64_t>()); }

}  // namespace

// X1: periodic files, last_checkpoint, keep_ckpt_ids, best_score/best_ckpt
// and every non-best save are mmengine's at every event; the best files of
// each key are exactly the N best scores so far (the earlier among equals).
RC_GTEST_PROP(ExtensionProperties, X1_KeepBestChangesOnlyTheBestFiles, ()) {
  auto r = *run_gen({.best = true, .periodic = true, .resumed = false});
  const std::int64_t n = *rc::gen::inRange(2, 5);
  auto [base, ours] = both(r, {{"keep_best", n}});
  std::map<std::string, std::vector<std::pair<double, std::string>>> seen;  // per key, in arrival order
  for (std::size_t i = 0; i < steps(ours).size(); ++i) {
    const auto &b = steps(base)[i], &o = steps(ours)[i];
    RC_ASSERT(files_where(o, false) == files_where(b, false));
    RC_ASSERT(saves_where(o, false) == saves_where(b, false));
    RC_ASSERT(at(o, "text") == at(b, "text"));
    RC_ASSERT(Value(info_without(o, "best_kept")) == Value(info_without(b, "best_kept")));
    const auto& e = r.events[i];
    if (at(e, "hook").as<std::string>() == "after_val_epoch") {
      std::int64_t step = (r.by_epoch ? at(e, "epoch") : at(e, "iter")).as<std::int64_t>();
      for (const auto& key : r.keys) {
        const auto& v = at(at(e, "metrics"), key.c_str());
        if (v.is_none() || v.is<std::string>()) continue;  // None and NaN never enter
        std::string name = "best_" + key + "_" + (r.by_epoch ? "epoch_" : "iter_") + std::to_string(step) + ".pth";
        std::replace(name.begin(), name.end(), '/', '_');
        seen[key].emplace_back(score_of(v), work_dir + "/" + name);
      }
    }
    std::set<std::string> expected;
    for (const auto& [key, scores] : seen) {
      bool greater = key != "loss";
      std::vector<std::size_t> order(scores.size());  // arrival order breaks ties: the earlier stays
      for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
      std::sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
        double a = scores[x].first, b = scores[y].first;
        return a != b ? (greater ? a > b : a < b) : x < y;
      });
      for (std::size_t k = 0; k < order.size() && k < static_cast<std::size_t>(n); ++k)
        expected.insert(scores[order[k]].second);
    }
    RC_ASSERT(files_where(o, true) == expected);
  }
}

// X2: the periodic files are mmengine's plus exactly the multiples of P that
// mmengine evicted; everything else is mmengine's.
RC_GTEST_PROP(ExtensionProperties, X2_KeepPeriodKeepsExactlyTheEvictedMultiples, ()) {
  auto r = *run_gen({.best = *rc::gen::arbitrary<bool>(), .periodic = true, .resumed = true});
  const std::int64_t p = *rc::gen::inRange(1, 5);
  auto [base, ours] = both(r, {{"keep_period", p}});
  std::set<std::string> archived;
  for (std::size_t i = 0; i < steps(ours).size(); ++i) {
    const auto &b = steps(base)[i], &o = steps(ours)[i];
    std::vector<std::string> removed;
    for (const auto& path : strings(at(b, "removed"))) {
      auto step = periodic_step(path);
      if (step && *step % p == 0) archived.insert(path);
      else removed.push_back(path);
    }
    RC_ASSERT(strings(at(o, "removed")) == removed);
    std::set<std::string> files = files_where(b, false);
    for (const auto& a : archived) files.insert(a);
    for (const auto& f : files_where(b, true)) files.insert(f);
    std::vector<std::string> got = strings(at(o, "files"));
    RC_ASSERT(std::set<std::string>(got.begin(), got.end()) == files);
    RC_ASSERT(at(o, "saves") == at(b, "saves"));
    RC_ASSERT(at(o, "text") == at(b, "text"));
    RC_ASSERT(at(o, "runtime_info") == at(b, "runtime_info"));
  }
}

// X3: best saves carry the optimizer and the hook's save_param_scheduler;
// nothing else changes.
RC_GTEST_PROP(ExtensionProperties, X3_BestSaveOptimizerChangesOnlyBestSaveArguments, ()) {
  auto r = *run_gen({.best = true, .periodic = true, .resumed = true});
  auto [base, ours] = both(r, {{"best_save_optimizer", true}});
  const auto* sps = py::find(r.hook, "save_param_scheduler");
  Value param_scheduler = sps ? *sps : Value(true);
  for (std::size_t i = 0; i < steps(ours).size(); ++i) {
    const auto &b = steps(base)[i], &o = steps(ours)[i];
    auto expected = at(b, "saves").as<py::List>();
    for (auto& s : expected)
      if (is_best(at(s, "filename").as<std::string>())) {
        py::set(s.as<py::Dict>(), "save_optimizer", true);
        py::set(s.as<py::Dict>(), "save_param_scheduler", param_scheduler);
      }
    RC_ASSERT(at(o, "saves") == Value(expected));
    for (const char* field : {"removed", "files", "text", "runtime_info"}) RC_ASSERT(at(o, field) == at(b, field));
  }
}

// X4: the periodic saves are mmengine's scheduled ones plus a save at every
// decision point where S seconds passed since the last periodic save (and
// E37's re-saves of this instance); best saves are mmengine's.
RC_GTEST_PROP(ExtensionProperties, X4_IntervalSecondsAddsExactlyTheTimedSaves, ()) {
  auto r = *run_gen({.best = *rc::gen::arbitrary<bool>(), .periodic = true, .resumed = false});
  const std::int64_t s = *rc::gen::inRange(1, 15);
  auto [base, ours] = both(r, {{"interval_seconds", s}});
  double last = at(r.events[0], "time").as<double>();
  bool saved = false;
  for (std::size_t i = 0; i < steps(ours).size(); ++i) {
    const auto &b = steps(base)[i], &o = steps(ours)[i];
    RC_ASSERT(saves_where(o, true) == saves_where(b, true));
    const auto& e = r.events[i];
    const auto hook = at(e, "hook").as<std::string>();
    double t = at(e, "time").as<double>();
    bool decision = hook == (r.by_epoch ? "after_train_epoch" : "after_train_iter");
    bool expect_save = false;
    if (decision) expect_save = !saves_where(b, false).empty() || t - last >= static_cast<double>(s);
    if (hook == "after_val_epoch") expect_save = saved && !saves_where(b, true).empty();  // E37
    RC_ASSERT(saves_where(o, false).empty() == !expect_save);
    if (expect_save) {
      last = t;
      saved = true;
      RC_ASSERT(at(at(o, "runtime_info"), "last_save_time") == Value(t));
    }
  }
}

// X5: a preemption anywhere saves once at the current step, as a periodic
// save (retention, last_ckpt, last_checkpoint), and nothing else; the events
// before it are mmengine's.
RC_GTEST_PROP(ExtensionProperties, X5_PreemptSavesOnceAtTheCurrentStep, ()) {
  auto r = *run_gen({.best = *rc::gen::arbitrary<bool>(), .periodic = true, .resumed = true});
  const auto k = *rc::gen::inRange<std::size_t>(1, r.events.size());  // after event k-1
  // the counters a call between hooks reads: completed epochs and iterations
  const auto& prev = r.events[k - 1];
  const auto hook = at(prev, "hook").as<std::string>();
  std::int64_t epoch = at(prev, "epoch").as<std::int64_t>(), iter = at(prev, "iter").as<std::int64_t>();
  if (hook == "after_train_iter") iter += 1;
  if (hook == "after_train_epoch" && r.by_epoch) epoch += 1;
  Run with = r;
  with.events.insert(with.events.begin() + static_cast<long>(k),
                     Value(py::Dict{{"hook", "preempt"}, {"epoch", epoch}, {"iter", iter}}));
  with.events.resize(k + 1);  // what follows a preemption is the resumed run's business
  Run before = r;
  before.events.resize(k);
  auto base = observe(case_json(before, "mmengine"));
  auto ours = observe(case_json(with, "ckpt"));
  RC_PRE(error_of(base).is_none());
  RC_ASSERT(error_of(ours).is_none());
  for (std::size_t i = 0; i < k; ++i) RC_ASSERT(steps(ours)[i] == steps(base)[i]);
  const auto& o = steps(ours)[k];
  std::int64_t step = r.by_epoch ? epoch : iter;
  std::string filename = (r.by_epoch ? "epoch_" : "iter_") + std::to_string(step) + ".pth";
  const auto& saves = at(o, "saves").as<py::List>();
  RC_ASSERT(saves.size() == 1u);
  RC_ASSERT(at(saves[0], "filename") == Value(filename));
  RC_ASSERT(at(saves[0], "meta") == Value(py::Dict{{"epoch", epoch}, {"iter", iter}}));
  RC_ASSERT(at(at(o, "runtime_info"), "last_ckpt") == Value(work_dir + "/" + filename));
  RC_ASSERT(at(o, "text") == Value(py::Dict{{work_dir + "/last_checkpoint", work_dir + "/" + filename}}));
  for (const auto& path : strings(at(o, "removed"))) RC_ASSERT(periodic_step(path).has_value());  // retention only
  const auto prev_files = strings(at(steps(base)[k - 1], "files"));
  for (const auto& f : strings(at(o, "files")))  // nothing new but the saved file
    RC_ASSERT(f == work_dir + "/" + filename || f == work_dir + "/last_checkpoint" ||
              std::find(prev_files.begin(), prev_files.end(), f) != prev_files.end());
}

// ---- the reducer itself: replay is a fold; resume ends as the whole run

namespace {

namespace hook = ckpt::hook;

std::vector<hook::Event> reducer_events(const Run& r) {
  std::vector<hook::Event> out;
  const std::int64_t max_epochs = r.by_epoch ? r.epochs : 1, max_iters = r.epochs * r.per_epoch;
  for (const auto& e : r.events) {
    hook::Runner at_{"/w/exp", at(e, "epoch").as<std::int64_t>(), at(e, "iter").as<std::int64_t>(), max_epochs,
                     max_iters, true, at(e, "time").as<double>()};
    auto name = at(e, "hook").as<std::string>();
    if (name == "before_train") out.push_back(hook::BeforeTrain{at_});
    else if (name == "after_train_iter") out.push_back(hook::AfterTrainIter{at_, at(e, "batch_idx").as<std::int64_t>()});
    else if (name == "after_train_epoch") out.push_back(hook::AfterTrainEpoch{at_});
    else if (name == "after_val_epoch") {
      py::Dict m;
      for (const auto& [k, v] : dict(at(e, "metrics")))
        m.emplace_back(k, v.is<std::string>() ? Value(std::numeric_limits<double>::quiet_NaN()) : v);
      out.push_back(hook::AfterValEpoch{at_, m});
    } else out.push_back(hook::AfterTrain{at_});
  }
  return out;
}

hook::State ckpt_state(const py::Dict& kwargs, py::Dict info = {}) {
  auto s = hook::init(ckpt::ckpt_config_from_kwargs(kwargs), std::move(info));
  RC_ASSERT(s.ok());
  return std::move(s).value();
}

struct Folded {
  hook::State state;
  std::vector<hook::Outcome> outcomes;
};
Folded fold(hook::State s, const std::vector<hook::Event>& events) {
  Folded f{std::move(s), {}};
  for (const auto& e : events) {
    f.outcomes.push_back(hook::advance(f.state, e));
    RC_ASSERT(!f.outcomes.back().error);
  }
  return f;
}

py::Dict all_extensions(const Run& r) {
  py::Dict k = r.hook;
  k.emplace_back("keep_best", *rc::gen::inRange(1, 4));
  k.emplace_back("keep_period", *rc::gen::element(null, Value(2), Value(3)));
  k.emplace_back("best_save_optimizer", *rc::gen::arbitrary<bool>());
  k.emplace_back("interval_seconds", *rc::gen::element(null, Value(3), Value(7.5)));
  return k;
}

// The runtime-info keys and the files a plan sequence leaves.
std::set<std::string> disk_after(const std::vector<hook::Outcome>& outcomes, std::set<std::string> files = {}) {
  for (const auto& o : outcomes)
    for (const auto& e : o.plan) {
      if (const auto* save = std::get_if<ckpt::SaveCheckpoint>(&e)) files.insert(py::path::join(save->out_dir, save->filename));
      if (const auto* rm = std::get_if<ckpt::RemoveCheckpoint>(&e)) files.erase(rm->path);
    }
  return files;
}

}  // namespace

RC_GTEST_PROP(ExtensionProperties, ReplayIsAFold_SplitAnywhere, ()) {
  auto r = *run_gen({.best = true, .periodic = true, .resumed = false});
  auto kwargs = all_extensions(r);
  auto events = reducer_events(r);
  auto whole = fold(ckpt_state(kwargs), events);
  auto cut = *rc::gen::inRange<std::size_t>(0, events.size() + 1);
  auto first = fold(ckpt_state(kwargs), {events.begin(), events.begin() + static_cast<long>(cut)});
  auto second = fold(first.state, {events.begin() + static_cast<long>(cut), events.end()});
  auto joined = first.outcomes;
  joined.insert(joined.end(), second.outcomes.begin(), second.outcomes.end());
  RC_ASSERT(joined == whole.outcomes);
  RC_ASSERT(second.state == whole.state);
}

// A run split anywhere after its first save and resumed from its runtime
// info (a fresh hook, before_train, the rest of the events) plans the same
// saves and removals and ends with the same files and runtime info.
// Two shapes, so that mmengine's instance-local `last_ckpt` (E37's re-save
// and E41's publish need a save *by this instance*) cannot differ: best
// checkpoints without periodic saves (X1's kept lists survive), and
// periodic saves without best ones (X2, X4's clock survive).
RC_GTEST_PROP(ExtensionProperties, ResumeFromRuntimeInfoEndsAsTheWholeRun, ()) {
  bool best = *rc::gen::arbitrary<bool>();
  auto r = *run_gen({.best = best, .periodic = !best, .resumed = false});
  if (best) {
    py::set(r.hook, "interval", -1);
    py::set(r.hook, "save_last", false);
  }
  auto kwargs = all_extensions(r);
  if (best) py::set(kwargs, "interval_seconds", null);  // timed saves are periodic ones
  auto events = reducer_events(r);
  auto whole = fold(ckpt_state(kwargs), events);
  std::vector<std::size_t> cuts;  // after the first save, before after_train
  bool saved_yet = false;
  for (std::size_t i = 0; i + 1 < events.size(); ++i) {
    for (const auto& e : whole.outcomes[i].plan) saved_yet = saved_yet || std::holds_alternative<ckpt::SaveCheckpoint>(e);
    if (saved_yet) cuts.push_back(i + 1);
  }
  RC_PRE(!cuts.empty());
  auto cut = *rc::gen::elementOf(cuts);
  auto first = fold(ckpt_state(kwargs), {events.begin(), events.begin() + static_cast<long>(cut)});
  // the resumed process: runtime info and disk as the first left them
  auto resumed = ckpt_state(kwargs, first.state.runtime_info);
  auto next = std::visit([](const auto& e) { return e.runner; }, events[cut]);
  auto start = fold(resumed, {hook::BeforeTrain{next}});
  RC_ASSERT(disk_after(start.outcomes).empty());  // resuming deletes nothing here (no trim: ids fit)
  auto rest = fold(start.state, {events.begin() + static_cast<long>(cut), events.end()});
  for (std::size_t i = 0; i < rest.outcomes.size(); ++i) {
    auto effects = [](const ckpt::Plan& p) {
      ckpt::Plan out;
      for (const auto& e : p)
        if (!std::holds_alternative<ckpt::Log>(e)) out.push_back(e);
      return out;
    };
    RC_ASSERT(effects(rest.outcomes[i].plan) == effects(whole.outcomes[cut + i].plan));
  }
  RC_ASSERT(disk_after(rest.outcomes, disk_after(first.outcomes)) == disk_after(whole.outcomes));
  RC_ASSERT(Value(hook::hook_runtime_info(rest.state.runtime_info, true)) ==
            Value(hook::hook_runtime_info(whole.state.runtime_info, true)));
}

// The same for every run shape, resumed as the Checkpointer resumes under
// the safe ordering (Engine::converge): the fresh hook also takes the
// crashed instance's `last_ckpt` from the runtime info, so E37's re-save
// and E41's publish need no save by the new instance. Best and periodic
// saves together, every extension on: the resumed run plans what the whole
// run plans and ends with its files and runtime info.
RC_GTEST_PROP(ExtensionProperties, ResumeAsTheCheckpointerDoesEndsAsTheWholeRunInEveryShape, ()) {
  auto r = *run_gen({.best = *rc::gen::arbitrary<bool>(), .periodic = true, .resumed = false});
  auto kwargs = all_extensions(r);
  auto events = reducer_events(r);
  auto whole = fold(ckpt_state(kwargs), events);
  // Cuts after the first save; with interval_seconds, after the first
  // periodic one: before it, X4's clock starts at before_train (no
  // last_save_time to resume), so a resumed run rightly starts it anew.
  const bool timed = !py::find(kwargs, "interval_seconds")->is_none();
  std::vector<std::size_t> cuts;
  bool saved_yet = false, clock_yet = !timed;
  for (std::size_t i = 0; i + 1 < events.size(); ++i) {
    for (const auto& e : whole.outcomes[i].plan) {
      saved_yet = saved_yet || std::holds_alternative<ckpt::SaveCheckpoint>(e);
      if (const auto* set = std::get_if<ckpt::SetRuntimeInfo>(&e)) clock_yet = clock_yet || set->key == "last_save_time";
    }
    if (saved_yet && clock_yet) cuts.push_back(i + 1);
  }
  RC_PRE(!cuts.empty());
  auto cut = *rc::gen::elementOf(cuts);
  auto first = fold(ckpt_state(kwargs), {events.begin(), events.begin() + static_cast<long>(cut)});
  auto resumed = ckpt_state(kwargs, first.state.runtime_info);
  if (const auto* last = py::find(first.state.runtime_info, "last_ckpt"); last && last->is<std::string>())
    resumed.last_ckpt = *last;  // what Engine::converge restores
  auto next = std::visit([](const auto& e) { return e.runner; }, events[cut]);
  auto start = fold(resumed, {hook::BeforeTrain{next}});
  RC_ASSERT(disk_after(start.outcomes).empty());
  auto rest = fold(start.state, {events.begin() + static_cast<long>(cut), events.end()});
  auto effects = [](const ckpt::Plan& p) {
    ckpt::Plan out;
    for (const auto& e : p)
      if (!std::holds_alternative<ckpt::Log>(e)) out.push_back(e);
    return out;
  };
  for (std::size_t i = 0; i < rest.outcomes.size(); ++i)
    RC_ASSERT(effects(rest.outcomes[i].plan) == effects(whole.outcomes[cut + i].plan));
  RC_ASSERT(disk_after(rest.outcomes, disk_after(first.outcomes)) == disk_after(whole.outcomes));
  RC_ASSERT(Value(hook::hook_runtime_info(rest.state.runtime_info, true)) ==
            Value(hook::hook_runtime_info(whole.state.runtime_info, true)));
}

// Every extension on at once: nothing is ever removed outside out_dir, as
// planned (every RemoveCheckpoint of every plan) and as done on disk (the
// store skips a missing path, so a plan aimed elsewhere may show only here).
RC_GTEST_PROP(ExtensionProperties, NothingRemovedOutsideOutDir, ()) {
  auto r = *run_gen({.best = *rc::gen::arbitrary<bool>(), .periodic = true, .resumed = true});
  bool elsewhere = *rc::gen::arbitrary<bool>();
  if (elsewhere) r.hook.emplace_back("out_dir", "ckpts");
  auto kwargs = all_extensions(r);
  py::set(kwargs, "keep_best", *rc::gen::inRange(2, 4));  // evictions of best files too
  auto events = reducer_events(r);
  auto planned = fold(ckpt_state(kwargs, r.runtime_info), events);
  const std::string planned_dir = elsewhere ? "ckpts/exp/" : "/w/exp/";
  for (const auto& o : planned.outcomes)
    for (const auto& e : o.plan)
      if (const auto* rm = std::get_if<ckpt::RemoveCheckpoint>(&e); rm && rm->path.rfind(planned_dir, 0) != 0)
        RC_FAIL("planned a removal outside " + planned_dir + ": " + rm->path);
  py::Dict extra;
  for (std::size_t i = r.hook.size(); i < kwargs.size(); ++i) extra.push_back(kwargs[i]);
  auto obs = observe(case_json(r, "ckpt", extra));
  const std::string out_dir = (elsewhere ? "ckpts/exp" : work_dir) + "/";
  for (const auto& st : steps(obs))
    for (const auto& path : strings(at(st, "removed")))
      if (path.rfind(out_dir, 0) != 0) RC_FAIL("removed outside " + out_dir + ": " + path);
}
