// Differential properties: generated configurations (valid and invalid, of
// every JSON type) and realistic traces run through the C++ library
// (in-process, the same code as ckpt-adapter) and through the REAL mmengine
// or mmcv (tools/adapter NAME serve, one process for the whole test), and
// must agree per protocol section 4. rapidcheck shrinks a difference to a
// minimal case and prints it as a ready-to-save case file.
//
// Count: RC_PARAMS="max_success=N" (ctest sets 500 per profile).
// CKPT_DIFF_AGAINST="COMMAND" compares with another adapter instead (run as
// `COMMAND serve`), e.g. the previous version's ckpt-adapter; see
// docs/property-testing.md. Skipped when the references are not installed
// and no other adapter is named.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <ostream>
#include <string>
#include <vector>
#include "adapter.hpp"

namespace {

namespace fs = std::filesystem;
namespace py = ckpt::py;
using py::Value;

/// A generated case; prints as the case file that reproduces it.
struct GenCase {
  Value json;
};
std::ostream& operator<<(std::ostream& os, const GenCase& c) {
  return os << "\ncase file (save as conformance/cases/<profile>/NAME.json):\n" << ckpt::json::dump(c.json) << "\n";
}

fs::path repo_root() { return fs::path(CKPT_SOURCE_DIR); }

// Asked once: rapidcheck builds the fixture (and runs SetUp) for every case.
const char* other_adapter() { return std::getenv("CKPT_DIFF_AGAINST"); }

bool references_installed() {
  static const bool installed = [] {
    if (other_adapter()) return true;
    std::string cmd = "'" + (repo_root() / ".venv/bin/python").string() + "' -c 'import mmengine, mmcv' 2>/dev/null";
    return std::system(cmd.c_str()) == 0;
  }();
  return installed;
}

adapter::ServeProcess& reference(const std::string& name) {
  static std::unique_ptr<adapter::ServeProcess> mmengine, mmcv;
  auto& slot = name == "mmengine" ? mmengine : mmcv;
  if (!slot) {
    std::vector<std::string> argv{(repo_root() / "tools/adapter").string(), name, "serve"};
    if (const char* other = other_adapter()) argv = {"/bin/sh", "-c", std::string("exec ") + other + " serve"};
    slot = std::make_unique<adapter::ServeProcess>(argv);
  }
  return *slot;
}

// ---- generators: each parameter absent or drawn from a pool mixing valid
// values with the odd types users pass by mistake.

Value pick(std::initializer_list<Value> pool) { return *rc::gen::elementOf(std::vector<Value>(pool)); }

void maybe(py::Dict& kwargs, const char* key, std::initializer_list<Value> pool, int percent_present = 40) {
  if (*rc::gen::inRange(0, 100) < percent_present) kwargs.emplace_back(key, pick(pool));
}

const Value null;
Value list(std::initializer_list<Value> xs) { return Value(py::List(xs)); }

py::Dict mmengine_kwargs(bool by_epoch_loop) {
  py::Dict k;
  maybe(k, "interval", {-1, 0, 1, 2, 3, 2.0, "2", null, true}, 80);
  k.emplace_back("by_epoch", *rc::gen::inRange(0, 10) < 8 ? Value(by_epoch_loop) : pick({0, 1, "", "yes", null}));
  maybe(k, "save_optimizer", {true, false, "x", null}, 15);
  maybe(k, "save_param_scheduler", {true, false, 0}, 15);
  maybe(k, "out_dir", {null, "ckpts", "", "work_dirs/exp", "work_dirs/exp/", "a/b/", 5, false}, 25);
  maybe(k, "max_keep_ckpts", {-1, 0, 1, 2, 3, 2.0, "2", null, true}, 60);
  maybe(k, "save_last", {true, false, 0, "x"}, 30);
  maybe(k, "save_best", {"acc", "loss", "auto", list({"acc", "loss"}), list({"auto"}), list({"auto", "acc"}),
                         list({}), "", 5, list({"acc", "acc"}), "coco/bbox_mAP", "mse", list({"loss", "coco/bbox_mAP"})},
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

py::Dict mmcv_kwargs(bool by_epoch_loop) {
  py::Dict k;
  maybe(k, "interval", {-1, 0, 1, 2, 3, -2, 2.0, "2", null, true}, 85);
  k.emplace_back("by_epoch", *rc::gen::inRange(0, 10) < 8 ? Value(by_epoch_loop) : pick({0, 1, "", null}));
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

Value metric_value() { return pick({0.1, 0.5, 0.5, 0.9, 1, null, "NaN", "Infinity", "-Infinity"}); }

// The reference train loops (tools/trace documents them): counters as each
// hook call reads them; validation sees completed counts.
py::List mmengine_events(bool by_epoch_loop, int epochs, int per_epoch, int val_every,
                         const std::vector<std::string>& keys) {
  py::List ev{Value(py::Dict{{"hook", "before_train"}, {"epoch", 0}, {"iter", 0}})};
  auto val = [&](std::int64_t e, std::int64_t i) {
    py::Dict m;
    for (const auto& key : keys) m.emplace_back(key, metric_value());
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
      ev.push_back(Value(py::Dict{{"hook", "after_train_iter"}, {"epoch", 0}, {"iter", iter}, {"batch_idx", iter % per_epoch}}));
      if ((iter + 1) % val_every == 0 && !keys.empty()) val(0, iter + 1);
    }
  }
  ev.push_back(Value(py::Dict{{"hook", "after_train"}, {"epoch", by_epoch_loop ? epochs : 0}, {"iter", iter}}));
  return ev;
}

py::List mmcv_events(bool epoch_runner, int epochs, int per_epoch) {
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

rc::Gen<GenCase> mmengine_case() {
  return rc::gen::exec([] {
    bool by_epoch_loop = *rc::gen::arbitrary<bool>();
    int epochs = *rc::gen::inRange(1, 7), per_epoch = *rc::gen::inRange(1, 4), val_every = *rc::gen::inRange(1, 4);
    auto keys = *rc::gen::elementOf(std::vector<std::vector<std::string>>{
        {"acc"}, {"loss", "acc"}, {"acc", "loss"}, {"coco/bbox_mAP", "loss"}, {"mse", "acc"}, {}});
    const std::string wd = "work_dirs/exp";
    py::Dict info;
    py::List files;
    if (*rc::gen::inRange(0, 5) == 0) {  // a resumed run
      info = {{"keep_ckpt_ids", list({1, 2, 3})}, {"best_score", 0.6}, {"best_ckpt", wd + "/best_acc_epoch_2.pth"}};
      files = {wd + "/epoch_1.pth", wd + "/epoch_2.pth", wd + "/epoch_3.pth", wd + "/best_acc_epoch_2.pth",
               wd + "/iter_2.pth/"};
    }
    py::Dict c{{"id", "generated/mmengine"},
               {"profile", "mmengine"},
               {"hook", mmengine_kwargs(by_epoch_loop)},
               {"runner", py::Dict{{"kind", by_epoch_loop ? "epoch" : "iter"}, {"work_dir", wd},
                                   {"max_epochs", by_epoch_loop ? epochs : 1}, {"max_iters", epochs * per_epoch}}},
               {"runtime_info", info},
               {"files", files},
               {"events", mmengine_events(by_epoch_loop, epochs, per_epoch, val_every, keys)}};
    return GenCase{Value(std::move(c))};
  });
}

rc::Gen<GenCase> mmcv_case() {
  return rc::gen::exec([] {
    bool epoch_runner = *rc::gen::arbitrary<bool>();
    int epochs = *rc::gen::inRange(1, 7), per_epoch = *rc::gen::inRange(1, 4);
    py::Dict runner{{"kind", epoch_runner ? "epoch" : "iter"}, {"work_dir", "work_dirs/exp"},
                    {"max_epochs", epochs}, {"max_iters", epochs * per_epoch}};
    if (*rc::gen::arbitrary<bool>()) runner.emplace_back("meta", pick({Value(py::Dict{}), Value(py::Dict{{"seed", 1}}),
                                                                      Value(py::Dict{{"hook_msgs", py::Dict{}}})}));
    py::Dict c{{"id", "generated/mmcv"},
               {"profile", "mmcv"},
               {"hook", mmcv_kwargs(*rc::gen::inRange(0, 10) < 8 ? epoch_runner : !epoch_runner)},
               {"runner", runner},
               {"events", mmcv_events(epoch_runner, epochs, per_epoch)}};
    return GenCase{Value(std::move(c))};
  });
}

void check_agreement(const GenCase& c, const char* profile) {
  static int n = 0;
  fs::path dir = fs::temp_directory_path() / ("ckpt-diff-" + std::to_string(::getpid())) / std::to_string(n++);
  fs::create_directories(dir);
  auto ours = adapter::run_case(adapter::parse_case(c.json), dir);
  fs::remove_all(dir);
  auto reply = reference(profile).ask(ckpt::json::dump(c.json));
  RC_ASSERT(reply.has_value());
  auto theirs = ckpt::json::parse(*reply);
  RC_ASSERT(theirs.ok());
  auto difference = adapter::first_difference(*theirs, ours);
  if (difference) RC_FAIL(std::string(other_adapter() ? other_adapter() : profile) + " vs cpp: " + *difference);
}

}  // namespace

class Differential : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!references_installed()) GTEST_SKIP() << "mmengine/mmcv not installed (run tools/setup)";
  }
};

RC_GTEST_FIXTURE_PROP(Differential, MmengineAgreesWithCpp, ()) { check_agreement(*mmengine_case(), "mmengine"); }

RC_GTEST_FIXTURE_PROP(Differential, MmcvAgreesWithCpp, ()) { check_agreement(*mmcv_case(), "mmcv"); }

#include "differential.ckpt.hpp"  // the ckpt profile at its defaults (issue 12)
