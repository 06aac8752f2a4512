// Properties of the pure core over generated configurations and realistic
// traces (rapidcheck shrinks any failure to a minimal scenario):
//   determinism; at most max_keep_ckpts periodic files after any event (E24);
//   best files <= number of metric keys (E35); no removal outside out_dir;
//   a trace split anywhere replays to the same result as one fold; the
//   plan's SetRuntimeInfo effects rebuild the state's runtime info.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <algorithm>
#include <cmath>
#include <limits>
#include <ostream>
#include <set>
#include <string>
#include <vector>
#include "support.hpp"

namespace {

namespace py = ckpt::py;
using ckpt::hook::Event;

/// A generated run: hook keyword arguments plus a train-loop shape.
struct Scenario {
  py::Dict kwargs;
  bool by_epoch = true;
  int epochs = 1;
  int iters_per_epoch = 1;
  int val_interval = 1;
  std::vector<py::Dict> metrics;  // one per validation
  int metric_keys = 1;
};

std::ostream& operator<<(std::ostream& os, const Scenario& s) {
  os << "kwargs=" << py::Value(s.kwargs) << " by_epoch=" << s.by_epoch << " epochs=" << s.epochs
     << " iters_per_epoch=" << s.iters_per_epoch << " val_interval=" << s.val_interval << " metrics=[";
  for (const auto& m : s.metrics) os << py::Value(m) << " ";
  return os << "]";
}

const std::vector<std::vector<std::string>> key_sets = {{"acc"}, {"loss"}, {"auto"}, {"acc", "loss"}, {"coco/bbox_mAP"},
                                                        {"top1", "val/loss", "mIoU"}};

rc::Gen<py::Value> metric_value() {
  return rc::gen::weightedOneOf<py::Value>({
      {6, rc::gen::map(rc::gen::inRange(0, 5), [](int x) { return py::Value(x / 4.0); })},
      {1, rc::gen::just(py::Value())},
      {1, rc::gen::just(py::Value(std::numeric_limits<double>::quiet_NaN()))},
  });
}

rc::Gen<Scenario> scenario() {
  return rc::gen::exec([] {
    Scenario s;
    s.by_epoch = *rc::gen::arbitrary<bool>();
    s.epochs = *rc::gen::inRange(1, 9);
    s.iters_per_epoch = *rc::gen::inRange(1, 5);
    s.val_interval = *rc::gen::inRange(1, 4);
    auto keys = *rc::gen::elementOf(key_sets);
    bool with_best = *rc::gen::arbitrary<bool>();
    s.kwargs = {{"interval", *rc::gen::inRange(-1, 5)},
                {"by_epoch", s.by_epoch},
                {"max_keep_ckpts", *rc::gen::inRange(-1, 4)},
                {"save_last", *rc::gen::arbitrary<bool>()},
                {"save_begin", *rc::gen::inRange(0, 4)}};
    if (with_best) {
      py::List l(keys.begin(), keys.end());
      s.kwargs.emplace_back("save_best", keys.size() == 1 ? py::Value(keys[0]) : py::Value(l));
      if (keys == std::vector<std::string>{"auto"}) keys = {"acc"};
    }
    s.metric_keys = static_cast<int>(keys.size());
    int validations = s.by_epoch ? s.epochs / s.val_interval : (s.epochs * s.iters_per_epoch) / s.val_interval;
    for (int v = 0; v < validations; ++v) {
      py::Dict m;
      for (const auto& k : keys) m.emplace_back(k, *metric_value());
      s.metrics.push_back(m);
    }
    return s;
  });
}

/// mmengine's train loops: epoch-based (validation after every
/// `val_interval` epochs) or iteration-based (every `val_interval` iters);
/// after_val_epoch sees completed counts.
std::vector<Event> trace(const Scenario& s) {
  const std::int64_t max_epochs = s.epochs, max_iters = s.epochs * s.iters_per_epoch;
  auto runner = [&](std::int64_t e, std::int64_t i) { return support::at(e, i, max_epochs, max_iters); };
  std::vector<Event> out{ckpt::hook::BeforeTrain{runner(0, 0)}};
  std::size_t v = 0;
  std::int64_t iter = 0;
  for (std::int64_t e = 0; e < s.epochs; ++e) {
    for (std::int64_t b = 0; b < s.iters_per_epoch; ++b, ++iter) {
      out.push_back(ckpt::hook::AfterTrainIter{runner(e, iter), b});
      if (!s.by_epoch && (iter + 1) % s.val_interval == 0 && v < s.metrics.size())
        out.push_back(ckpt::hook::AfterValEpoch{runner(e, iter + 1), s.metrics[v++]});
    }
    out.push_back(ckpt::hook::AfterTrainEpoch{runner(e, iter)});
    if (s.by_epoch && (e + 1) % s.val_interval == 0 && v < s.metrics.size())
      out.push_back(ckpt::hook::AfterValEpoch{runner(e + 1, iter), s.metrics[v++]});
  }
  out.push_back(ckpt::hook::AfterTrain{runner(max_epochs, max_iters)});
  return out;
}

support::Run run(const Scenario& s) { return support::run(support::make(s.kwargs), trace(s)); }

/// Replays plans over a set of paths, as the filesystem adapter would.
struct Disk {
  std::set<std::string> files;
  void apply(const ckpt::Plan& plan) {
    for (const auto& e : plan) {
      if (const auto* save = std::get_if<ckpt::SaveCheckpoint>(&e)) files.insert(py::path::join(save->out_dir, save->filename));
      if (const auto* rm = std::get_if<ckpt::RemoveCheckpoint>(&e)) files.erase(rm->path);
    }
  }
  std::size_t count_prefix(const std::string& prefix) const {
    return static_cast<std::size_t>(std::count_if(files.begin(), files.end(), [&](const std::string& f) {
      return py::path::basename(f).rfind(prefix, 0) == 0;
    }));
  }
};

}  // namespace

