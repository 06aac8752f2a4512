// The `ckpt` profile's extensions (docs/spec/extensions.md), one test per
// clause it pins: X1 keep_best, X2 keep_period, X3 best_save_optimizer,
// X4 interval_seconds, X5 preempt; and the policy functions behind them.
#include <gtest/gtest.h>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <vector>
#include "support.hpp"

namespace {

namespace py = ckpt::py;
using namespace support;
using ckpt::hook::Event;

/// A `ckpt`-profile hook; fails the test on a construction error.
ckpt::hook::State make_ckpt(const py::Dict& kwargs, py::Dict runtime_info = {}) {
  auto s = ckpt::hook::init(ckpt::ckpt_config_from_kwargs(kwargs), std::move(runtime_info));
  EXPECT_TRUE(s.ok()) << "construction failed: " << (s.ok() ? py::PyError{} : s.error());
  return s.ok() ? std::move(s).value() : ckpt::hook::State{};
}

py::PyError ckpt_error(const py::Dict& kwargs) {
  auto s = ckpt::hook::init(ckpt::ckpt_config_from_kwargs(kwargs));
  return s.ok() ? py::PyError{} : s.error();
}

std::vector<py::Dict> acc(std::initializer_list<py::Value> scores) {
  std::vector<py::Dict> out;
  for (const auto& s : scores) out.push_back(py::Dict{{"acc", s}});
  return out;
}

std::vector<std::string> all_removed(const Run& r) {
  std::vector<std::string> out;
  for (const auto& s : r.steps)
    for (auto& p : removed(s.plan)) out.push_back(p);
  return out;
}

}  // namespace

// ---- the profile as a whole

TEST(Extensions, X0_DefaultsPlanExactlyAsMmengine) {
  py::Dict kwargs{{"interval", 2}, {"max_keep_ckpts", 2}, {"save_best", "acc"}, {"keep_best", 1},
                  {"keep_period", py::none}, {"best_save_optimizer", false}, {"interval_seconds", py::none}};
  py::Dict plain{{"interval", 2}, {"max_keep_ckpts", 2}, {"save_best", "acc"}};
  auto events = epochs(7, 10, acc({0.1, 0.5, 0.3, 0.6, 0.6, "NaN", 0.9}));
  auto ours = run(make_ckpt(kwargs), events);
  auto theirs = run(make(plain), events);
  ASSERT_EQ(ours.steps.size(), theirs.steps.size());
  for (std::size_t i = 0; i < ours.steps.size(); ++i) {
    EXPECT_EQ(ours.steps[i].plan, theirs.steps[i].plan) << "event " << i;
    EXPECT_EQ(ours.steps[i].error, theirs.steps[i].error) << "event " << i;
  }
  EXPECT_EQ(ours.state.runtime_info, theirs.state.runtime_info);
}

TEST(Extensions, X0_MmengineProfileRejectsTheKeywords_E43) {
  for (const char* key : {"keep_best", "keep_period", "best_save_optimizer", "interval_seconds"}) {
    auto r = run(make({{"interval", 1}, {key, 2}}), epochs(2));
    ASSERT_TRUE(r.error) << key;
    EXPECT_EQ(r.error->type, "TypeError") << key;
    EXPECT_EQ(r.error->clause, "E43") << key;
  }
}

TEST(Extensions, X0_ConfigSplitsTheExtensionKeywords) {
  auto c = ckpt::ckpt_config_from_kwargs({{"interval", 3}, {"keep_best", 4}, {"create_symlink", false}});
  EXPECT_EQ(c.hook.interval, py::Value(3));
  EXPECT_EQ(c.extensions.keep_best, py::Value(4));
  EXPECT_EQ(c.hook.extra, (py::Dict{{"create_symlink", false}}));  // still mmengine's E43
  EXPECT_EQ(c, (ckpt::CkptConfig{c.hook, c.extensions}));
  std::ostringstream os;
  os << c;
  EXPECT_NE(os.str().find("keep_best=4"), std::string::npos) << os.str();
}

