// Properties of the schedule (E17–E21, C49) against a model written here
// in plain integer arithmetic from the spec's text, not from the code:
//   E19  d = counter + 1 - save_begin; save iff interval > 0, d >= 0, d % interval == 0
//   E21  or save_last and counter + 1 == max (exactly)
//   C49  (counter + 1) % interval == 0 for interval > 0, or the last step; no offset
// first per call, then over whole runs: which events of a run save, and
// under which name (E23), for both hook kinds and both profiles.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <cstdint>
#include <string>
#include <vector>
#include "support.hpp"

namespace {

namespace py = ckpt::py;
using Int = std::int64_t;

bool model_every_n(Int counter, Int interval, Int save_begin) {
  const Int d = counter + 1 - save_begin;
  return interval > 0 && d >= 0 && d % interval == 0;
}

bool model_should_save(Int counter, Int max, Int interval, Int save_begin, bool save_last) {
  return model_every_n(counter, interval, save_begin) || (save_last && counter + 1 == max);
}

bool model_legacy_should_save(Int counter, Int max, Int interval, bool save_last) {
  return (interval > 0 && (counter + 1) % interval == 0) || (save_last && counter + 1 == max);
}

rc::Gen<Int> counter() { return rc::gen::inRange<Int>(0, 40); }
rc::Gen<Int> interval() { return rc::gen::inRange<Int>(-3, 8); }
rc::Gen<Int> save_begin() { return rc::gen::inRange<Int>(0, 9); }

/// A run's shape: the hook's keyword arguments and a loop of either kind.
struct Shape {
  bool by_epoch = true;
  Int epochs = 1, iters_per_epoch = 1, interval = 1, save_begin = 0;
  bool save_last = true;
  Int max_epochs() const { return epochs; }
  Int max_iters() const { return epochs * iters_per_epoch; }
};

std::ostream& operator<<(std::ostream& os, const Shape& s) {
  return os << "by_epoch=" << s.by_epoch << " epochs=" << s.epochs << " iters_per_epoch=" << s.iters_per_epoch
            << " interval=" << s.interval << " save_begin=" << s.save_begin << " save_last=" << s.save_last;
}

rc::Gen<Shape> shape() {
  return rc::gen::exec([] {
    Shape s;
    s.by_epoch = *rc::gen::arbitrary<bool>();
    s.epochs = *rc::gen::inRange<Int>(1, 9);
    s.iters_per_epoch = *rc::gen::inRange<Int>(1, 5);
    s.interval = *interval();
    s.save_begin = *rc::gen::inRange<Int>(0, 6);
    s.save_last = *rc::gen::arbitrary<bool>();
    return s;
  });
}

/// The train events of an epoch loop, with the counters each call reads.
std::vector<ckpt::hook::Event> mmengine_events(const Shape& s) {
  auto runner = [&](Int e, Int i) { return support::at(e, i, s.max_epochs(), s.max_iters()); };
  std::vector<ckpt::hook::Event> out{ckpt::hook::BeforeTrain{runner(0, 0)}};
  Int iter = 0;
  for (Int e = 0; e < s.epochs; ++e) {
    for (Int b = 0; b < s.iters_per_epoch; ++b, ++iter) out.push_back(ckpt::hook::AfterTrainIter{runner(e, iter), b});
    out.push_back(ckpt::hook::AfterTrainEpoch{runner(e, iter)});
  }
  return out;
}

}  // namespace

RC_GTEST_PROP(PropertiesSchedule, E19_E20_EveryNIsTheSpecArithmetic, ()) {
  const Int c = *counter(), n = *interval(), begin = *save_begin();
  auto got = ckpt::every_n(c, py::Value(n), py::Value(begin));
  RC_ASSERT(got.ok());
  RC_ASSERT(*got == model_every_n(c, n, begin));
}

RC_GTEST_PROP(PropertiesSchedule, E17_E21_ShouldSaveIsPeriodicOrExactlyTheLastStep, ()) {
  const Int c = *counter(), n = *interval(), begin = *save_begin();
  const Int max = *rc::gen::inRange<Int>(c - 2, c + 4);
  const bool last = *rc::gen::arbitrary<bool>();
  auto got = ckpt::should_save(c, max, py::Value(n), py::Value(begin), py::Value(last));
  RC_ASSERT(got.ok());
  RC_ASSERT(*got == model_should_save(c, max, n, begin, last));
}

