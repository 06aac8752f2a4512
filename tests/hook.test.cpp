// Tests of ckpt.hook, the reducer of mmengine's CheckpointHook: one group per
// clause of docs/spec/checkpoint-hook-spec.md (E1..E43, B60..B62), asserting
// the plan (effects and their order), the runtime info and the errors.
// Expected values come from the spec (as corrected there) and from runs of
// the real mmengine 0.10.7 hook (conformance/cases/mmengine).
#include "support.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

namespace {

using namespace support;
namespace hook = ckpt::hook;
using ckpt::Effect, ckpt::Log, ckpt::LogLevel, ckpt::Plan, ckpt::Publish, ckpt::RemoveCheckpoint, ckpt::SaveCheckpoint,
    ckpt::SetRuntimeInfo, ckpt::WriteText;
using hook::AfterTrain, hook::AfterTrainEpoch, hook::AfterTrainIter, hook::AfterValEpoch, hook::BeforeTrain;
using py::Dict, py::List, py::Value;
using Names = std::vector<std::string>;
using Texts = std::vector<WriteText>;

const double nan_score = std::numeric_limits<double>::quiet_NaN();
const double inf_score = std::numeric_limits<double>::infinity();

Value ids(std::initializer_list<int> xs) {
  List out;
  for (int x : xs) out.emplace_back(x);
  return Value(out);
}

/// Another rank of a distributed run (mmengine's is_main_process() false).
hook::Runner worker(hook::Runner r) {
  r.is_main_process = false;
  return r;
}

/// An iteration-based run: before_train, then `n` after_train_iter calls.
std::vector<hook::Event> iterations(std::int64_t n) {
  std::vector<hook::Event> out{BeforeTrain{at(0, 0, 1, n)}};
  for (std::int64_t i = 0; i < n; ++i) out.push_back(AfterTrainIter{at(0, i, 1, n), i});
  return out;
}

/// One-key metrics per epoch, for `epochs()`.
std::vector<Dict> scores(const std::string& key, std::initializer_list<Value> values) {
  std::vector<Dict> out;
  for (const auto& v : values) out.push_back(Dict{{key, v}});
  return out;
}

Plan without_logs(const Plan& plan) {
  Plan out;
  for (const auto& e : plan)
    if (!std::holds_alternative<Log>(e)) out.push_back(e);
  return out;
}

std::vector<std::string> info_keys(const Plan& plan) {
  std::vector<std::string> out;
  for (const auto& e : effects_of<SetRuntimeInfo>(plan)) out.push_back(e.key);
  return out;
}

std::vector<std::string> published(const Plan& plan) {
  std::vector<std::string> out;
  for (const auto& e : effects_of<Publish>(plan)) out.push_back(e.source);
  return out;
}

std::vector<std::string> all_removed(const Run& r) {
  std::vector<std::string> out;
  for (const auto& s : r.steps)
    for (auto& p : removed(s.plan)) out.push_back(p);
  return out;
}

/// The files on disk after applying every save and removal of a run, in
/// order, to `files`.
std::set<std::string> replay(const Run& r, std::set<std::string> files = {}) {
  for (const auto& s : r.steps)
    for (const auto& e : s.plan) {
      if (const auto* save = std::get_if<SaveCheckpoint>(&e))
        files.insert(py::path::join(save->out_dir, save->filename));
      if (const auto* rm = std::get_if<RemoveCheckpoint>(&e)) files.erase(rm->path);
    }
  return files;
}

py::PyError error_of(const Run& r) { return r.error.value_or(py::PyError{"<no error>", "", ""}); }

/// An error as "Type@Clause", so one assertion checks both.
std::string kind(const py::PyError& e) { return e.type + "@" + e.clause; }

std::string save_dir(const Plan& plan) { return effects_of<SaveCheckpoint>(plan).at(0).out_dir; }

std::int64_t error_step(const Run& r) { return r.error ? static_cast<std::int64_t>(r.steps.size()) - 1 : -1; }

SaveCheckpoint periodic(const std::string& filename, std::int64_t epoch, std::int64_t iter) {
  return {work_dir, filename, true, true, Dict{{"epoch", epoch}, {"iter", iter}}, true, {}};
}

SaveCheckpoint best(const std::string& filename, std::int64_t epoch, std::int64_t iter) {
  return {work_dir, filename, false, false, Dict{{"epoch", epoch}, {"iter", iter}}, false, {}};
}

}  // namespace

// E1: defaults (extra kwargs: see E43).
TEST(Hook, E1_DefaultsSaveOnlyTheLastEpoch) {
  auto s = make({});
  const auto& c = s.config;
  EXPECT_EQ((List{c.interval, c.by_epoch, c.max_keep_ckpts, c.save_last, c.save_begin, c.out_dir, c.save_best}),
            (List{-1, true, -1, true, 0, py::none, py::none}));
  EXPECT_FALSE(s.settings.save_best.has_value());
  EXPECT_FALSE(s.settings.published_keys.has_value());
  auto r = run(s, epochs(3));
  EXPECT_FALSE(r.error);
  EXPECT_EQ(all_saved(r), Names{"epoch_3.pth"});
  EXPECT_TRUE(all_removed(r).empty());
  EXPECT_EQ(info(r.state, "keep_ckpt_ids"), Value("<absent>"));
}

// E2: the default template follows by_epoch; a given one is not checked.
TEST(Hook, E2_DefaultTemplateFollowsByEpoch) {
  EXPECT_EQ(make({}).settings.filename_tmpl, Value("epoch_{}.pth"));
  auto s = make({{"by_epoch", false}, {"interval", 2}});
  EXPECT_EQ(s.settings.filename_tmpl, Value("iter_{}.pth"));
  EXPECT_EQ(all_saved(run(s, iterations(4))), (Names{"iter_2.pth", "iter_4.pth"}));
}

TEST(Hook, E2_GivenTemplateIsNotCheckedAtConstruction) {
  EXPECT_EQ(construction_error({{"filename_tmpl", 5}}), py::PyError{});
  auto r = run(make({{"interval", 1}, {"filename_tmpl", 5}}), epochs(2));
  EXPECT_EQ(error_of(r).type, "AttributeError");  // 'int' object has no attribute 'format'
  EXPECT_EQ(error_step(r), 1);
}

// E3: file_client_args is deprecated and exclusive with backend_args.
TEST(Hook, E3_FileClientArgsWarnsAndExcludesBackendArgs) {
  EXPECT_TRUE(make({{"file_client_args", Dict{{"backend", "disk"}}}}).settings.file_client_args_deprecated);
  EXPECT_FALSE(make({}).settings.file_client_args_deprecated);
  auto e = construction_error(
      {{"file_client_args", Dict{{"backend", "disk"}}}, {"backend_args", Dict{{"backend", "local"}}}});
  EXPECT_EQ(kind(e), "ValueError@E3");
}

// E4: save_best is a str, a list of str or None.
TEST(Hook, E4_SaveBestStrBecomesListNonStrAutoInListAndDuplicatesRejected) {
  EXPECT_EQ(make({{"save_best", "acc"}}).settings.save_best, Names{"acc"});
  for (const auto& save_best :
       {Value(1), Value::list({"auto", "acc"}), Value::list({"acc", "acc"}), Value::list({1})}) {
    auto e = construction_error({{"save_best", save_best}});
    EXPECT_EQ(kind(e), "AssertionError@E4") << save_best;
  }
}