TEST(Extensions, X0_ValidationNamesTypeParameterAndValue) {
  struct Bad {
    py::Dict kwargs;
    const char* type;
    const char* parameter;
    const char* value;
    const char* clause;
  };
  const std::vector<Bad> bad{
      {{{"keep_best", 0}}, "ValueError", "keep_best", "0", "X1"},
      {{{"keep_best", "2"}}, "TypeError", "keep_best", "'2'", "X1"},
      {{{"keep_best", true}}, "TypeError", "keep_best", "True", "X1"},
      {{{"keep_best", 2.0}}, "TypeError", "keep_best", "2.0", "X1"},
      {{{"keep_period", 0}}, "ValueError", "keep_period", "0", "X2"},
      {{{"keep_period", "4"}}, "TypeError", "keep_period", "'4'", "X2"},
      {{{"best_save_optimizer", 1}}, "TypeError", "best_save_optimizer", "1", "X3"},
      {{{"interval_seconds", 0}}, "ValueError", "interval_seconds", "0", "X4"},
      {{{"interval_seconds", -1.5}}, "ValueError", "interval_seconds", "-1.5", "X4"},
      {{{"interval_seconds", std::numeric_limits<double>::quiet_NaN()}}, "ValueError", "interval_seconds", "nan", "X4"},
      {{{"interval_seconds", false}}, "TypeError", "interval_seconds", "False", "X4"},
      {{{"interval_seconds", "60"}}, "TypeError", "interval_seconds", "'60'", "X4"},
  };
  for (const auto& b : bad) {
    auto e = ckpt_error(b.kwargs);
    EXPECT_EQ(e.type, b.type) << py::Value(b.kwargs);
    EXPECT_EQ(e.parameter, b.parameter) << py::Value(b.kwargs);
    EXPECT_EQ(e.value, b.value) << py::Value(b.kwargs);
    EXPECT_EQ(e.clause, b.clause) << py::Value(b.kwargs);
  }
  // mmengine's own checks come first (E4 before X1)
  EXPECT_EQ(ckpt_error({{"save_best", 5}, {"keep_best", 0}}).clause, "E4");
  auto ok = ckpt::validate_extensions({.keep_best = 3, .keep_period = 5, .best_save_optimizer = true,
                                       .interval_seconds = 1.5});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, (ckpt::ExtensionSettings{3, 5, true, 1.5}));
  std::ostringstream os;
  os << *ok << ckpt::Extensions{};
  EXPECT_NE(os.str().find("keep_period=5"), std::string::npos) << os.str();
}

// ---- X1

TEST(Extensions, X1_KeepBestTwoKeepsTheTwoBestScores) {
  auto r = run(make_ckpt({{"save_best", "acc"}, {"keep_best", 2}}), epochs(5, 10, acc({0.5, 0.7, 0.6, 0.8, 0.4})));
  ASSERT_FALSE(r.error);
  EXPECT_EQ(all_saved(r), (std::vector<std::string>{"best_acc_epoch_1.pth", "best_acc_epoch_2.pth",
                                                     "best_acc_epoch_3.pth", "best_acc_epoch_4.pth",
                                                     "epoch_5.pth"}));  // E21's last save
  EXPECT_EQ(all_removed(r), (std::vector<std::string>{work_dir + "/best_acc_epoch_1.pth",
                                                       work_dir + "/best_acc_epoch_3.pth"}));
  EXPECT_EQ(info(r.state, "best_kept"),
            py::Value::list({py::Value::list({0.8, work_dir + "/best_acc_epoch_4.pth"}),
                             py::Value::list({0.7, work_dir + "/best_acc_epoch_2.pth"})}));
  EXPECT_EQ(info(r.state, "best_score"), py::Value(0.8));
  EXPECT_EQ(info(r.state, "best_ckpt"), py::Value(work_dir + "/best_acc_epoch_4.pth"));
}

TEST(Extensions, X1_TiesAndNaNNeverEnterAFullList) {
  auto r = run(make_ckpt({{"save_best", "loss"}, {"keep_best", 2}}),
               epochs(5, 10, {{{"loss", 0.3}}, {{"loss", 0.2}}, {{"loss", 0.3}},
                              {{"loss", std::numeric_limits<double>::quiet_NaN()}}, {{"loss", py::none}}}));
  ASSERT_FALSE(r.error);
  EXPECT_EQ(all_saved(r), (std::vector<std::string>{"best_loss_epoch_1.pth", "best_loss_epoch_2.pth", "epoch_5.pth"}));
}