RC_GTEST_PROP(PropertiesSchedule, C49_LegacyShouldSaveHasNoOffset, ()) {
  const Int c = *counter(), n = *interval();
  const Int max = *rc::gen::inRange<Int>(c - 2, c + 4);
  const bool last = *rc::gen::arbitrary<bool>();
  auto got = ckpt::legacy_should_save(c, max, py::Value(n), py::Value(last));
  RC_ASSERT(got.ok());
  RC_ASSERT(*got == model_legacy_should_save(c, max, n, last));
}

RC_GTEST_PROP(PropertiesSchedule, E17_E18_E23_ARunSavesAtTheModelsStepsUnderTheirNames, ()) {
  // by epoch: only after_train_epoch acts, step epoch+1; by iteration: only
  // after_train_iter, step iter+1 (E23), and save_begin never gates save_last
  const Shape s = *shape();
  py::Dict kwargs{{"interval", s.interval}, {"by_epoch", s.by_epoch}, {"save_begin", s.save_begin},
                  {"save_last", s.save_last}};
  const auto events = mmengine_events(s);
  auto run = support::run(support::make(kwargs), events);
  RC_ASSERT(!run.error.has_value());
  std::vector<std::string> expected, got;
  for (const auto& e : events) {
    if (const auto* x = std::get_if<ckpt::hook::AfterTrainEpoch>(&e); x && s.by_epoch) {
      if (model_should_save(x->runner.epoch, s.max_epochs(), s.interval, s.save_begin, s.save_last))
        expected.push_back("epoch_" + std::to_string(x->runner.epoch + 1) + ".pth");
    }
    if (const auto* x = std::get_if<ckpt::hook::AfterTrainIter>(&e); x && !s.by_epoch) {
      if (model_should_save(x->runner.iter, s.max_iters(), s.interval, s.save_begin, s.save_last))
        expected.push_back("iter_" + std::to_string(x->runner.iter + 1) + ".pth");
    }
  }
  for (const auto& st : run.steps)
    for (const auto& name : support::saved(st.plan)) got.push_back(name);
  RC_ASSERT(got == expected);
}

RC_GTEST_PROP(PropertiesSchedule, C49_ALegacyRunSavesAtTheModelsSteps, ()) {
  using namespace ckpt::legacy;
  const Shape s = *shape();
  auto state = init(ckpt::legacy_config_from_kwargs(py::Dict{{"interval", s.interval}, {"by_epoch", s.by_epoch},
                                                               {"save_last", s.save_last}}),
                    s.by_epoch ? RunnerKind::epoch : RunnerKind::iter, py::Dict{});
  auto runner = [&](Int e, Int i) { return Runner{support::work_dir, e, i, s.max_epochs(), s.max_iters(), 0}; };
  std::vector<Event> events{BeforeRun{runner(0, 0)}};
  Int iter = 0;
  for (Int e = 0; e < s.epochs; ++e) {
    for (Int b = 0; b < s.iters_per_epoch; ++b, ++iter)
      events.push_back(AfterTrainIter{runner(s.by_epoch ? e : 0, iter)});
    if (s.by_epoch) events.push_back(AfterTrainEpoch{runner(e, iter)});
  }
  std::vector<std::string> expected, got;
  for (const auto& e : events) {
    auto out = step(state, e);
    RC_ASSERT(!out.error.has_value());
    state = out.state;
    for (const auto& name : support::saved(out.plan)) got.push_back(name);
    const auto* epoch = std::get_if<AfterTrainEpoch>(&e);
    const auto* iteration = std::get_if<AfterTrainIter>(&e);
    if (epoch && s.by_epoch && model_legacy_should_save(epoch->runner.epoch, s.max_epochs(), s.interval, s.save_last))
      expected.push_back("epoch_" + std::to_string(epoch->runner.epoch + 1) + ".pth");
    if (iteration && !s.by_epoch &&
        model_legacy_should_save(iteration->runner.iter, s.max_iters(), s.interval, s.save_last))
      expected.push_back("iter_" + std::to_string(iteration->runner.iter + 1) + ".pth");
  }
  RC_ASSERT(got == expected);
}