// E5: rule is a str, a list of str (length 1 or len(save_best)) or None.
TEST(Hook, E5_RuleTypeAndLengthAreChecked) {
  auto e = construction_error({{"save_best", "acc"}, {"rule", 1}});
  EXPECT_EQ(kind(e), "AssertionError@E5");
  e = construction_error(
      {{"save_best", Value::list({"acc", "mAP", "top1"})}, {"rule", Value::list({"greater", "less"})}});
  EXPECT_EQ(kind(e), "AssertionError@E5");
}

TEST(Hook, E5_ListRuleWithoutSaveBestIsTypeErrorButBadStringIsAccepted) {
  auto e = construction_error({{"rule", Value::list({"greater"})}});
  EXPECT_EQ(kind(e), "TypeError@E5");
  EXPECT_EQ(construction_error({{"rule", "bigger"}}), py::PyError{});
}

// E6: negative save_begin, with the unformatted message.
TEST(Hook, E6_NegativeSaveBeginIsValueErrorWithLiteralPlaceholder) {
  auto e = construction_error({{"save_begin", -1}});
  EXPECT_EQ(kind(e), "ValueError@E6");
  EXPECT_NE(e.message.find("{save_begin}"), std::string::npos) << e.message;
}

// E7: greater_keys / less_keys.
TEST(Hook, E7_KeyListsDefaultWrapAndRejectNonStr) {
  EXPECT_EQ(make({}).settings.less_keys, Names{"loss"});
  EXPECT_EQ(make({}).settings.greater_keys.size(), 10u);
  auto s = make({{"save_best", "mse"}, {"greater_keys", "mse"}});
  EXPECT_EQ(s.settings.greater_keys, Names{"mse"});
  EXPECT_EQ(s.settings.key_rules.rules.at(0), ckpt::Rule::greater);
  auto e = construction_error({{"less_keys", Value::list({1})}});
  EXPECT_EQ(kind(e), "AssertionError@E7");
}

// E8: published_keys.
TEST(Hook, E8_PublishedKeysStrBecomesListOthersRejected) {
  EXPECT_EQ(make({{"published_keys", "meta"}}).settings.published_keys, Names{"meta"});
  auto e = construction_error({{"published_keys", 1}});
  EXPECT_EQ(kind(e), "TypeError@E8");
  e = construction_error({{"published_keys", Value::list({"meta", "meta"})}});
  EXPECT_EQ(kind(e), "AssertionError@E8");
}

// E9: one key gives a single best path, several a per-key map.
TEST(Hook, E9_OneKeyHasSinglePathSeveralKeysAMap) {
  auto one = make({{"save_best", "acc"}});
  EXPECT_TRUE(one.best_ckpt_path.is_none());
  EXPECT_FALSE(one.best_ckpt_paths.has_value());
  auto several = make({{"save_best", Value::list({"acc", "loss"})}});
  ASSERT_TRUE(several.best_ckpt_paths.has_value());
  EXPECT_TRUE(several.best_ckpt_paths->empty());
}

// E10: rule resolution per key.
TEST(Hook, E10_RuleInferenceOrderIsCaseInsensitive) {
  const std::vector<std::pair<std::string, ckpt::Rule>> table{{"acc_loss", ckpt::Rule::greater},
                                                              {"Val/LOSS", ckpt::Rule::less},
                                                              {"coco/bbox_mAP", ckpt::Rule::greater},
                                                              {"top1", ckpt::Rule::greater},
                                                              {"val_loss", ckpt::Rule::less}};
  for (const auto& [key, rule] : table)
    EXPECT_EQ(make({{"save_best", key}}).settings.key_rules.rules.at(0), rule) << key;
  auto s = make({{"save_best", Value::list({"acc", "loss"})}, {"rule", Value::list({"less"})}});
  EXPECT_EQ(s.settings.key_rules.rules, (std::vector<std::optional<ckpt::Rule>>{ckpt::Rule::less, ckpt::Rule::less}));
}

TEST(Hook, E10_UninferableKeyAndUnknownRuleFail) {
  auto e = construction_error({{"save_best", "mse"}});
  EXPECT_EQ(kind(e), "ValueError@E10");
  e = construction_error({{"save_best", "acc"}, {"rule", "bigger"}});
  EXPECT_EQ(kind(e), "KeyError@E10");
}

// E11: setup happens in before_train; a save without it has no file backend.
TEST(Hook, E11_SaveWithoutBeforeTrainIsAttributeError) {
  auto r = run(make({{"interval", 1}}), {AfterTrainEpoch{at(0, 10)}});
  EXPECT_EQ(error_of(r).type, "AttributeError");
  EXPECT_NE(error_of(r).message.find("file_backend"), std::string::npos) << error_of(r).message;
  r = run(make({{"interval", 1}, {"max_keep_ckpts", 2}}), {AfterTrainEpoch{at(0, 10)}});
  EXPECT_EQ(error_of(r).type, "AttributeError");
  EXPECT_NE(error_of(r).message.find("keep_ckpt_ids"), std::string::npos) << error_of(r).message;
}

// E12: out_dir None is work_dir; any other out_dir gets work_dir's basename.
TEST(Hook, E12_OutDirDefaultsToWorkDirOtherwiseGetsBasename) {
  EXPECT_EQ(save_dir(run(make({{"interval", 1}}), {BeforeTrain{at(0)}, AfterTrainEpoch{at(0, 10)}}).last()), "/w/exp");
  auto r = run(make({{"interval", 1}, {"out_dir", "/ckpt"}}), {BeforeTrain{at(0)}, AfterTrainEpoch{at(0, 10)}});
  EXPECT_EQ(effects_of<Log>(r.plan(0)),
            (std::vector<Log>{{LogLevel::info, "Checkpoints will be saved to /ckpt/exp."}}));
  EXPECT_EQ(save_dir(r.last()), "/ckpt/exp");
  EXPECT_EQ(info(r.state, "last_ckpt"), Value("/ckpt/exp/epoch_1.pth"));
}

TEST(Hook, E12_WorkDirTrailingSlash) {
  const hook::Runner slash{"/w/exp/", 0, 2, 100, 1000, true};
  auto r = run(make({{"interval", 1}}), {BeforeTrain{slash}, AfterTrainEpoch{slash}});
  EXPECT_EQ(save_dir(r.last()), "/w/exp/");
  EXPECT_EQ(info(r.state, "last_ckpt"), Value("/w/exp/epoch_1.pth"));
  r = run(make({{"interval", 1}, {"out_dir", "/ckpt"}}), {BeforeTrain{slash}});
  EXPECT_EQ(r.state.out_dir, Value("/ckpt/exp"));
}

TEST(Hook, E12_NonPathOutDirIsAssertionError) {
  auto r = run(make({{"out_dir", 5}}), {BeforeTrain{at(0)}});
  EXPECT_EQ(kind(error_of(r)), "AssertionError@E12");
}