TEST(Extensions, X1_E37ResaveOnlyOnANewBest) {
  // periodic saves every epoch; the second-best entry (0.6 after 0.7) is no new best
  auto r = run(make_ckpt({{"interval", 1}, {"save_best", "acc"}, {"keep_best", 2}}),
               epochs(3, 10, acc({0.7, 0.6, 0.9})));
  ASSERT_FALSE(r.error);
  auto count_periodic = [](const Plan& p) {
    int n = 0;
    for (const auto& f : saved(p)) n += f.rfind("epoch_", 0) == 0;
    return n;
  };
  EXPECT_EQ(count_periodic(r.plan(2)), 1);  // after_val_epoch(1): 0.7 is a new best: E37 re-save
  EXPECT_EQ(count_periodic(r.plan(4)), 0);  // after_val_epoch(2): 0.6 enters second
  EXPECT_EQ(count_periodic(r.plan(6)), 1);
}

TEST(Extensions, X1_SeveralKeysEachKeepTheirOwnList) {
  auto r = run(make_ckpt({{"save_best", py::Value::list({"acc", "loss"})}, {"keep_best", 2}}),
               epochs(3, 10, {{{"acc", 0.5}, {"loss", 0.5}}, {{"acc", 0.6}, {"loss", 0.9}}, {{"acc", 0.7}, {"loss", 0.4}}}));
  ASSERT_FALSE(r.error);
  EXPECT_EQ(info(r.state, "best_kept_acc"),
            py::Value::list({py::Value::list({0.7, work_dir + "/best_acc_epoch_3.pth"}),
                             py::Value::list({0.6, work_dir + "/best_acc_epoch_2.pth"})}));
  EXPECT_EQ(info(r.state, "best_kept_loss"),
            py::Value::list({py::Value::list({0.4, work_dir + "/best_loss_epoch_3.pth"}),
                             py::Value::list({0.5, work_dir + "/best_loss_epoch_1.pth"})}));
  EXPECT_EQ(info(r.state, "best_ckpt_loss"), py::Value(work_dir + "/best_loss_epoch_3.pth"));
}

TEST(Extensions, X1_ResumeStartsFromTheStoredBest) {
  // resumed from a keep_best=1 (or mmengine) run: best_score and best_ckpt only
  py::Dict stored{{"best_score", 0.8}, {"best_ckpt", work_dir + "/best_acc_epoch_2.pth"}};
  auto s = make_ckpt({{"save_best", "acc"}, {"keep_best", 2}}, stored);
  auto r = run(s, {ckpt::hook::BeforeTrain{at(3, 30)}, ckpt::hook::AfterValEpoch{at(4, 40), {{"acc", 0.7}}},
                   ckpt::hook::AfterValEpoch{at(5, 50), {{"acc", 0.75}}}});
  ASSERT_FALSE(r.error);
  EXPECT_EQ(all_removed(r), (std::vector<std::string>{work_dir + "/best_acc_epoch_4.pth"}));
  EXPECT_EQ(info(r.state, "best_kept"),
            py::Value::list({py::Value::list({0.8, work_dir + "/best_acc_epoch_2.pth"}),
                             py::Value::list({0.75, work_dir + "/best_acc_epoch_5.pth"})}));
}

TEST(Extensions, X1_KeepBestFunction) {
  using ckpt::BestEntry;
  std::vector<BestEntry> kept{{0.9, "a"}, {0.5, "b"}};
  auto tie = ckpt::keep_best(kept, 0.5, "c", ckpt::Rule::greater, 2);
  ASSERT_TRUE(tie.ok());
  EXPECT_EQ(*tie, (ckpt::BestUpdate{kept, {}, std::nullopt}));
  auto in = ckpt::keep_best(kept, 0.6, "c", ckpt::Rule::greater, 2);
  ASSERT_TRUE(in.ok());
  EXPECT_EQ(*in, (ckpt::BestUpdate{{{0.9, "a"}, {0.6, "c"}}, {"b"}, 1}));
  auto same_path = ckpt::keep_best(kept, 0.95, "b", ckpt::Rule::greater, 2);
  ASSERT_TRUE(same_path.ok());
  EXPECT_EQ(*same_path, (ckpt::BestUpdate{{{0.95, "b"}, {0.9, "a"}}, {"b"}, 0}));
  auto bad = ckpt::keep_best(kept, "x", "c", ckpt::Rule::greater, 2);
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(ckpt::kept_from_value(ckpt::kept_to_value(kept)), kept);
  EXPECT_TRUE(ckpt::kept_from_value(py::Value("junk")).empty());
  std::ostringstream os;
  os << *in;
  EXPECT_EQ(os.str(), "BestUpdate(kept=[(0.9, a), (0.6, c)], evicted=[b], rank=1)");
}