RC_GTEST_PROP(Properties, Determinism_SameInputsSamePlans, ()) {
  auto s = *scenario();
  auto a = run(s);
  auto b = run(s);
  RC_ASSERT(a.steps == b.steps);
  RC_ASSERT(a.state == b.state);
}

RC_GTEST_PROP(Properties, E24_AtMostMaxKeepPeriodicFilesAfterAnyEvent, ()) {
  auto s = *scenario();
  auto r = run(s);
  RC_ASSERT(!r.error.has_value());
  std::int64_t keep = py::to_int(*py::find(s.kwargs, "max_keep_ckpts"));
  Disk disk;
  for (const auto& st : r.steps) {
    disk.apply(st.plan);
    if (keep > 0) RC_ASSERT(disk.count_prefix(s.by_epoch ? "epoch_" : "iter_") <= static_cast<std::size_t>(keep));
  }
}

RC_GTEST_PROP(Properties, E35_BestFilesAtMostOnePerKey, ()) {
  auto s = *scenario();
  auto r = run(s);
  Disk disk;
  for (const auto& st : r.steps) {
    disk.apply(st.plan);
    RC_ASSERT(disk.count_prefix("best_") <= static_cast<std::size_t>(s.metric_keys));
  }
}

RC_GTEST_PROP(Properties, B62_NoRemovalOutsideOutDir, ()) {
  auto s = *scenario();
  auto r = run(s);
  const std::string prefix = support::work_dir + "/";
  for (const auto& st : r.steps)
    for (const auto& path : support::removed(st.plan)) RC_ASSERT(path.rfind(prefix, 0) == 0);
}

RC_GTEST_PROP(Properties, ReplayIsAFold_SplitAnywhere, ()) {
  auto s = *scenario();
  auto events = trace(s);
  auto whole = support::run(support::make(s.kwargs), events);
  auto cut = *rc::gen::inRange<std::size_t>(0, events.size() + 1);
  auto first = support::run(support::make(s.kwargs), {events.begin(), events.begin() + static_cast<long>(cut)});
  auto second = support::run(first.state, {events.begin() + static_cast<long>(cut), events.end()});
  auto joined = first.steps;
  joined.insert(joined.end(), second.steps.begin(), second.steps.end());
  RC_ASSERT(joined == whole.steps);
  RC_ASSERT(second.state == whole.state);
}

RC_GTEST_PROP(Properties, E30_PlansCarryEveryRuntimeInfoChange, ()) {
  auto s = *scenario();
  auto r = run(s);
  py::Dict mirror;
  for (const auto& st : r.steps)
    for (const auto& e : support::effects_of<ckpt::SetRuntimeInfo>(st.plan)) py::set(mirror, e.key, e.value);
  RC_ASSERT(py::Value(mirror) == py::Value(r.state.runtime_info));
}

RC_GTEST_PROP(Properties, AdvanceInPlaceEqualsStep, ()) {
  auto s = *scenario();
  auto by_step = support::make(s.kwargs);
  auto in_place = by_step;
  for (const auto& e : trace(s)) {
    auto pure = ckpt::hook::step(by_step, e);
    ckpt::hook::Outcome out = ckpt::hook::advance(in_place, e);
    RC_ASSERT(out.plan == pure.plan);
    RC_ASSERT(out.error == pure.error);
    RC_ASSERT(in_place == pure.state);
    by_step = pure.state;
    if (out.error) break;
  }
}