// E13: plain string comparison quirks.
TEST(Hook, E13_OutDirSpelledWithTrailingSlashStillGetsBasename) {
  auto r = run(make({{"interval", 1}, {"out_dir", "/w/exp/"}}), {BeforeTrain{at(0)}, AfterTrainEpoch{at(0, 2)}});
  EXPECT_EQ(save_dir(r.last()), "/w/exp/exp");
  EXPECT_EQ(effects_of<WriteText>(r.last()), (Texts{{"/w/exp/last_checkpoint", "/w/exp/exp/epoch_1.pth"}}));
}

TEST(Hook, E13_EmptyOutDirBecomesRelativeBasename) {
  auto r = run(make({{"interval", 1}, {"out_dir", ""}}), {BeforeTrain{at(0)}, AfterTrainEpoch{at(0, 2)}});
  EXPECT_EQ(save_dir(r.last()), "exp");
  EXPECT_EQ(info(r.state, "last_ckpt"), Value("exp/epoch_1.pth"));
}

TEST(Hook, E13_BeforeTrainTwiceAppendsBasenameTwice) {
  const std::vector<hook::Event> twice{BeforeTrain{at(0)}, BeforeTrain{at(0)}, AfterTrainEpoch{at(0, 2)}};
  auto r = run(make({{"interval", 1}, {"out_dir", "/ckpt"}}), twice);
  EXPECT_EQ(save_dir(r.last()), "/ckpt/exp/exp");
  r = run(make({{"interval", 1}}), twice);
  EXPECT_EQ(save_dir(r.last()), "/w/exp");
}

// E15: best paths are restored from runtime info.
TEST(Hook, E15_RestoresSingleBestPath) {
  auto r = run(make({{"save_best", "acc"}}, {{"best_score", 0.8}, {"best_ckpt", "/w/exp/best_acc_epoch_2.pth"}}),
               {BeforeTrain{at(2, 6, 4, 8)}, AfterValEpoch{at(3, 6, 4, 8), {{"acc", 0.7}}},
                AfterValEpoch{at(4, 8, 4, 8), {{"acc", 0.9}}}});
  EXPECT_EQ(r.steps.at(0).state.best_ckpt_path, Value("/w/exp/best_acc_epoch_2.pth"));
  EXPECT_TRUE(saved(r.plan(1)).empty());
  EXPECT_EQ(removed(r.plan(2)), Names{"/w/exp/best_acc_epoch_2.pth"});
  EXPECT_EQ(info(r.state, "best_ckpt"), Value("/w/exp/best_acc_epoch_4.pth"));
}

TEST(Hook, E15_RestoresPerKeyBestPathsAbsentKeysStartNone) {
  auto r = run(make({{"save_best", Value::list({"acc", "loss"})}},
                    {{"best_score_acc", 0.8}, {"best_ckpt_acc", "/w/exp/best_acc_epoch_2.pth"}}),
               {BeforeTrain{at(2, 6, 3, 6)}, AfterValEpoch{at(3, 6, 3, 6), {{"acc", 0.9}, {"loss", 0.3}}}});
  EXPECT_EQ(r.steps.at(0).state.best_ckpt_paths,
            (Dict{{"acc", "/w/exp/best_acc_epoch_2.pth"}, {"loss", py::none}}));
  EXPECT_EQ(removed(r.last()), Names{"/w/exp/best_acc_epoch_2.pth"});
  EXPECT_EQ(saved(r.last()), (Names{"best_acc_epoch_3.pth", "best_loss_epoch_3.pth"}));
}

// E16: resume trimming.
TEST(Hook, E16_ResumeTrimsOldestIdsInPlace) {
  auto r = run(make({{"interval", 1}, {"max_keep_ckpts", 2}}, {{"keep_ckpt_ids", ids({1, 2, 3, 4})}}),
               {BeforeTrain{at(4, 40, 6, 60)}, AfterTrainEpoch{at(4, 50, 6, 60)}});
  EXPECT_EQ(removed(r.plan(0)), (Names{"/w/exp/epoch_1.pth", "/w/exp/epoch_2.pth"}));
  EXPECT_TRUE(saved(r.plan(0)).empty());
  EXPECT_EQ(info(r.steps.at(0).state, "keep_ckpt_ids"), ids({3, 4}));
  EXPECT_EQ(removed(r.plan(1)), Names{"/w/exp/epoch_3.pth"});
  EXPECT_EQ(info(r.state, "keep_ckpt_ids"), ids({4, 5}));
}

TEST(Hook, E16_EachPopTrimsTheRuntimeInfoBeforeItsFileIsRemoved) {
  // get_info hands out the stored list: `pop(0)` then remove, step by step;
  // a removal that raises finds the list already trimmed (smoke/file-client-args-rmtree)
  auto r = run(make({{"interval", 1}, {"max_keep_ckpts", 1}}, {{"keep_ckpt_ids", ids({1, 2, 3})}}),
               {BeforeTrain{at(3, 30, 6, 60)}});
  std::vector<std::string> order;
  for (const auto& e : r.plan(0)) {
    if (const auto* set = std::get_if<ckpt::SetRuntimeInfo>(&e)) order.push_back("info " + py::repr(set->value));
    if (const auto* rm = std::get_if<ckpt::RemoveCheckpoint>(&e)) order.push_back("remove " + rm->path);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"info [2, 3]", "remove /w/exp/epoch_1.pth", "info [3]",
                                             "remove /w/exp/epoch_2.pth"}));
}

TEST(Hook, E16_TrimmedPathsUseCurrentOutDirAndTemplate) {
  auto r = run(make({{"max_keep_ckpts", 1}, {"out_dir", "/ckpt"}, {"filename_tmpl", "ckpt_{}.pth"}},
                    {{"keep_ckpt_ids", ids({1, 2})}}),
               {BeforeTrain{at(2)}});
  EXPECT_EQ(removed(r.last()), Names{"/ckpt/exp/ckpt_1.pth"});
  EXPECT_EQ(info(r.state, "keep_ckpt_ids"), ids({2}));
}

TEST(Hook, E16_NoTrimWhenUnlimitedOrNoStoredIds) {
  auto r = run(make({{"interval", 1}}, {{"keep_ckpt_ids", ids({1, 2, 3})}}),
               {BeforeTrain{at(3)}, AfterTrainEpoch{at(3, 8)}});
  EXPECT_TRUE(all_removed(r).empty());
  EXPECT_EQ(info(r.state, "keep_ckpt_ids"), ids({1, 2, 3}));
  r = run(make({{"interval", 1}, {"max_keep_ckpts", 1}}),
          {BeforeTrain{at(2)}, AfterTrainEpoch{at(2, 6)}, AfterTrainEpoch{at(3, 8)}});
  EXPECT_TRUE(removed(r.plan(1)).empty());
  EXPECT_EQ(removed(r.plan(2)), Names{"/w/exp/epoch_3.pth"});
  EXPECT_EQ(info(r.state, "keep_ckpt_ids"), ids({4}));
}

// E17-E21: when a periodic save happens.
TEST(Hook, E17_ByEpochSavesEveryIntervalAndLastIgnoringIters) {
  auto r = run(make({{"interval", 3}}), epochs(7, 2));
  EXPECT_EQ(all_saved(r), (Names{"epoch_3.pth", "epoch_6.pth", "epoch_7.pth"}));
  r = run(make({{"interval", 1}}), {BeforeTrain{at(0)}, AfterTrainIter{at(0, 0), 0}, AfterTrainIter{at(0, 1), 1}});
  EXPECT_TRUE(all_saved(r).empty());
}