// ---- X2

TEST(Extensions, X2_MultiplesOfKeepPeriodSurviveRetention) {
  auto r = run(make_ckpt({{"interval", 1}, {"max_keep_ckpts", 2}, {"keep_period", 2}}), epochs(6));
  ASSERT_FALSE(r.error);
  EXPECT_EQ(all_removed(r), (std::vector<std::string>{work_dir + "/epoch_1.pth", work_dir + "/epoch_3.pth"}));
  EXPECT_EQ(info(r.state, "keep_ckpt_ids"), py::Value::list({5, 6}));  // mmengine's deque
  EXPECT_TRUE(ckpt::archival(ckpt::ExtensionSettings{1, 2, false, std::nullopt}, py::Value(4)));
  EXPECT_FALSE(ckpt::archival(ckpt::ExtensionSettings{1, 2, false, std::nullopt}, py::Value("4")));
  EXPECT_FALSE(ckpt::archival(ckpt::ExtensionSettings{}, py::Value(4)));
}

TEST(Extensions, X2_ResumeTrimLeavesMultiplesOfKeepPeriod) {
  auto s = make_ckpt({{"interval", 1}, {"max_keep_ckpts", 1}, {"keep_period", 3}},
                     {{"keep_ckpt_ids", py::Value::list({2, 3, 4})}});
  auto r = run(s, {ckpt::hook::BeforeTrain{at(4, 40)}});
  ASSERT_FALSE(r.error);
  EXPECT_EQ(all_removed(r), (std::vector<std::string>{work_dir + "/epoch_2.pth"}));
  EXPECT_EQ(info(r.state, "keep_ckpt_ids"), py::Value::list({4}));
}

// ---- X3

TEST(Extensions, X3_BestSaveCarriesTheOptimizer) {
  auto with = run(make_ckpt({{"save_best", "acc"}, {"best_save_optimizer", true}, {"save_param_scheduler", false}}),
                  epochs(1, 10, acc({0.5})));
  auto saves = effects_of<ckpt::SaveCheckpoint>(with.plan(2));  // the best save, then E37's re-save
  ASSERT_EQ(saves.size(), 2u);
  EXPECT_EQ(saves[0].filename, "best_acc_epoch_1.pth");
  EXPECT_EQ(saves[0].save_optimizer, py::Value(true));
  EXPECT_EQ(saves[0].save_param_scheduler, py::Value(false));  // the hook's own
  EXPECT_EQ(saves[0].by_epoch, py::Value(false));               // E36 otherwise
  auto without = run(make_ckpt({{"save_best", "acc"}}), epochs(1, 10, acc({0.5})));
  EXPECT_EQ(effects_of<ckpt::SaveCheckpoint>(without.plan(2)).at(0).save_optimizer, py::Value(false));
}

// ---- X4

namespace {
// An iteration hook with no schedule: only time saves; `times[i]` is iter i's clock.
std::vector<Event> timed_iters(const std::vector<double>& times, double start) {
  std::vector<Event> out{ckpt::hook::BeforeTrain{ckpt::hook::Runner{work_dir, 0, 0, 1, 100, true, start}}};
  for (std::size_t i = 0; i < times.size(); ++i)
    out.push_back(ckpt::hook::AfterTrainIter{
        ckpt::hook::Runner{work_dir, 0, static_cast<std::int64_t>(i), 1, 100, true, times[i]}, static_cast<std::int64_t>(i)});
  return out;
}
}  // namespace

