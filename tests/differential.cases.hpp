// The differential test's case generator. Each case is aimed at one group
// of clauses (its focus) and draws what that group needs more often than a
// blind draw would: without it, a change to rule inference (E10) needed
// ~300 cases to show up, since a blind draw rarely pairs an inferable
// save_best key with metrics carrying it. Foci (mmengine):
//   anything   every parameter absent or from a pool mixing valid values with
//              the odd types users pass by mistake (construction errors, E3–E8)
//   best       save_best from keys that reach every branch of E10's inference
//              order (exact, substring, both substrings, case, uninferable),
//              metrics that carry them, validation often, scores that move
//              both ways with ties, None and NaN (E10, E33–E37, E41)
//   retention  valid schedules with max_keep_ckpts 1..3, resumed runs,
//              templates with format specs or no {} (E16–E24, E30, B61)
//   publish    published_keys with save_last either way (E41, E42)
// mmcv: anything, or valid schedules with retention (C49–C53, C56).
// docs/testing.md gives how many cases each planted mutant needs.
#pragma once
#include <rapidcheck.h>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>
import ckpt;

namespace differential {

namespace py = ckpt::py;
using py::Value;

inline const Value null;

inline Value pick(std::initializer_list<Value> pool) { return *rc::gen::elementOf(std::vector<Value>(pool)); }
inline bool chance(int percent) { return *rc::gen::inRange(0, 100) < percent; }
inline void maybe(py::Dict& kwargs, const char* key, std::initializer_list<Value> pool, int percent_present = 40) {
  if (chance(percent_present)) kwargs.emplace_back(key, pick(pool));
}
inline Value list(std::initializer_list<Value> xs) { return Value(py::List(xs)); }

enum class Focus { anything, best, retention, publish };

inline Focus mmengine_focus() {
  return *rc::gen::weightedElement<Focus>(
      {{30, Focus::anything}, {35, Focus::best}, {20, Focus::retention}, {15, Focus::publish}});
}

// ---- mmengine keyword arguments ----------------------------------------------

inline py::Dict anything_kwargs(bool by_epoch_loop) {
  py::Dict k;
  maybe(k, "interval", {-1, 0, 1, 2, 3, 2.0, "2", null, true}, 80);
  k.emplace_back("by_epoch", chance(80) ? Value(by_epoch_loop) : pick({0, 1, "", "yes", null}));
  maybe(k, "save_optimizer", {true, false, "x", null}, 15);
  maybe(k, "save_param_scheduler", {true, false, 0}, 15);
  maybe(k, "out_dir", {null, "ckpts", "", "work_dirs/exp", "work_dirs/exp/", "a/b/", 5, false}, 25);
  maybe(k, "max_keep_ckpts", {-1, 0, 1, 2, 3, 2.0, "2", null, true}, 60);
  maybe(k, "save_last", {true, false, 0, "x"}, 30);
  maybe(k, "save_best",
        {"acc", "loss", "auto", list({"acc", "loss"}), list({"auto"}), list({"auto", "acc"}), list({}), "", 5,
         list({"acc", "acc"}), "coco/bbox_mAP", "mse", list({"loss", "coco/bbox_mAP"})},
        55);
  maybe(k, "rule", {null, "greater", "less", list({"less"}), list({"greater", "less"}), "bad", 3,
                    list({"greater", "less", "less"})},
        20);
  maybe(k, "greater_keys", {null, "acc", list({"mse"}), list({}), 5, list({1})}, 10);
  maybe(k, "less_keys", {null, "loss", list({"mse", "loss"}), list({}), list({null})}, 10);
  maybe(k, "filename_tmpl", {null, "ep_{}.pth", "{:03d}.pth", "fixed.pth", "{}_{}.pth", "{name}.pth", 5,
                             "ckpt_{!r}.pth", "{:>4}.pth", "{:s}.pth", "a/{}.pth"},
        20);
  maybe(k, "published_keys", {null, "meta", list({"meta", "state_dict"}), list({"meta", "meta"}), 5, list({})}, 15);
  maybe(k, "save_begin", {0, 1, 3, -1, "1", null, 1.5, true}, 25);
  maybe(k, "file_client_args", {null, Value(py::Dict{{"backend", "disk"}})}, 5);
  maybe(k, "backend_args", {null, Value(py::Dict{{"backend", "local"}}), 5}, 5);
  maybe(k, "create_symlink", {false}, 4);
  return k;
}

/// A valid schedule: what retention and best saves are measured against.
inline py::Dict schedule_kwargs(bool by_epoch_loop, int keep_percent) {
  py::Dict k{{"interval", pick({-1, 1, 1, 2, 3})}, {"by_epoch", by_epoch_loop}};
  maybe(k, "save_begin", {0, 1, 2, 3}, 35);
  maybe(k, "save_last", {true, false}, 40);
  maybe(k, "max_keep_ckpts", {-1, 1, 2, 3}, keep_percent);
  maybe(k, "filename_tmpl", {"ep_{}.pth", "{:03d}.pth", "ckpt.pth", "{:>4}.pth"}, 20);
  return k;
}

/// save_best keys reaching every branch of E10's inference order (E7 defaults
/// unless greater_keys / less_keys move them).
inline Value best_keys() {
  return pick({"acc", "loss", "val/loss", "Val/LOSS", "acc_loss", "top1_loss", "coco/bbox_mAP", "AR@100", "mse",
               "F1", "auto", list({"acc", "loss"}), list({"loss", "coco/bbox_mAP"}), list({"Val/LOSS", "mAcc"})});
}

inline py::Dict best_kwargs(bool by_epoch_loop) {
  py::Dict k = schedule_kwargs(by_epoch_loop, 40);
  k.emplace_back("save_best", best_keys());
  maybe(k, "rule", {"greater", "less", list({"less"})}, 20);
  maybe(k, "greater_keys", {list({"loss"}), list({"mse", "f1"}), "top"}, 12);
  maybe(k, "less_keys", {list({"acc"}), list({"mse"}), "f1"}, 12);
  maybe(k, "published_keys", {"meta", list({"meta", "state_dict"})}, 15);
  return k;
}

inline py::Dict retention_kwargs(bool by_epoch_loop) {
  py::Dict k = schedule_kwargs(by_epoch_loop, 100);
  maybe(k, "save_best", {"acc", "loss"}, 35);
  return k;
}

inline py::Dict publish_kwargs(bool by_epoch_loop) {
  py::Dict k = schedule_kwargs(by_epoch_loop, 40);
  k.emplace_back("published_keys", pick({"meta", list({"meta", "state_dict"}), list({"state_dict"})}));
  k.emplace_back("save_last", pick({true, false, false}));
  maybe(k, "save_best", {"acc", list({"acc", "loss"})}, 50);
  return k;
}

/// The metric keys a validation reports: for a save_best, its keys (in some
/// order, now and then with one more or one missing); else a fixed set.
inline std::vector<std::string> metric_keys(const py::Dict& kwargs, bool focused) {
  const Value* best = py::find(kwargs, "save_best");
  std::vector<std::string> keys;
  if (focused && best) {
    if (best->is<std::string>()) keys = {best->as<std::string>()};
    if (best->is<py::List>())
      for (const auto& v : best->as<py::List>())
        if (v.is<std::string>()) keys.push_back(v.as<std::string>());
    for (auto& key : keys)
      if (key == "auto") key = *rc::gen::elementOf(std::vector<std::string>{"acc", "loss", "mse", "Val/LOSS"});
    if (keys.size() > 1 && chance(30)) std::swap(keys[0], keys[1]);
    if (chance(10)) keys.push_back("extra/acc");
    if (!keys.empty() && chance(5)) keys.pop_back();  // E35: a missing key
    return keys;
  }
  return *rc::gen::elementOf(std::vector<std::vector<std::string>>{
      {"acc"}, {"loss", "acc"}, {"acc", "loss"}, {"coco/bbox_mAP", "loss"}, {"mse", "acc"}, {}});
}

inline Value metric_value(bool focused) {
  if (focused) return pick({0.1, 0.3, 0.5, 0.5, 0.7, 0.9, 1, null, "NaN"});
  return pick({0.1, 0.5, 0.5, 0.9, 1, null, "NaN", "Infinity", "-Infinity"});
}

// ---- the reference train loops (tools/trace documents them): counters as
// each hook call reads them; validation sees completed counts.

inline py::List mmengine_events(bool by_epoch_loop, int epochs, int per_epoch, int val_every,
                                const std::vector<std::string>& keys, bool focused) {
  py::List ev{Value(py::Dict{{"hook", "before_train"}, {"epoch", 0}, {"iter", 0}})};
  auto val = [&](std::int64_t e, std::int64_t i) {
    py::Dict m;
    for (const auto& key : keys) m.emplace_back(key, metric_value(focused));
    if (*rc::gen::inRange(0, 20) == 0) m.clear();  // E31: empty metrics
    ev.push_back(Value(py::Dict{{"hook", "after_val_epoch"}, {"epoch", e}, {"iter", i}, {"metrics", m}}));
  };
  std::int64_t iter = 0;
  if (by_epoch_loop) {
    for (int e = 0; e < epochs; ++e) {
      for (int b = 0; b < per_epoch; ++b, ++iter)
        ev.push_back(Value(py::Dict{{"hook", "after_train_iter"}, {"epoch", e}, {"iter", iter}, {"batch_idx", b}}));
      ev.push_back(Value(py::Dict{{"hook", "after_train_epoch"}, {"epoch", e}, {"iter", iter}}));
      if ((e + 1) % val_every == 0 && !keys.empty()) val(e + 1, iter);
    }
  } else {
    for (; iter < epochs * per_epoch; ++iter) {
      ev.push_back(
          Value(py::Dict{{"hook", "after_train_iter"}, {"epoch", 0}, {"iter", iter}, {"batch_idx", iter % per_epoch}}));
      if ((iter + 1) % val_every == 0 && !keys.empty()) val(0, iter + 1);
    }
  }
  ev.push_back(Value(py::Dict{{"hook", "after_train"}, {"epoch", by_epoch_loop ? epochs : 0}, {"iter", iter}}));
  return ev;
}

inline Value mmengine_case() {
  const Focus focus = mmengine_focus();
  const bool by_epoch_loop = *rc::gen::arbitrary<bool>();
  const bool focused = focus != Focus::anything;
  const int epochs = *rc::gen::inRange(1, focused ? 9 : 7), per_epoch = *rc::gen::inRange(1, 4);
  const int val_every = focused ? *rc::gen::weightedElement<int>({{3, 1}, {1, 2}}) : *rc::gen::inRange(1, 4);
  py::Dict kwargs = focus == Focus::best        ? best_kwargs(by_epoch_loop)
                    : focus == Focus::retention ? retention_kwargs(by_epoch_loop)
                    : focus == Focus::publish   ? publish_kwargs(by_epoch_loop)
                                                : anything_kwargs(by_epoch_loop);
  const std::string wd = "work_dirs/exp";
  py::Dict info;
  py::List files;
  if (chance(focus == Focus::retention ? 50 : 20)) {  // a resumed run (E15, E16)
    info = {{"keep_ckpt_ids", list({1, 2, 3})}, {"best_score", 0.6}, {"best_ckpt", wd + "/best_acc_epoch_2.pth"}};
    files = {wd + "/epoch_1.pth", wd + "/epoch_2.pth", wd + "/epoch_3.pth", wd + "/best_acc_epoch_2.pth",
             wd + "/iter_2.pth/"};
  }
  py::Dict c{{"id", "generated/mmengine"},
             {"profile", "mmengine"},
             {"hook", kwargs},
             {"runner", py::Dict{{"kind", by_epoch_loop ? "epoch" : "iter"}, {"work_dir", wd},
                                 {"max_epochs", by_epoch_loop ? epochs : 1}, {"max_iters", epochs * per_epoch}}},
             {"runtime_info", info},
             {"files", files},
             {"events", mmengine_events(by_epoch_loop, epochs, per_epoch, val_every, metric_keys(kwargs, focused),
                                        focused)}};
  return Value(std::move(c));
}

// ---- mmcv ----------------------------------------------------------------------

inline py::Dict mmcv_kwargs(bool by_epoch_loop, bool focused) {
  py::Dict k;
  if (focused) {  // C49–C53, C56 on valid values: retention over a schedule, with interval 0 (C53)
    k = {{"interval", pick({-1, 0, 1, 1, 2, 3})}, {"by_epoch", by_epoch_loop}};
    maybe(k, "max_keep_ckpts", {1, 2, 3, -1}, 80);
    maybe(k, "save_last", {true, false}, 50);
    maybe(k, "filename_tmpl", {"ep_{}.pth", "{:03d}.pth", "ckpt.pth"}, 25);
    maybe(k, "create_symlink", {true, false}, 25);
    return k;
  }
  maybe(k, "interval", {-1, 0, 1, 2, 3, -2, 2.0, "2", null, true}, 85);
  k.emplace_back("by_epoch", chance(80) ? Value(by_epoch_loop) : pick({0, 1, "", null}));
  maybe(k, "save_optimizer", {true, false, "x"}, 15);
  maybe(k, "out_dir", {null, "ckpts", "", "work_dirs/exp", "a/b/", 5, false, 0}, 25);
  maybe(k, "max_keep_ckpts", {-1, 0, 1, 2, 3, 2.0, "2", null, true}, 60);
  maybe(k, "save_last", {true, false, 0, "x"}, 30);
  maybe(k, "sync_buffer", {true, false}, 15);
  maybe(k, "filename_tmpl", {"ep_{}.pth", "{:03d}.pth", "fixed.pth", "{}_{}.pth", "{name}.pth", 5}, 20);
  maybe(k, "create_symlink", {true, false, 0, "x"}, 20);
  maybe(k, "meta", {Value(py::Dict{{"note", "x"}}), Value(py::Dict{}), 5, null}, 15);
  maybe(k, "file_client_args", {null, Value(py::Dict{{"backend", "disk"}})}, 5);
  maybe(k, "unknown_kwarg", {1}, 3);
  return k;
}

inline py::List mmcv_events(bool epoch_runner, int epochs, int per_epoch) {
  py::List ev{Value(py::Dict{{"hook", "before_run"}, {"epoch", 0}, {"iter", 0}})};
  std::int64_t iter = 0;
  for (int e = 0; e < epochs; ++e) {
    for (int b = 0; b < per_epoch; ++b, ++iter)
      ev.push_back(Value(py::Dict{{"hook", "after_train_iter"}, {"epoch", epoch_runner ? e : 0}, {"iter", iter}}));
    if (epoch_runner) ev.push_back(Value(py::Dict{{"hook", "after_train_epoch"}, {"epoch", e}, {"iter", iter}}));
  }
  ev.push_back(Value(py::Dict{{"hook", "after_run"}, {"epoch", epoch_runner ? epochs : 0}, {"iter", iter}}));
  return ev;
}

inline Value mmcv_case() {
  const bool focused = chance(60);
  const bool epoch_runner = *rc::gen::arbitrary<bool>();
  const int epochs = *rc::gen::inRange(1, focused ? 10 : 7), per_epoch = *rc::gen::inRange(1, 4);
  py::Dict runner{{"kind", epoch_runner ? "epoch" : "iter"}, {"work_dir", "work_dirs/exp"},
                  {"max_epochs", epochs}, {"max_iters", epochs * per_epoch}};
  if (*rc::gen::arbitrary<bool>())
    runner.emplace_back("meta", pick({Value(py::Dict{}), Value(py::Dict{{"seed", 1}}),
                                      Value(py::Dict{{"hook_msgs", py::Dict{}}})}));
  const bool hook_by_epoch = focused || chance(80) ? epoch_runner : !epoch_runner;
  py::Dict c{{"id", "generated/mmcv"},
             {"profile", "mmcv"},
             {"hook", mmcv_kwargs(hook_by_epoch, focused)},
             {"runner", runner},
             {"events", mmcv_events(epoch_runner, epochs, per_epoch)}};
  return Value(std::move(c));
}

}  // namespace differential