TEST(Hook, E18_ByIterSavesEveryIntervalAndLastIgnoringEpochs) {
  auto r = run(make({{"interval", 5}, {"by_epoch", false}}), iterations(12));
  EXPECT_EQ(all_saved(r), (Names{"iter_5.pth", "iter_10.pth", "iter_12.pth"}));
  r = run(make({{"interval", 1}, {"by_epoch", false}}), {BeforeTrain{at(0)}, AfterTrainEpoch{at(0, 10, 1, 10)}});
  EXPECT_TRUE(all_saved(r).empty());
}

TEST(Hook, E19_SaveBeginOffsetsTheSchedule) {
  auto r = run(make({{"interval", 2}, {"save_begin", 3}}), epochs(8, 2));
  EXPECT_EQ(all_saved(r), (Names{"epoch_3.pth", "epoch_5.pth", "epoch_7.pth", "epoch_8.pth"}));
  r = run(make({{"interval", 2}, {"save_begin", 3}, {"by_epoch", false}}), iterations(6));
  EXPECT_EQ(all_saved(r), (Names{"iter_3.pth", "iter_5.pth", "iter_6.pth"}));
}

TEST(Hook, E19_SaveBeginGatesNeitherLastNorBest) {
  auto r = run(make({{"interval", 1}, {"save_begin", 100}}), epochs(5));
  EXPECT_EQ(all_saved(r), Names{"epoch_5.pth"});
  r = run(make({{"interval", 1}, {"save_begin", 10}, {"save_best", "acc"}}), epochs(3, 2, scores("acc", {0.5})));
  EXPECT_EQ(saved(r.plan(2)), Names{"best_acc_epoch_1.pth"});
}

// E19's `counter + 1` on counters the reference keeps as big ints: past
// 2**62 ckpt refuses the call (OverflowError naming the field, nothing
// planned, the state unchanged) instead of overflowing int64, which the
// hook fuzzer reached with iter = INT64_MAX (undefined behaviour).
TEST(Hook, E19_CountersPast2To62AreOverflowErrorNamingTheField) {
  const auto s = hook::step(make({{"interval", 1}, {"by_epoch", false}}), hook::BeforeTrain{hook::Runner{"/w/exp"}}).state;
  constexpr std::int64_t limit = std::int64_t{1} << 62;
  auto out = hook::step(s, hook::AfterTrainIter{hook::Runner{"/w/exp", 0, INT64_MAX, 1, 10}, 0});
  ASSERT_TRUE(out.error);
  EXPECT_EQ(out.error->type, "OverflowError");
  EXPECT_NE(out.error->message.find("runner.iter = 9223372036854775807"), std::string::npos) << out.error->message;
  EXPECT_TRUE(out.plan.empty());
  EXPECT_EQ(out.state, s);
  for (auto [runner, batch, field] : {std::tuple{hook::Runner{"/w/exp", -limit, 0, 1, 10}, std::int64_t{0}, "runner.epoch"},
                                      {hook::Runner{"/w/exp", 0, limit, 1, 10}, 0, "runner.iter"},
                                      {hook::Runner{"/w/exp", 0, 0, 1, 10}, limit, "batch_idx"}}) {
    auto e = hook::step(s, hook::AfterTrainIter{runner, batch}).error;
    ASSERT_TRUE(e) << field;
    EXPECT_EQ(e->message.substr(0, std::string(field).size() + 3), std::string(field) + " = ") << e->message;
  }
  // max_epochs and max_iters are only compared: any value passes
  EXPECT_FALSE(hook::step(s, hook::AfterTrainIter{hook::Runner{"/w/exp", 0, 0, INT64_MIN, INT64_MAX}, 0}).error);
  // the largest counter still counted: a save named after it
  auto last = hook::step(s, hook::AfterTrainIter{hook::Runner{"/w/exp", 0, limit - 2, 1, limit - 1}, 0});
  EXPECT_FALSE(last.error);
  EXPECT_EQ(saved(last.plan), Names{"iter_4611686018427387903.pth"});
}

TEST(Hook, E20_NonPositiveIntervalNeverSavesPeriodically) {
  for (int interval : {0, -1, -3}) {
    auto r = run(make({{"interval", interval}}), epochs(4));
    EXPECT_FALSE(r.error) << interval;
    EXPECT_EQ(all_saved(r), Names{"epoch_4.pth"}) << interval;
  }
}

TEST(Hook, E20_NonPositiveMaxKeepIsUnlimited) {
  for (int keep : {0, -1}) {
    auto r = run(make({{"interval", 1}, {"max_keep_ckpts", keep}}), epochs(4));
    EXPECT_EQ(all_saved(r).size(), 4u) << keep;
    EXPECT_TRUE(all_removed(r).empty()) << keep;
    EXPECT_EQ(info(r.state, "keep_ckpt_ids"), Value("<absent>")) << keep;
  }
}

TEST(Hook, E21_SaveLastNeedsTheExactFinalStep) {
  auto r = run(make({}), {BeforeTrain{at(0, 0, 5)}, AfterTrainEpoch{at(3, 8, 5)}, AfterTrainEpoch{at(5, 12, 5)}});
  EXPECT_TRUE(all_saved(r).empty());
  EXPECT_TRUE(all_saved(run(make({{"save_last", false}}), epochs(3))).empty());
  r = run(make({{"by_epoch", false}}), iterations(7));
  EXPECT_EQ(all_saved(r), Names{"iter_7.pth"});
}

// E23: step and meta of a periodic save.
TEST(Hook, E23_StepAndMetaByEpochAndByIter) {
  auto r = run(make({{"interval", 1}}), {BeforeTrain{at(0)}, AfterTrainEpoch{at(2, 30)}});
  EXPECT_EQ(effects_of<SaveCheckpoint>(r.last()), std::vector<SaveCheckpoint>{periodic("epoch_3.pth", 3, 30)});
  r = run(make({{"interval", 1}, {"by_epoch", false}}), {BeforeTrain{at(0)}, AfterTrainIter{at(1, 14), 4}});
  auto save = effects_of<SaveCheckpoint>(r.last()).at(0);
  EXPECT_EQ(save.filename, "iter_15.pth");
  EXPECT_EQ(save.meta, (Dict{{"epoch", 1}, {"iter", 15}}));
  EXPECT_EQ(save.by_epoch, Value(false));
}

// E24-E27: the periodic save procedure, in order.
TEST(Hook, E24_EvictsOldestBeforeSave) {
  auto r = run(make({{"interval", 1}, {"max_keep_ckpts", 2}}), epochs(3, 10));
  EXPECT_EQ(info(r.steps.at(2).state, "keep_ckpt_ids"), ids({1, 2}));
  EXPECT_EQ(without_logs(r.plan(3)),
            (Plan{RemoveCheckpoint{"/w/exp/epoch_1.pth", true}, SetRuntimeInfo{"keep_ckpt_ids", ids({2, 3})},
                  SetRuntimeInfo{"last_ckpt", "/w/exp/epoch_3.pth"}, periodic("epoch_3.pth", 3, 30),
                  WriteText{"/w/exp/last_checkpoint", "/w/exp/epoch_3.pth"}}));
  EXPECT_LT(index_of<RemoveCheckpoint>(r.plan(3)), index_of<SaveCheckpoint>(r.plan(3)));
}