TEST(Extensions, X4_SavesWhenTheSecondsPassedSinceTheLastSave) {
  auto s = make_ckpt({{"by_epoch", false}, {"interval_seconds", 10}, {"save_last", false}});
  auto r = run(s, timed_iters({3, 9.5, 10, 14, 19.9, 20.5, 21}, 0));
  ASSERT_FALSE(r.error);
  EXPECT_EQ(all_saved(r), (std::vector<std::string>{"iter_3.pth", "iter_6.pth"}));  // t=10, t=20.5
  EXPECT_EQ(info(r.state, "last_save_time"), py::Value(20.5));
}

TEST(Extensions, X4_ScheduledSavesRestartTheClock) {
  auto s = make_ckpt({{"by_epoch", false}, {"interval", 4}, {"interval_seconds", 10}, {"save_last", false}});
  auto r = run(s, timed_iters({5, 8, 9, 12, 13, 20, 22.5, 23}, 0));
  ASSERT_FALSE(r.error);
  // iter_4 by schedule at t=12; then t=22.5 is 10.5 s later; iter_8 by schedule at t=23
  EXPECT_EQ(all_saved(r), (std::vector<std::string>{"iter_4.pth", "iter_7.pth", "iter_8.pth"}));
}

TEST(Extensions, X4_ResumeCountsFromTheStoredSaveTime) {
  auto s = make_ckpt({{"by_epoch", false}, {"interval_seconds", 10}, {"save_last", false}}, {{"last_save_time", 95.0}});
  auto r = run(s, timed_iters({104, 105, 106}, 100));
  EXPECT_EQ(all_saved(r), (std::vector<std::string>{"iter_2.pth"}));
  EXPECT_TRUE(ckpt::time_due(ckpt::ExtensionSettings{1, std::nullopt, false, 10.0}, 0.0, 10.0));
  EXPECT_FALSE(ckpt::time_due(ckpt::ExtensionSettings{1, std::nullopt, false, 10.0}, std::nullopt, 10.0));
  EXPECT_FALSE(ckpt::time_due(ckpt::ExtensionSettings{}, 0.0, 1e9));
}

TEST(Extensions, X4_EventsWithoutTimeNeverSaveByTime) {
  auto s = make_ckpt({{"by_epoch", false}, {"interval_seconds", 1}, {"save_last", false}});
  std::vector<Event> events{ckpt::hook::BeforeTrain{at(0, 0)}};
  for (int i = 0; i < 5; ++i) events.push_back(ckpt::hook::AfterTrainIter{at(0, i), i});
  EXPECT_TRUE(all_saved(run(s, events)).empty());
}

// ---- X5

TEST(Extensions, X5_PreemptSavesAtTheCurrentStepAndNothingElse) {
  auto s = make_ckpt({{"interval", 1}, {"max_keep_ckpts", 2}, {"save_best", "acc"}, {"published_keys", "meta"}});
  auto r = run(s, {ckpt::hook::BeforeTrain{at(0, 0)}, ckpt::hook::AfterTrainEpoch{at(0, 10)},
                   ckpt::hook::Preempt{at(1, 17)}});
  ASSERT_FALSE(r.error);
  const auto& plan = r.last();
  auto saves = effects_of<ckpt::SaveCheckpoint>(plan);
  ASSERT_EQ(saves.size(), 1u);
  EXPECT_EQ(saves[0].filename, "epoch_1.pth");
  EXPECT_EQ(saves[0].meta, (py::Dict{{"epoch", 1}, {"iter", 17}}));
  EXPECT_EQ(saves[0].save_optimizer, py::Value(true));
  EXPECT_EQ(effects_of<ckpt::WriteText>(plan).at(0).content, work_dir + "/epoch_1.pth");
  EXPECT_TRUE(removed(plan).empty());
  EXPECT_TRUE(effects_of<ckpt::Publish>(plan).empty());
  EXPECT_EQ(info(r.state, "keep_ckpt_ids"), py::Value::list({1}));  // the same step: no new id (E24)
  std::ostringstream os;
  os << Event{ckpt::hook::Preempt{at(1, 17)}};
  EXPECT_EQ(os.str(), "preempt(epoch=1, iter=17)");
}

TEST(Extensions, X5_MmengineProfileHasNoPreempt) {
  auto r = run(make({{"interval", 1}}), {ckpt::hook::BeforeTrain{at(0, 0)}, ckpt::hook::Preempt{at(1, 17)}});
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->type, "AttributeError");
  EXPECT_EQ(r.error->clause, "X5");
}