TEST(Hook, E24_SameStepAsLastIdIsNotAppendedAgain) {
  auto r = run(make({{"interval", 1}, {"max_keep_ckpts", 1}, {"save_best", "acc"}}),
               epochs(1, 10, scores("acc", {0.5})));
  EXPECT_EQ(saved(r.last()), (Names{"best_acc_epoch_1.pth", "epoch_1.pth"}));
  EXPECT_TRUE(removed(r.last()).empty());
  EXPECT_EQ(info_keys(r.last()), (Names{"best_score", "best_ckpt", "last_ckpt"}));
  EXPECT_EQ(info(r.state, "keep_ckpt_ids"), ids({1}));
}

TEST(Hook, E25_LastCkptJoinsOutDirAndFilename) {
  auto r = run(make({{"interval", 2}, {"by_epoch", false}, {"out_dir", "/ckpt"}}), iterations(4));
  EXPECT_EQ(info(r.state, "last_ckpt"), Value("/ckpt/exp/iter_4.pth"));
  EXPECT_EQ(r.state.last_ckpt, Value("/ckpt/exp/iter_4.pth"));
}

TEST(Hook, E26_SaveFlagsPassThrough) {
  auto r = run(make({{"interval", 1}, {"save_optimizer", false}, {"save_param_scheduler", false}}),
               {BeforeTrain{at(0)}, AfterTrainEpoch{at(0, 5)}});
  auto save = effects_of<SaveCheckpoint>(r.last()).at(0);
  EXPECT_EQ(save.save_optimizer, Value(false));
  EXPECT_EQ(save.save_param_scheduler, Value(false));
  EXPECT_EQ(save.by_epoch, Value(true));
  EXPECT_TRUE(save.extra.empty());
}

TEST(Hook, E27_LastCheckpointTextGoesToWorkDir) {
  auto r = run(make({{"interval", 1}, {"out_dir", "/ckpt"}}), {BeforeTrain{at(0)}, AfterTrainEpoch{at(0, 5)}});
  EXPECT_EQ(effects_of<WriteText>(r.last()), (Texts{{"/w/exp/last_checkpoint", "/ckpt/exp/epoch_1.pth"}}));
  EXPECT_EQ(index_of<WriteText>(r.last()), static_cast<long>(r.last().size()) - 1);
}

// E28: the eviction and the runtime info that names the new file are planned
// before the save itself, so a failing save leaves both done (the adapter
// then raises; conformance case mmengine/E28-* shows it on disk).
TEST(Hook, E28_EvictionAndLastCkptPrecedeTheSave) {
  auto r = run(make({{"interval", 1}, {"max_keep_ckpts", 1}}), epochs(2, 10));
  const Plan& p = r.plan(2);
  ASSERT_EQ(removed(p), std::vector<std::string>{"/w/exp/epoch_1.pth"});
  long save = index_of<SaveCheckpoint>(p);
  EXPECT_LT(index_of<RemoveCheckpoint>(p), save);
  EXPECT_LT(index_of<SetRuntimeInfo>(p), save);
  // the state after the event already names the file the save would write
  EXPECT_EQ(info(r.steps.at(2).state, "last_ckpt"), Value("/w/exp/epoch_2.pth"));
  EXPECT_EQ(info(r.steps.at(2).state, "keep_ckpt_ids"), ids({2}));
}

TEST(Hook, E27_NoLastCheckpointTextForBestSaves) {
  auto r = run(make({{"save_best", "acc"}}), epochs(2, 2, scores("acc", {0.5})));
  EXPECT_EQ(saved(r.plan(2)), Names{"best_acc_epoch_1.pth"});
  EXPECT_TRUE(effects_of<WriteText>(r.plan(2)).empty());
}

// E30: runtime info keys.
TEST(Hook, E30_RuntimeInfoKeysForOneAndSeveralKeys) {
  auto r = run(make({{"interval", 1}, {"max_keep_ckpts", 3}, {"save_best", "acc"}}),
               epochs(1, 2, scores("acc", {0.5})));
  EXPECT_EQ(hook::hook_runtime_info(r.state.runtime_info),
            (Dict{{"keep_ckpt_ids", ids({1})}, {"last_ckpt", "/w/exp/epoch_1.pth"}, {"best_score", 0.5},
                  {"best_ckpt", "/w/exp/best_acc_epoch_1.pth"}}));
  r = run(make({{"save_best", Value::list({"coco/bbox_mAP", "val/loss"})}}),
          {BeforeTrain{at(0)}, AfterValEpoch{at(1, 2), {{"coco/bbox_mAP", 0.3}, {"val/loss", 1}}}});
  EXPECT_EQ(r.state.runtime_info,
            (Dict{{"best_score_coco/bbox_mAP", 0.3},
                  {"best_ckpt_coco/bbox_mAP", "/w/exp/best_coco_bbox_mAP_epoch_1.pth"},
                  {"best_score_val/loss", 1},
                  {"best_ckpt_val/loss", "/w/exp/best_val_loss_epoch_1.pth"}}));
}

// E31-E38: best checkpoints.
TEST(Hook, E31_EmptyMetricsOnlyWarnNoSaveBestIgnoresMetrics) {
  for (const auto& kwargs : {Dict{{"save_best", "acc"}}, Dict{}}) {
    auto r = run(make(kwargs), {BeforeTrain{at(0)}, AfterValEpoch{at(1, 2), {}}});
    ASSERT_EQ(r.last().size(), 1u);
    auto log = std::get<Log>(r.last().at(0));
    EXPECT_EQ(log.level, LogLevel::warning);
    EXPECT_NE(log.message.find("empty dict"), std::string::npos);
  }
  auto r = run(make({{"interval", 1}}), {BeforeTrain{at(0)}, AfterValEpoch{at(1, 2), {{"acc", 0.9}}}});
  EXPECT_TRUE(r.last().empty());
  EXPECT_TRUE(r.state.runtime_info.empty());
}

TEST(Hook, E32_StandaloneValidationCrashes) {
  auto r = run(make({{"save_best", Value::list({"acc", "loss"})}}),
               {AfterValEpoch{at(1, 2), {{"acc", 0.5}, {"loss", 0.1}}}});
  EXPECT_EQ(kind(error_of(r)), "KeyError@E32");
  r = run(make({{"save_best", "acc"}}), {AfterValEpoch{at(1, 2), {{"acc", 0.5}}}});
  EXPECT_EQ(error_of(r).type, "AttributeError");
  r = run(make({{"save_best", "acc"}}), {AfterValEpoch{at(1, 2), {}}});
  EXPECT_FALSE(r.error);
}

TEST(Hook, E33_BestStepHasNoPlusOne) {
  auto r = run(make({{"save_best", "acc"}}), {BeforeTrain{at(0)}, AfterValEpoch{at(5, 50), {{"acc", 0.5}}}});
  EXPECT_EQ(effects_of<SaveCheckpoint>(r.last()), std::vector<SaveCheckpoint>{best("best_acc_epoch_5.pth", 5, 50)});
  r = run(make({{"save_best", "acc"}, {"by_epoch", false}}),
          {BeforeTrain{at(0)}, AfterValEpoch{at(0, 200), {{"acc", 0.5}}}});
  EXPECT_EQ(saved(r.last()), Names{"best_acc_iter_200.pth"});
}

TEST(Hook, E34_AutoResolvesToFirstKeyOnce) {
  auto r = run(make({{"save_best", "auto"}}), {BeforeTrain{at(0)}, AfterValEpoch{at(1, 2), {}},
                                                AfterValEpoch{at(2, 4), {{"loss", 1.0}, {"acc", 0.5}}},
                                                AfterValEpoch{at(3, 6), {{"acc", 0.9}, {"loss", 0.5}}}});
  EXPECT_TRUE(saved(r.plan(1)).empty());
  EXPECT_EQ(saved(r.plan(2)), Names{"best_loss_epoch_2.pth"});
  EXPECT_EQ(saved(r.plan(3)), Names{"best_loss_epoch_3.pth"});  // still loss, rule less
  EXPECT_EQ(info(r.state, "best_score"), Value(0.5));
}

TEST(Hook, E34_AutoWithUninferableKeyIsValueError) {
  auto r = run(make({{"save_best", "auto"}}), {BeforeTrain{at(0)}, AfterValEpoch{at(1, 2), {{"mse", 0.5}}}});
  EXPECT_EQ(kind(error_of(r)), "ValueError@E34");
  EXPECT_EQ(error_step(r), 1);
}

TEST(Hook, E35_MissingKeyIsKeyError) {
  auto r = run(make({{"save_best", "acc"}}), {BeforeTrain{at(0)}, AfterValEpoch{at(1, 2), {{"loss", 0.5}}}});
  EXPECT_EQ(kind(error_of(r)), "KeyError@E35");
}

TEST(Hook, E35_NoneNaNAndTiesNeverWin) {
  auto r = run(make({{"save_best", "acc"}}), epochs(5, 2, scores("acc", {py::none, nan_score, 0.5, 0.5, nan_score})));
  EXPECT_EQ(all_saved(r), (Names{"best_acc_epoch_3.pth", "epoch_5.pth"}));
  EXPECT_EQ(info(r.state, "best_score"), Value(0.5));
  r = run(make({{"save_best", "acc"}}), epochs(2, 2, scores("acc", {1, 1.0})));
  EXPECT_EQ(all_saved(r), (Names{"best_acc_epoch_1.pth", "epoch_2.pth"}));
}

TEST(Hook, E35_InfinityBeatsStartValueButNothingBeatsIt) {
  auto r = run(make({{"save_best", "acc"}}), epochs(2, 2, scores("acc", {inf_score, 0.9})));
  EXPECT_EQ(saved(r.plan(2)), Names{"best_acc_epoch_1.pth"});
  EXPECT_TRUE(saved(r.plan(4)).empty());
  EXPECT_EQ(info(r.state, "best_score"), Value(inf_score));
}

TEST(Hook, E35_ResumedBestScoreMustBeBeaten) {
  auto r = run(make({{"save_best", "acc"}}, {{"best_score", 0.9}}),
               {BeforeTrain{at(0)}, AfterValEpoch{at(1, 2), {{"acc", 0.8}}}});
  EXPECT_TRUE(r.last().empty());
  EXPECT_EQ(info(r.state, "best_score"), Value(0.9));
}

TEST(Hook, E35_WinRemovesPreviousBestThenSaves) {
  auto r = run(make({{"save_best", "acc"}}), epochs(3, 2, scores("acc", {0.5, 0.7})));
  EXPECT_EQ(without_logs(r.plan(4)),
            (Plan{SetRuntimeInfo{"best_score", 0.7}, RemoveCheckpoint{"/w/exp/best_acc_epoch_1.pth", true},
                  SetRuntimeInfo{"best_ckpt", "/w/exp/best_acc_epoch_2.pth"}, best("best_acc_epoch_2.pth", 2, 4)}));
}

TEST(Hook, E35_SlashesInBestNameBecomeUnderscores) {
  auto r = run(make({{"save_best", "coco/bbox_mAP"}}),
               {BeforeTrain{at(0)}, AfterValEpoch{at(1, 2), {{"coco/bbox_mAP", 0.3}}}});
  EXPECT_EQ(saved(r.last()), Names{"best_coco_bbox_mAP_epoch_1.pth"});
  EXPECT_EQ(info(r.state, "best_ckpt"), Value("/w/exp/best_coco_bbox_mAP_epoch_1.pth"));
  r = run(make({{"interval", 1}, {"save_best", "acc"}, {"filename_tmpl", "ckpt/{}.pth"}}),
          epochs(1, 2, scores("acc", {0.5})));
  EXPECT_EQ(all_saved(r), (Names{"ckpt/1.pth", "best_acc_ckpt_1.pth", "ckpt/1.pth"}));
}

TEST(Hook, E36_BestSaveFlagsAndNoExtraKwargs) {
  auto r = run(make({{"save_best", "acc"}, {"create_symlink", true}}),
               {BeforeTrain{at(0, 0, 2, 4)}, AfterTrainEpoch{at(0, 2, 2, 4)},
                AfterValEpoch{at(1, 2, 2, 4), {{"acc", 0.5}}}, AfterTrainEpoch{at(1, 4, 2, 4)}});
  EXPECT_EQ(effects_of<SaveCheckpoint>(r.plan(2)), std::vector<SaveCheckpoint>{best("best_acc_epoch_1.pth", 1, 2)});
  EXPECT_EQ(error_of(r).type, "TypeError");  // the last periodic save passes create_symlink (E43)
  EXPECT_EQ(error_step(r), 3);
}

TEST(Hook, E37_WinResavesPeriodicAtCurrentStepIgnoringInterval) {
  auto r = run(make({{"interval", 3}, {"save_best", "acc"}}), epochs(5, 2, scores("acc", {0.5, 0.4, 0.3, 0.6, 0.5})));
  EXPECT_EQ(saved(r.plan(2)), Names{"best_acc_epoch_1.pth"});  // no periodic save yet
  EXPECT_EQ(saved(r.plan(5)), Names{"epoch_3.pth"});
  EXPECT_TRUE(saved(r.plan(7)).empty());
  EXPECT_EQ(without_logs(r.plan(8)).back(), (Effect{WriteText{"/w/exp/last_checkpoint", "/w/exp/epoch_4.pth"}}));
  EXPECT_EQ(effects_of<SaveCheckpoint>(r.plan(8)),
            (std::vector<SaveCheckpoint>{best("best_acc_epoch_4.pth", 4, 8), periodic("epoch_4.pth", 4, 8)}));
  EXPECT_EQ(info(r.steps.at(8).state, "last_ckpt"), Value("/w/exp/epoch_4.pth"));
}

TEST(Hook, E37_NoResaveBeforeThisInstanceSavedPeriodically) {
  auto r = run(make({{"interval", 2}, {"save_best", "acc"}}, {{"last_ckpt", "/w/exp/epoch_4.pth"}}),
               {BeforeTrain{at(4, 10, 6, 12)}, AfterTrainEpoch{at(4, 10, 6, 12)},
                AfterValEpoch{at(5, 10, 6, 12), {{"acc", 0.9}}}});
  EXPECT_EQ(saved(r.last()), Names{"best_acc_epoch_5.pth"});
  EXPECT_EQ(info(r.state, "last_ckpt"), Value("/w/exp/epoch_4.pth"));
}

TEST(Hook, E37_ResaveByIterUsesRunnerIter) {
  auto r = run(make({{"interval", 2}, {"by_epoch", false}, {"save_best", "acc"}, {"max_keep_ckpts", 2}}),
               {BeforeTrain{at(0, 0, 1, 6)}, AfterTrainIter{at(0, 1, 1, 6), 1}, AfterTrainIter{at(0, 2, 1, 6), 2},
                AfterValEpoch{at(0, 3, 1, 6), {{"acc", 0.3}}}});
  EXPECT_EQ(saved(r.last()), (Names{"best_acc_iter_3.pth", "iter_3.pth"}));
  EXPECT_EQ(effects_of<SaveCheckpoint>(r.last()).at(1).meta, (Dict{{"epoch", 0}, {"iter", 3}}));
  EXPECT_EQ(info(r.state, "keep_ckpt_ids"), ids({2, 3}));
}

TEST(Hook, E38_OffIntervalResavesEnterRetention) {
  auto r = run(make({{"interval", 2}, {"max_keep_ckpts", 2}, {"save_best", "acc"}}),
               epochs(11, 2, scores("acc", {0.1, 0.2, 0.3, 0.4, 0.5, 0.45, 0.4, 0.35, 0.3, 0.25, 0.2})));
  r.steps.push_back(hook::step(r.state, AfterTrain{at(11, 22, 11, 22)}));
  ASSERT_FALSE(r.error);
  auto names = all_saved(r);
  EXPECT_EQ(std::count(names.begin(), names.end(), "epoch_3.pth"), 1);
  EXPECT_EQ(std::count(names.begin(), names.end(), "epoch_5.pth"), 1);
  EXPECT_EQ(removed(r.plan(10)), (Names{"/w/exp/best_acc_epoch_4.pth", "/w/exp/epoch_3.pth"}));
  EXPECT_EQ(replay(r),
            (std::set<std::string>{"/w/exp/best_acc_epoch_5.pth", "/w/exp/epoch_10.pth", "/w/exp/epoch_11.pth"}));
  EXPECT_EQ(info(r.state, "keep_ckpt_ids"), ids({10, 11}));
}

// E40: one-key runtime names are metric-agnostic.
TEST(Hook, E40_ResumedBestScoreOfAnotherMetricIsCompared) {
  const Dict resumed{{"best_score", 0.9}, {"best_ckpt", "/w/exp/best_acc_epoch_3.pth"}};
  auto r = run(make({{"save_best", "mAP"}}, resumed), {BeforeTrain{at(3)}, AfterValEpoch{at(4, 8), {{"mAP", 0.5}}}});
  EXPECT_TRUE(r.last().empty());
  r = run(make({{"save_best", "loss"}}, resumed), {BeforeTrain{at(3)}, AfterValEpoch{at(4, 8), {{"loss", 0.5}}}});
  EXPECT_EQ(removed(r.last()), Names{"/w/exp/best_acc_epoch_3.pth"});
  EXPECT_EQ(saved(r.last()), Names{"best_loss_epoch_4.pth"});
}

// E41-E42: publishing after training.
TEST(Hook, E41_NothingPublishedWithoutPublishedKeysOrSaves) {
  auto r = run(make({{"interval", 1}, {"save_best", "acc"}}), epochs(1, 2, scores("acc", {0.5})));
  EXPECT_TRUE(hook::step(r.state, AfterTrain{at(1, 2, 1, 2)}).plan.empty());
  r = run(make({{"save_last", false}, {"published_keys", "meta"}}), epochs(2));
  EXPECT_TRUE(hook::step(r.state, AfterTrain{at(2, 20, 2, 20)}).plan.empty());
}

TEST(Hook, E41_PublishesLastThenBest) {
  auto r = run(make({{"interval", 1}, {"save_best", "acc"}, {"published_keys", Value::list({"state_dict"})}}),
               epochs(2, 2, scores("acc", {0.5, 0.4})));
  auto out = hook::step(r.state, AfterTrain{at(2, 4, 2, 4)});
  EXPECT_FALSE(out.error);
  EXPECT_EQ(effects_of<Publish>(out.plan), (std::vector<Publish>{{"/w/exp/epoch_2.pth", {"state_dict"}},
                                                                 {"/w/exp/best_acc_epoch_1.pth", {"state_dict"}}}));
}

TEST(Hook, E41_SaveLastFalseSkipsLastAndNeverImprovedSingleKeyIsSkipped) {
  auto r = run(make({{"interval", 1}, {"save_last", false}, {"save_best", "acc"}, {"published_keys", "meta"}}),
               epochs(2, 2, scores("acc", {0.5, 0.6})));
  EXPECT_EQ(published(hook::step(r.state, AfterTrain{at(2, 4, 2, 4)}).plan),
            Names{"/w/exp/best_acc_epoch_2.pth"});
  r = run(make({{"interval", 1}, {"save_best", "acc"}, {"published_keys", "meta"}}),
          epochs(2, 2, scores("acc", {py::none, nan_score})));
  auto out = hook::step(r.state, AfterTrain{at(2, 4, 2, 4)});
  EXPECT_FALSE(out.error);
  EXPECT_EQ(published(out.plan), Names{"/w/exp/epoch_2.pth"});
}

TEST(Hook, E41_MultiKeyNeverImprovedIsTypeError) {
  auto r = run(make({{"interval", 1}, {"save_best", Value::list({"acc", "loss"})}, {"published_keys", "meta"}}),
               epochs(1, 10, {Dict{{"acc", 0.5}, {"loss", py::none}}}));
  auto out = hook::step(r.state, AfterTrain{at(1, 10, 1, 10)});
  EXPECT_EQ(published(out.plan), (Names{"/w/exp/epoch_1.pth", "/w/exp/best_acc_epoch_1.pth"}));
  EXPECT_EQ(kind(out.error.value_or(py::PyError{})), "TypeError@E41");
}

TEST(Hook, E42_PublishNamesSourceAndKeptKeys) {
  auto r = run(make({{"save_last", false}, {"save_best", Value::list({"acc", "loss"})},
                     {"published_keys", Value::list({"meta", "state_dict"})}}),
               epochs(2, 2, {Dict{{"acc", 0.5}, {"loss", 1}}, Dict{{"acc", 0.6}, {"loss", 2}}}));
  auto out = hook::step(r.state, AfterTrain{at(2, 4, 2, 4)});
  EXPECT_FALSE(out.error);
  EXPECT_EQ(effects_of<Publish>(out.plan),
            (std::vector<Publish>{{"/w/exp/best_acc_epoch_2.pth", {"meta", "state_dict"}},
                                  {"/w/exp/best_loss_epoch_1.pth", {"meta", "state_dict"}}}));
}

// E43: extra kwargs reach the runner's save and fail there.
TEST(Hook, E43_UnknownKwargFailsAtFirstPeriodicSave) {
  EXPECT_EQ(make({{"interval", 1}, {"create_symlink", true}}).config.extra, (Dict{{"create_symlink", true}}));  // E1
  auto r = run(make({{"interval", 1}, {"max_keep_ckpts", 2}, {"create_symlink", true}}),
               {BeforeTrain{at(0)}, AfterTrainEpoch{at(0, 10)}});
  EXPECT_EQ(kind(error_of(r)), "TypeError@E43");
  EXPECT_TRUE(saved(r.last()).empty());
  EXPECT_TRUE(effects_of<WriteText>(r.last()).empty());
  EXPECT_EQ(info(r.state, "keep_ckpt_ids"), ids({1}));
  EXPECT_EQ(info(r.state, "last_ckpt"), Value("/w/exp/epoch_1.pth"));
  r = run(make({{"interval", 2}, {"by_epoch", false}, {"foo", 1}}), iterations(4));
  EXPECT_EQ(error_of(r).type, "TypeError");
  EXPECT_EQ(error_step(r), 2);
}

// Main process only: other ranks save but never remove, write or publish.
TEST(Hook, E16_E24_E35_NonMainProcessNeverRemoves) {
  auto s = make({{"interval", 1}, {"max_keep_ckpts", 1}, {"save_best", "acc"}}, {{"keep_ckpt_ids", ids({7, 8, 9})}});
  auto r = run(s, {BeforeTrain{worker(at(0, 0, 3, 6))}, AfterTrainEpoch{worker(at(0, 2, 3, 6))},
                   AfterValEpoch{worker(at(1, 2, 3, 6)), {{"acc", 0.5}}}, AfterTrainEpoch{worker(at(1, 4, 3, 6))},
                   AfterValEpoch{worker(at(2, 4, 3, 6)), {{"acc", 0.6}}}});
  EXPECT_FALSE(r.error);
  EXPECT_TRUE(all_removed(r).empty());
  EXPECT_EQ(info(r.steps.at(0).state, "keep_ckpt_ids"), ids({9}));
  EXPECT_EQ(all_saved(r), (Names{"epoch_1.pth", "best_acc_epoch_1.pth", "epoch_1.pth", "epoch_2.pth",
                                 "best_acc_epoch_2.pth", "epoch_2.pth"}));
  EXPECT_EQ(info(r.state, "keep_ckpt_ids"), ids({2}));
  EXPECT_EQ(info(r.state, "best_ckpt"), Value("/w/exp/best_acc_epoch_2.pth"));
}

TEST(Hook, E27_E42_NonMainProcessWritesAndPublishesNothing) {
  auto s = make({{"interval", 1}, {"save_best", "acc"}, {"published_keys", Value::list({"meta", "state_dict"})}});
  auto r = run(s, {BeforeTrain{worker(at(0, 0, 1, 2))}, AfterTrainEpoch{worker(at(0, 2, 1, 2))},
                   AfterValEpoch{worker(at(1, 2, 1, 2)), {{"acc", 0.5}}}, AfterTrain{worker(at(1, 2, 1, 2))}});
  EXPECT_FALSE(r.error);
  EXPECT_EQ(all_saved(r), (Names{"epoch_1.pth", "best_acc_epoch_1.pth", "epoch_1.pth"}));
  for (const auto& st : r.steps) {
    EXPECT_TRUE(effects_of<WriteText>(st.plan).empty());
    EXPECT_TRUE(effects_of<Publish>(st.plan).empty());
  }
}

// B60: shared conventions.
TEST(Hook, B60_IntervalMinusOneWithoutSaveLastNeverSaves) {
  auto r = run(make({{"save_last", false}, {"max_keep_ckpts", -1}}), epochs(5));
  EXPECT_FALSE(r.error);
  EXPECT_TRUE(all_saved(r).empty());
  EXPECT_TRUE(r.state.runtime_info.empty());
}

// B61: templates.
TEST(Hook, B61_NoPlaceholderDeletesCurrentFileBeforeRewriting) {
  auto r = run(make({{"interval", 1}, {"max_keep_ckpts", 1}, {"filename_tmpl", "ckpt.pth"}}), epochs(3, 2));
  EXPECT_EQ(all_saved(r), (Names{"ckpt.pth", "ckpt.pth", "ckpt.pth"}));
  EXPECT_EQ(removed(r.plan(2)), Names{"/w/exp/ckpt.pth"});
  EXPECT_LT(index_of<RemoveCheckpoint>(r.plan(2)), index_of<SaveCheckpoint>(r.plan(2)));
  EXPECT_EQ(info(r.state, "keep_ckpt_ids"), ids({3}));
}

TEST(Hook, B61_TwoPlaceholdersIsIndexErrorAfterKeepIds) {
  auto r = run(make({{"interval", 1}, {"max_keep_ckpts", 2}, {"filename_tmpl", "e{}_{}.pth"}}), epochs(2, 2));
  EXPECT_EQ(kind(error_of(r)), "IndexError@B61");
  EXPECT_EQ(error_step(r), 1);
  EXPECT_EQ(info(r.state, "keep_ckpt_ids"), ids({1}));
  EXPECT_EQ(info(r.state, "last_ckpt"), Value("<absent>"));
  EXPECT_TRUE(saved(r.last()).empty());
}

TEST(Hook, B61_FormatSpecIsApplied) {
  auto r = run(make({{"interval", 1}, {"max_keep_ckpts", 1}, {"save_best", "acc"},
                     {"filename_tmpl", "epoch_{:03d}.pth"}}),
               epochs(2, 2, scores("acc", {0.5})));
  EXPECT_EQ(all_saved(r), (Names{"epoch_001.pth", "best_acc_epoch_001.pth", "epoch_001.pth", "epoch_002.pth"}));
  EXPECT_EQ(all_removed(r), Names{"/w/exp/epoch_001.pth"});
}

TEST(Hook, B61_NamedFieldIsKeyError) {
  auto r = run(make({{"interval", 1}, {"filename_tmpl", "epoch_{epoch}.pth"}}), epochs(2, 2));
  EXPECT_EQ(kind(error_of(r)), "KeyError@B61");
  EXPECT_EQ(error_step(r), 1);
  r = run(make({{"save_best", "acc"}, {"filename_tmpl", "epoch_{epoch}.pth"}}),
          {BeforeTrain{at(0)}, AfterValEpoch{at(1, 2), {{"acc", 0.5}}}});
  EXPECT_EQ(kind(error_of(r)), "KeyError@B61");
}

// B62: only template files are retained; best files never count.
TEST(Hook, B62_BestFilesAreNeverRetained) {
  auto r = run(make({{"interval", 1}, {"max_keep_ckpts", 1}, {"save_best", "acc"}}),
               epochs(4, 2, scores("acc", {0.9, 0.1, 0.2, 0.3})));
  EXPECT_EQ(all_removed(r), (Names{"/w/exp/epoch_1.pth", "/w/exp/epoch_2.pth", "/w/exp/epoch_3.pth"}));
  const std::set<std::string> foreign{"/w/exp/notes.txt", "/w/exp/latest.pth", "/w/exp/epoch_1.pth.bak"};
  auto files = replay(r, foreign);
  for (const auto& f : foreign) EXPECT_TRUE(files.count(f)) << f;
  EXPECT_TRUE(files.count("/w/exp/best_acc_epoch_1.pth"));
  EXPECT_TRUE(files.count("/w/exp/epoch_4.pth"));
  EXPECT_EQ(files.size(), foreign.size() + 2);
}
