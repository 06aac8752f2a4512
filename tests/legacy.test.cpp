// ckpt.legacy — mmcv 1.7.2 CheckpointHook with EpochBasedRunner /
// IterBasedRunner.save_checkpoint (C46–C59, B61 of
// docs/spec/checkpoint-hook-spec.md). Expected values come from
// the real reference: `tools/adapter mmcv run` on the matching case of
// conformance/cases/mmcv/ (named beside a test), or, where an observation
// cannot show it (rank != 0, checkpoint contents, files written before an
// error), from driving the installed hook and runners directly in Python.
// Paths: the reference's sandbox-relative `work_dirs/exp` is `/w/exp` here.
#include <gtest/gtest.h>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>
import ckpt.legacy;

namespace {

namespace py = ckpt::py;
namespace lg = ckpt::legacy;
using lg::RunnerKind;
using py::Dict;
using py::Value;
using Names = std::vector<std::string>;

const std::string wd = "/w/exp";

lg::Runner at(std::int64_t epoch, std::int64_t iter, std::int64_t max_epochs = 3, std::int64_t max_iters = 6,
              int rank = 0) {
  return {wd, epoch, iter, max_epochs, max_iters, rank};
}

lg::State make(const Dict& kwargs, RunnerKind kind = RunnerKind::epoch, Value meta = py::none) {
  return lg::init(ckpt::legacy_config_from_kwargs(kwargs), kind, std::move(meta));
}

/// The files a plan touches, applied as mmcv's FileClient and os do:
/// retention removes while `isfile`, a symlink replaces what was there.
struct Disk {
  std::set<std::string> files;
  std::set<std::string> dirs;
  std::map<std::string, std::string> links;
  Names removed;

  void apply(const ckpt::Plan& plan) {
    for (const auto& effect : plan) {
      if (const auto* save = std::get_if<ckpt::LegacySaveCheckpoint>(&effect)) files.insert(save->filepath);
      if (const auto* link = std::get_if<ckpt::Symlink>(&effect)) {
        files.erase(link->link);
        links[link->link] = link->target;
      }
      if (const auto* series = std::get_if<ckpt::RemoveUntilGap>(&effect))
        for (auto step : ckpt::series_steps(*series, 10000)) {
          if (!files.erase(ckpt::series_path(*series, step))) break;
          removed.push_back(ckpt::series_path(*series, step));
        }
    }
  }
};

struct Run {
  lg::State state;
  std::vector<lg::Step> steps;
  std::optional<py::PyError> error;
  Disk disk;
  const ckpt::Plan& plan(std::size_t i) const { return steps.at(i).plan; }
};

Run run(lg::State s, const std::vector<lg::Event>& events, Disk disk = {}) {
  Run r{{}, {}, {}, std::move(disk)};
  for (const auto& e : events) {
    auto out = lg::step(std::move(s), e);
    s = out.state;
    r.disk.apply(out.plan);
    r.steps.push_back(out);
    if (out.error) {
      r.error = out.error;
      break;
    }
  }
  r.state = std::move(s);
  return r;
}

/// before_run, then after_train_epoch for epochs [first, n) with `ipe` iterations each.
std::vector<lg::Event> epochs(std::int64_t n, std::int64_t ipe = 2, std::int64_t first = 0) {
  std::vector<lg::Event> out{lg::BeforeRun{at(0, 0, n, n * ipe)}};
  for (auto e = first; e < n; ++e) out.push_back(lg::AfterTrainEpoch{at(e, (e + 1) * ipe, n, n * ipe)});
  return out;
}

/// before_run, then after_train_iter for iterations [0, n), `ipe` per epoch.
std::vector<lg::Event> iters(std::int64_t n, std::int64_t ipe = 4) {
  std::vector<lg::Event> out{lg::BeforeRun{at(0, 0, (n + ipe - 1) / ipe, n)}};
  for (std::int64_t i = 0; i < n; ++i) out.push_back(lg::AfterTrainIter{at(i / ipe, i, (n + ipe - 1) / ipe, n)});
  return out;
}

template <class E>
std::vector<E> all(const ckpt::Plan& plan) {
  std::vector<E> out;
  for (const auto& e : plan)
    if (const auto* x = std::get_if<E>(&e)) out.push_back(*x);
  return out;
}

template <class E>
long index_of(const ckpt::Plan& plan) {
  for (std::size_t i = 0; i < plan.size(); ++i)
    if (std::holds_alternative<E>(plan[i])) return static_cast<long>(i);
  return -1;
}

Names saved(const Run& r) {
  Names out;
  for (const auto& s : r.steps)
    for (const auto& save : all<ckpt::LegacySaveCheckpoint>(s.plan)) out.push_back(save.filename);
  return out;
}

std::string raised(const Run& r) { return r.error ? r.error->type + " [" + r.error->clause + "]" : "none"; }

Dict saved_meta(std::int64_t epoch, std::int64_t iter) {
  return {{"epoch", epoch}, {"iter", iter}, {"mmcv_version", "1.7.2"}, {"time", "<time>"}};
}

}  // namespace

TEST(Legacy, C46_DefaultsAreTheReferenceSignature) {
  // inspect.signature(mmcv.runner.CheckpointHook)
  EXPECT_EQ(ckpt::to_kwargs(ckpt::legacy_config_from_kwargs({})),
            (Dict{{"interval", -1}, {"by_epoch", true}, {"save_optimizer", true}, {"out_dir", py::none},
                  {"max_keep_ckpts", -1}, {"save_last", true}, {"sync_buffer", false},
                  {"file_client_args", py::none}}));
}

TEST(Legacy, C46_DefaultHookSavesOnlyTheLast) {  // C46-defaults-save-last-only
  auto r = run(make({}), epochs(3));
  EXPECT_EQ(saved(r), Names{"epoch_3.pth"});
  EXPECT_EQ(all<ckpt::LegacySaveCheckpoint>(r.plan(3)).size(), 1u);
}

TEST(Legacy, C46_ExtraKwargsTravelToTheRunner) {
  Dict kwargs{{"interval", 1}, {"filename_tmpl", "ck_{}.pth"}, {"create_symlink", false}, {"meta", Dict{}}};
  EXPECT_EQ(ckpt::legacy_config_from_kwargs(kwargs).extra,
            (Dict{{"filename_tmpl", "ck_{}.pth"}, {"create_symlink", false}, {"meta", Dict{}}}));
  auto r = run(make(kwargs), epochs(1));
  auto saves = all<ckpt::LegacySaveCheckpoint>(r.plan(1));
  ASSERT_EQ(saves.size(), 1u);
  EXPECT_EQ(saves[0].filename, "ck_1.pth");
  EXPECT_EQ(saves[0].create_symlink, Value(false));
  EXPECT_EQ(saves[0].meta, Value(Dict{}));
}

TEST(Legacy, C46_NoValidationUntilAValueIsUsed) {
  // C46-interval-string-TypeError, C46-file-client-args-int-TypeError, C46-unknown-kwarg-TypeError
  auto s = make({{"interval", "2"}, {"max_keep_ckpts", py::none}, {"foo", 1}});
  EXPECT_EQ(s.config.interval, Value("2"));
  auto bad_interval = run(s, epochs(2));
  EXPECT_EQ(bad_interval.steps.size(), 2u);  // before_run passes; the first after_train_epoch raises
  EXPECT_EQ(raised(bad_interval), "TypeError [C49]");
  EXPECT_EQ(raised(run(make({{"file_client_args", 5}}), epochs(1))), "TypeError [C47]");
  auto unknown = run(make({{"interval", 1}, {"foo", 1}}), epochs(2));
  EXPECT_EQ(unknown.steps.size(), 2u);
  EXPECT_EQ(raised(unknown), "TypeError [C55]");
  EXPECT_TRUE(all<ckpt::LegacySaveCheckpoint>(unknown.plan(1)).empty());
}

TEST(Legacy, C47_FalsyOutDirIsTheWorkDir) {  // C47-out-dir-none/false/zero-uses-work-dir; `not ''` is True
  for (const Value& out_dir : {Value(py::none), Value(""), Value(0), Value(false)}) {
    auto r = run(make({{"interval", 1}, {"out_dir", out_dir}}), epochs(1));
    EXPECT_EQ(r.state.out_dir, Value(wd)) << out_dir;
    EXPECT_EQ(all<ckpt::LegacySaveCheckpoint>(r.plan(1)).at(0).filepath, "/w/exp/epoch_1.pth") << out_dir;
  }
}

TEST(Legacy, C47_OutDirGetsTheWorkDirBasename) {  // C47-out-dir-appends-basename, -trailing-slash, -twice
  EXPECT_EQ(run(make({{"out_dir", "/out"}}), epochs(1)).state.out_dir, Value("/out/exp"));
  EXPECT_EQ(run(make({{"out_dir", "/w/exp/"}}), epochs(1)).state.out_dir, Value("/w/exp/exp"));
  auto twice = run(make({{"out_dir", "/out"}}), {lg::BeforeRun{at(0, 0)}, lg::BeforeRun{at(0, 0)}});
  EXPECT_EQ(twice.state.out_dir, Value("/out/exp/exp"));
}

TEST(Legacy, C47_NonStrOutDirIsAnAssertionError) {  // C47-out-dir-int-AssertionError
  auto r = run(make({{"interval", 1}, {"out_dir", 5}}), epochs(1));
  EXPECT_EQ(r.steps.size(), 1u);
  EXPECT_EQ(raised(r), "AssertionError [C47]");
}

TEST(Legacy, C48_CreateSymlinkDefaultsToTheBackendsSupport) {  // C48-create-symlink-default
  auto r = run(make({{"interval", 1}}), epochs(1));
  EXPECT_EQ(r.state.args, (Dict{{"create_symlink", true}}));
  EXPECT_EQ(all<ckpt::LegacySaveCheckpoint>(r.plan(1)).at(0).create_symlink, Value(true));
  EXPECT_EQ(all<ckpt::Symlink>(r.plan(1)).size(), 1u);
}

TEST(Legacy, C48_CreateSymlinkIsPassedAsGiven) {  // C48-create-symlink-false/-zero/-string-truthy
  for (const Value& given : {Value(false), Value(0), Value("no")}) {
    auto r = run(make({{"interval", 1}, {"create_symlink", given}}), epochs(1));
    EXPECT_EQ(all<ckpt::LegacySaveCheckpoint>(r.plan(1)).at(0).create_symlink, given);
    EXPECT_EQ(all<ckpt::Symlink>(r.plan(1)).size(), py::truthy(given) ? 1u : 0u) << given;
  }
}

TEST(Legacy, C49_EpochRunnerEveryNOrLast) {  // C49-epoch-interval-2
  EXPECT_EQ(saved(run(make({{"interval", 2}}), epochs(5))), (Names{"epoch_2.pth", "epoch_4.pth", "epoch_5.pth"}));
}

TEST(Legacy, C49_IterRunnerEveryNOrLast) {  // C49-iter-runner-interval-3
  auto r = run(make({{"interval", 3}, {"by_epoch", false}}, RunnerKind::iter), iters(7));
  EXPECT_EQ(saved(r), (Names{"iter_3.pth", "iter_6.pth", "iter_7.pth"}));
}

// C49's `counter + 1` past 2**62: OverflowError naming the field (the mmcv
// half of Hook.E19_CountersPast2To62AreOverflowErrorNamingTheField).
TEST(Legacy, C49_CountersPast2To62AreOverflowErrorNamingTheField) {
  auto r = run(make({{"interval", 1}}), {lg::BeforeRun{at(0, 0, 5)}, lg::AfterTrainEpoch{at(INT64_MAX, 6, 5)}});
  ASSERT_TRUE(r.steps.back().error);
  EXPECT_EQ(r.steps.back().error->type, "OverflowError");
  EXPECT_EQ(r.steps.back().error->message.substr(0, 34), "runner.epoch = 9223372036854775807");
  EXPECT_TRUE(r.steps.back().plan.empty());
}

TEST(Legacy, C49_PythonTypedIntervals) {  // C49-interval-float-works, C49-interval-true-every-epoch
  EXPECT_EQ(saved(run(make({{"interval", 2.0}, {"save_last", false}}), epochs(4))),
            (Names{"epoch_2.pth", "epoch_4.pth"}));
  EXPECT_EQ(saved(run(make({{"interval", true}}), epochs(2))), (Names{"epoch_1.pth", "epoch_2.pth"}));
}

TEST(Legacy, C49_SaveLastNeedsTheExactLastEpoch) {  // C49-save-last-needs-exact
  auto r = run(make({}), {lg::BeforeRun{at(0, 0, 5)}, lg::AfterTrainEpoch{at(2, 6, 5)},
                          lg::AfterTrainEpoch{at(5, 12, 5)}});
  EXPECT_TRUE(saved(r).empty());
}

TEST(Legacy, C49_NoStartOffset) {  // C46-save-begin-unknown-TypeError: save_begin is just an unknown kwarg
  auto r = run(make({{"interval", 1}, {"save_begin", 2}}), epochs(2));
  EXPECT_EQ(raised(r), "TypeError [C55]");
  EXPECT_EQ(r.steps.size(), 2u);  // at the very first epoch, not at epoch 2
}

TEST(Legacy, C49_EachHookListensToItsOwnUnit) {  // C54-epoch-hook-on-iter-runner-saves-nothing
  EXPECT_TRUE(saved(run(make({{"interval", 1}}, RunnerKind::iter), iters(6))).empty());
  EXPECT_TRUE(saved(run(make({{"interval", 1}, {"by_epoch", false}}), epochs(3))).empty());
}

TEST(Legacy, C50_SyncBuffersOnEveryRankSavesOnlyOnRankZero) {
  // Python: allreduce_params patched to record, get_dist_info -> (1, 2) then (0, 2)
  auto s = run(make({{"interval", 1}, {"sync_buffer", true}, {"max_keep_ckpts", 1}}, RunnerKind::epoch, Dict{}),
               {lg::BeforeRun{at(0, 0)}})
               .state;
  auto rank1 = lg::step(s, lg::AfterTrainEpoch{at(0, 2, 3, 6, 1)});
  EXPECT_FALSE(rank1.error.has_value());
  EXPECT_EQ(all<ckpt::SyncBuffers>(rank1.plan).size(), 1u);
  EXPECT_TRUE(all<ckpt::LegacySaveCheckpoint>(rank1.plan).empty());
  EXPECT_TRUE(all<ckpt::SetRunnerMeta>(rank1.plan).empty());
  EXPECT_TRUE(all<ckpt::RemoveUntilGap>(rank1.plan).empty());
  EXPECT_EQ(lg::runner_meta(rank1.state), Value(Dict{}));  // rank 1's runner.meta stays {}
  auto rank0 = lg::step(rank1.state, lg::AfterTrainEpoch{at(1, 4)});
  ASSERT_EQ(all<ckpt::SyncBuffers>(rank0.plan).size(), 1u);
  EXPECT_LT(index_of<ckpt::SyncBuffers>(rank0.plan), index_of<ckpt::LegacySaveCheckpoint>(rank0.plan));
  EXPECT_EQ(all<ckpt::LegacySaveCheckpoint>(rank0.plan).at(0).filename, "epoch_2.pth");
}

TEST(Legacy, C50_NoSyncWithoutASaveOrWithoutTheFlag) {
  auto untriggered = run(make({{"interval", 5}, {"sync_buffer", true}, {"save_last", false}}), epochs(3));
  for (const auto& st : untriggered.steps) EXPECT_TRUE(all<ckpt::SyncBuffers>(st.plan).empty());
  auto off = run(make({{"interval", 1}}), epochs(1));
  EXPECT_TRUE(all<ckpt::SyncBuffers>(off.plan(1)).empty());
  auto s = make({{"interval", 1}, {"by_epoch", false}, {"sync_buffer", true}}, RunnerKind::iter);
  auto iter_rank1 = lg::step(lg::step(s, lg::BeforeRun{at(0, 0)}).state, lg::AfterTrainIter{at(0, 0, 1, 6, 1)});
  EXPECT_EQ(all<ckpt::SyncBuffers>(iter_rank1.plan).size(), 1u);
  EXPECT_TRUE(all<ckpt::LegacySaveCheckpoint>(iter_rank1.plan).empty());
}

TEST(Legacy, C51_SaveThenHookMsgsThenRetention) {
  auto r = run(make({{"interval", 1}, {"max_keep_ckpts", 1}}, RunnerKind::epoch, Dict{}), epochs(2));
  const auto& plan = r.plan(2);
  auto save = index_of<ckpt::LegacySaveCheckpoint>(plan);
  auto msgs = index_of<ckpt::SetRunnerMeta>(plan);
  auto retention = index_of<ckpt::RemoveUntilGap>(plan);
  ASSERT_GE(save, 0);
  EXPECT_LT(save, msgs);
  EXPECT_LT(msgs, retention);
  EXPECT_EQ(all<ckpt::SetRunnerMeta>(plan).at(0).meta,
            Value(Dict{{"hook_msgs", Dict{{"last_ckpt", "/w/exp/epoch_2.pth"}}}}));
  EXPECT_EQ(r.disk.removed, Names{"/w/exp/epoch_1.pth"});  // deletion after saving
}

TEST(Legacy, C51_NoHookMsgsWithoutRunnerMeta) {  // C51-meta-none-no-hook-msgs
  auto r = run(make({{"interval", 1}}), epochs(2));
  for (const auto& st : r.steps) EXPECT_TRUE(all<ckpt::SetRunnerMeta>(st.plan).empty());
  EXPECT_EQ(lg::runner_meta(r.state), Value(py::none));
}

TEST(Legacy, C51_HookMsgsKeepRunnerMetaAndUseTheHooksTemplate) {  // C51-hook-msgs-last-ckpt, -iter-runner
  auto r = run(make({{"interval", 1}, {"filename_tmpl", "ck_{}.pth"}}, RunnerKind::epoch, Dict{{"exp_name", "exp"}}),
               epochs(1));
  EXPECT_EQ(lg::runner_meta(r.state),
            Value(Dict{{"exp_name", "exp"}, {"hook_msgs", Dict{{"last_ckpt", "/w/exp/ck_1.pth"}}}}));
  auto it = run(make({{"interval", 3}, {"by_epoch", false}}, RunnerKind::iter, Dict{}), iters(3));
  EXPECT_EQ(lg::runner_meta(it.state), Value(Dict{{"hook_msgs", Dict{{"last_ckpt", "/w/exp/iter_3.pth"}}}}));
}

TEST(Legacy, C51_ErrorsAfterTheSaveLeaveTheFile) {
  // Python: runner.meta={'hook_msgs': 5} / max_keep_ckpts='2': epoch_1.pth and latest.pth exist after the TypeError
  auto msgs = run(make({{"interval", 1}}, RunnerKind::epoch, Dict{{"hook_msgs", 5}}), epochs(2));
  EXPECT_EQ(msgs.steps.size(), 2u);
  EXPECT_EQ(raised(msgs), "TypeError [C51]");
  EXPECT_EQ(msgs.disk.files, (std::set<std::string>{"/w/exp/epoch_1.pth"}));
  auto keep = run(make({{"interval", 1}, {"max_keep_ckpts", "2"}}, RunnerKind::epoch, Dict{}), epochs(2));
  EXPECT_EQ(keep.steps.size(), 2u);
  EXPECT_EQ(raised(keep), "TypeError [C52]");
  EXPECT_EQ(keep.disk.files, (std::set<std::string>{"/w/exp/epoch_1.pth"}));
  EXPECT_EQ(lg::runner_meta(keep.state), Value(Dict{{"hook_msgs", Dict{{"last_ckpt", "/w/exp/epoch_1.pth"}}}}));
}

TEST(Legacy, C52_RetentionIsARangeBackFromTheCurrentStep) {
  auto r = run(make({{"interval", 1}, {"max_keep_ckpts", 2}}), epochs(5, 2, 4));
  EXPECT_EQ(all<ckpt::RemoveUntilGap>(r.plan(1)),
            (std::vector<ckpt::RemoveUntilGap>{{"/w/exp", "epoch_{}.pth", 3, -1}}));  // range(5 - 2, 0, -1)
}

TEST(Legacy, C52_StopsAtFirstGap) {  // C52-stop-at-first-gap
  Disk disk;
  disk.files = {"/w/exp/epoch_1.pth"};
  auto r = run(make({{"interval", 1}, {"max_keep_ckpts", 2}}), epochs(6, 2, 3), disk);
  EXPECT_EQ(r.disk.removed, Names{"/w/exp/epoch_4.pth"});
  EXPECT_EQ(r.disk.files, (std::set<std::string>{"/w/exp/epoch_1.pth", "/w/exp/epoch_5.pth", "/w/exp/epoch_6.pth"}));
}

TEST(Legacy, C52_PreExistingRunIsRemovedInOneSave) {  // C52-pre-existing-run-removed
  Disk disk;
  disk.files = {"/w/exp/epoch_1.pth", "/w/exp/epoch_2.pth", "/w/exp/epoch_3.pth"};
  auto r = run(make({{"interval", 1}, {"max_keep_ckpts", 1}}), epochs(4, 2, 3), disk);
  EXPECT_EQ(r.disk.removed, (Names{"/w/exp/epoch_3.pth", "/w/exp/epoch_2.pth", "/w/exp/epoch_1.pth"}));
  EXPECT_EQ(r.disk.files, (std::set<std::string>{"/w/exp/epoch_4.pth"}));
}

TEST(Legacy, C52_DirectoriesAreNeverRemoved) {  // C52-directories-never-removed
  Disk disk;
  disk.dirs = {"/w/exp/epoch_1.pth"};
  auto r = run(make({{"interval", 1}, {"max_keep_ckpts", 1}}), epochs(3, 2, 1), disk);
  EXPECT_EQ(r.disk.removed, Names{"/w/exp/epoch_2.pth"});
  EXPECT_EQ(r.disk.files, (std::set<std::string>{"/w/exp/epoch_3.pth"}));
}

TEST(Legacy, C52_IterRunnerAndCustomTemplate) {  // C52-iter-runner-retention, C52-custom-tmpl-retention
  auto it = run(make({{"interval", 2}, {"by_epoch", false}, {"max_keep_ckpts", 2}}, RunnerKind::iter), iters(8));
  EXPECT_EQ(it.disk.removed, (Names{"/w/exp/iter_2.pth", "/w/exp/iter_4.pth"}));
  EXPECT_EQ(it.disk.files, (std::set<std::string>{"/w/exp/iter_6.pth", "/w/exp/iter_8.pth"}));
  auto tmpl = run(make({{"interval", 1}, {"max_keep_ckpts", 1}, {"filename_tmpl", "ckpt_{}.pth"}}), epochs(3));
  EXPECT_EQ(tmpl.disk.removed, (Names{"/w/exp/ckpt_1.pth", "/w/exp/ckpt_2.pth"}));
}

TEST(Legacy, C53_OffGridLastSaveKeepsOneMore) {  // C53-off-grid-last-keeps-extra
  auto r = run(make({{"interval", 2}, {"max_keep_ckpts", 2}}), epochs(11, 3));
  EXPECT_EQ(r.disk.removed, (Names{"/w/exp/epoch_2.pth", "/w/exp/epoch_4.pth", "/w/exp/epoch_6.pth"}));
  EXPECT_EQ(r.disk.files,
            (std::set<std::string>{"/w/exp/epoch_8.pth", "/w/exp/epoch_10.pth", "/w/exp/epoch_11.pth"}));
}

TEST(Legacy, C53_IntervalZeroRaisesAtTheFinalSaveAfterSaving) {
  // C53-interval-zero-ValueError (error at event 3); Python: epoch_3.pth exists and
  // runner.meta['hook_msgs'] names it when range() raises
  auto r = run(make({{"interval", 0}, {"max_keep_ckpts", 2}}, RunnerKind::epoch, Dict{}), epochs(3));
  ASSERT_EQ(r.steps.size(), 4u);
  EXPECT_EQ(raised(r), "ValueError [C53]");
  EXPECT_EQ(saved(r), Names{"epoch_3.pth"});
  EXPECT_EQ(lg::runner_meta(r.state), Value(Dict{{"hook_msgs", Dict{{"last_ckpt", "/w/exp/epoch_3.pth"}}}}));
  EXPECT_EQ(r.disk.files, (std::set<std::string>{"/w/exp/epoch_3.pth"}));
}

TEST(Legacy, C53_IntervalZeroWithoutRetentionSavesTheLast) {  // C53-interval-zero-without-retention
  auto r = run(make({{"interval", 0}}), epochs(3));
  EXPECT_FALSE(r.error.has_value());
  EXPECT_EQ(saved(r), Names{"epoch_3.pth"});
}

TEST(Legacy, C53_NegativeIntervalDeletesNothing) {  // C53-negative-interval-deletes-nothing
  Disk disk;
  disk.files = {"/w/exp/epoch_1.pth", "/w/exp/epoch_2.pth"};
  auto r = run(make({{"interval", -1}, {"max_keep_ckpts", 1}}), epochs(3, 2, 2), disk);
  EXPECT_TRUE(all<ckpt::RemoveUntilGap>(r.plan(1)).empty());
  EXPECT_EQ(r.disk.files.size(), 3u);
}

TEST(Legacy, C54_IterHookOnEpochRunnerOverwritesAndNeverDeletes) {  // C54-iter-hook-on-epoch-runner
  auto r = run(make({{"interval", 2}, {"by_epoch", false}, {"max_keep_ckpts", 1}}, RunnerKind::epoch, Dict{}),
               iters(6, 3));
  EXPECT_EQ(saved(r), (Names{"epoch_1.pth", "epoch_2.pth", "epoch_2.pth"}));
  EXPECT_TRUE(r.disk.removed.empty());
  EXPECT_EQ(r.disk.files, (std::set<std::string>{"/w/exp/epoch_1.pth", "/w/exp/epoch_2.pth"}));
  EXPECT_EQ(lg::runner_meta(r.state), Value(Dict{{"hook_msgs", Dict{{"last_ckpt", "/w/exp/iter_6.pth"}}}}));
}

TEST(Legacy, C54_EpochHookOnIterRunnerNamesByIter) {  // probe: after_train_epoch reaching an IterBasedRunner
  auto r = run(make({{"interval", 1}, {"max_keep_ckpts", 1}}, RunnerKind::iter, Dict{}),
               {lg::BeforeRun{at(0, 0, 2, 8)}, lg::AfterTrainEpoch{at(0, 3, 2, 8)},
                lg::AfterTrainEpoch{at(1, 7, 2, 8)}});
  EXPECT_EQ(saved(r), (Names{"iter_4.pth", "iter_8.pth"}));
  EXPECT_TRUE(r.disk.removed.empty());
  EXPECT_EQ(lg::runner_meta(r.state), Value(Dict{{"hook_msgs", Dict{{"last_ckpt", "/w/exp/epoch_2.pth"}}}}));
}

TEST(Legacy, C55_MetaKeywordIsMutatedAcrossSaves) {  // C46-meta-kwarg-mutated-across-saves
  auto r = run(make({{"interval", 1}, {"meta", Dict{{"note", "x"}}}}), epochs(3));
  auto meta_passed = [&](std::size_t i) { return all<ckpt::LegacySaveCheckpoint>(r.plan(i)).at(0).meta; };
  Dict second{{"note", "x"}};
  for (auto& kv : saved_meta(1, 2)) second.push_back(kv);
  Dict third{{"note", "x"}};
  for (auto& kv : saved_meta(2, 4)) third.push_back(kv);
  EXPECT_EQ(meta_passed(1), Value(Dict{{"note", "x"}}));
  EXPECT_EQ(meta_passed(2), Value(second));
  EXPECT_EQ(meta_passed(3), Value(third));
}

TEST(Legacy, C55_RunnerMetaIsMergedBeforeEpochAndIter) {
  // Python: runner.meta={'epoch': 99, 'x': 1}, meta={'note': 'n'}, two epochs; torch.load(...)['meta']
  auto r = run(make({{"interval", 1}, {"meta", Dict{{"note", "n"}}}}, RunnerKind::epoch, Dict{{"epoch", 99}, {"x", 1}}),
               epochs(2));
  EXPECT_EQ(all<ckpt::LegacySaveCheckpoint>(r.plan(1)).at(0).checkpoint_meta,
            (Dict{{"note", "n"}, {"epoch", 1}, {"x", 1}, {"iter", 2}, {"mmcv_version", "1.7.2"}, {"time", "<time>"}}));
  EXPECT_EQ(all<ckpt::LegacySaveCheckpoint>(r.plan(2)).at(0).checkpoint_meta,
            (Dict{{"note", "n"},
                  {"epoch", 2},
                  {"x", 1},
                  {"iter", 4},
                  {"mmcv_version", "1.7.2"},
                  {"time", "<time>"},
                  {"hook_msgs", Dict{{"last_ckpt", "/w/exp/epoch_1.pth"}}}}));
  EXPECT_EQ(lg::runner_meta(r.state),
            Value(Dict{{"epoch", 99}, {"x", 1}, {"hook_msgs", Dict{{"last_ckpt", "/w/exp/epoch_2.pth"}}}}));
}

TEST(Legacy, C55_WithoutAnyMetaTheCheckpointHoldsEpochIterVersionTime) {
  auto r = run(make({{"interval", 1}}), epochs(2));
  EXPECT_EQ(all<ckpt::LegacySaveCheckpoint>(r.plan(2)).at(0).checkpoint_meta, saved_meta(2, 4));
  EXPECT_EQ(all<ckpt::LegacySaveCheckpoint>(r.plan(2)).at(0).meta, Value(py::none));
}

TEST(Legacy, C55_MmcvVersionIsTheImitatedRelease) {
  // mmcv.runner.checkpoint.save_checkpoint: meta.update(mmcv_version=mmcv.__version__, ...);
  // the port writes the release it imitates, 1.7.2 unless init is told another
  EXPECT_EQ(std::string(lg::default_mmcv_version), "1.7.2");
  EXPECT_EQ(make({}).mmcv_version, lg::default_mmcv_version);
  auto older = run(lg::init(ckpt::legacy_config_from_kwargs({{"interval", 1}, {"meta", Dict{}}}), RunnerKind::epoch,
                            py::none, "1.7.1"),
                   epochs(2));
  auto first = all<ckpt::LegacySaveCheckpoint>(older.plan(1)).at(0);
  EXPECT_EQ(first.checkpoint_meta, (Dict{{"epoch", 1}, {"iter", 2}, {"mmcv_version", "1.7.1"}, {"time", "<time>"}}));
  // the hook's own meta dict was mutated by that save: the next save passes it on (C55)
  EXPECT_EQ(all<ckpt::LegacySaveCheckpoint>(older.plan(2)).at(0).meta,
            Value(Dict{{"epoch", 1}, {"iter", 2}, {"mmcv_version", "1.7.1"}, {"time", "<time>"}}));
}

TEST(Legacy, C55_NonDictMetaIsATypeError) {  // C55-meta-non-dict-TypeError
  for (const Value& meta : {Value("x"), Value::list({1}), Value(3)}) {
    auto r = run(make({{"interval", 1}, {"meta", meta}}), epochs(2));
    EXPECT_EQ(r.steps.size(), 2u) << meta;
    EXPECT_EQ(raised(r), "TypeError [C55]") << meta;
    EXPECT_TRUE(all<ckpt::LegacySaveCheckpoint>(r.plan(1)).empty()) << meta;
  }
}

TEST(Legacy, C56_LatestIsARelativeSymlinkInOutDir) {  // C56-symlink-in-out-dir
  auto r = run(make({{"interval", 1}, {"out_dir", "/out"}}), epochs(1));
  const auto& plan = r.plan(1);
  EXPECT_EQ(all<ckpt::LegacySaveCheckpoint>(plan).at(0).filepath, "/out/exp/epoch_1.pth");
  EXPECT_EQ(all<ckpt::Symlink>(plan), (std::vector<ckpt::Symlink>{{"/out/exp/latest.pth", "epoch_1.pth"}}));
  EXPECT_LT(index_of<ckpt::LegacySaveCheckpoint>(plan), index_of<ckpt::Symlink>(plan));
}

TEST(Legacy, C56_ExistingLatestIsReplacedAndNeverRetained) {  // C56-existing-latest-file-replaced, B62
  Disk disk;
  disk.files = {"/w/exp/latest.pth"};
  auto r = run(make({{"interval", 1}, {"max_keep_ckpts", 1}}), epochs(3), disk);
  EXPECT_EQ(r.disk.links, (std::map<std::string, std::string>{{"/w/exp/latest.pth", "epoch_3.pth"}}));
  EXPECT_EQ(r.disk.files, (std::set<std::string>{"/w/exp/epoch_3.pth"}));
  EXPECT_EQ(r.disk.removed, (Names{"/w/exp/epoch_1.pth", "/w/exp/epoch_2.pth"}));
}

TEST(Legacy, C57_IterRunnerNamesIterPlusOneAndMetaEpochPlusOne) {
  // Python: IterBasedRunner, interval=3, by_epoch=False, iters 0..5 with epoch = i // 4
  auto r = run(make({{"interval", 3}, {"by_epoch", false}}, RunnerKind::iter), iters(6, 4));
  EXPECT_EQ(saved(r), (Names{"iter_3.pth", "iter_6.pth"}));
  EXPECT_EQ(all<ckpt::LegacySaveCheckpoint>(r.plan(3)).at(0).checkpoint_meta, saved_meta(1, 2));
  EXPECT_EQ(all<ckpt::LegacySaveCheckpoint>(r.plan(6)).at(0).checkpoint_meta, saved_meta(2, 5));
  EXPECT_EQ(r.disk.links.at("/w/exp/latest.pth"), "iter_6.pth");
  auto tmpl = run(make({{"interval", 3}, {"by_epoch", false}, {"filename_tmpl", "it_{}.pth"}}, RunnerKind::iter),
                  iters(3));
  EXPECT_EQ(saved(tmpl), Names{"it_3.pth"});
}

TEST(Legacy, C58_CheckpointNHoldsTheLastCkptOfNMinus1) {
  // Python: runner.meta={}, interval=1, three epochs; torch.load(...)['meta'] of each file
  auto r = run(make({{"interval", 1}}, RunnerKind::epoch, Dict{}), epochs(3));
  auto ckpt_meta = [&](std::size_t i) { return all<ckpt::LegacySaveCheckpoint>(r.plan(i)).at(0).checkpoint_meta; };
  EXPECT_EQ(ckpt_meta(1), saved_meta(1, 2));
  Dict second{{"hook_msgs", Dict{{"last_ckpt", "/w/exp/epoch_1.pth"}}}};
  for (auto& kv : saved_meta(2, 4)) second.push_back(kv);
  EXPECT_EQ(ckpt_meta(2), second);
  EXPECT_EQ(py::find(ckpt_meta(3), "hook_msgs")->as<Dict>(), (Dict{{"last_ckpt", "/w/exp/epoch_2.pth"}}));
  EXPECT_EQ(lg::runner_meta(r.state), Value(Dict{{"hook_msgs", Dict{{"last_ckpt", "/w/exp/epoch_3.pth"}}}}));
}

TEST(Legacy, C58_TheMetaKeywordSharesHookMsgsWithTheRunner) {  // C58-hook-msgs-shared-lag
  auto r = run(make({{"interval", 1}, {"meta", Dict{}}}, RunnerKind::epoch, Dict{}), epochs(3));
  Dict third = saved_meta(2, 4);
  third.push_back({"hook_msgs", Dict{{"last_ckpt", "/w/exp/epoch_2.pth"}}});
  EXPECT_EQ(all<ckpt::LegacySaveCheckpoint>(r.plan(2)).at(0).meta, Value(saved_meta(1, 2)));
  EXPECT_EQ(all<ckpt::LegacySaveCheckpoint>(r.plan(3)).at(0).meta, Value(third));
}

TEST(Legacy, C58_OwnHookMsgsInTheMetaKeywordAreReplacedFromTheSecondSave) {  // probe: meta={'hook_msgs': {'a': 1}}
  auto r = run(make({{"interval", 1}, {"meta", Dict{{"hook_msgs", Dict{{"a", 1}}}}}}, RunnerKind::epoch, Dict{}),
               epochs(3));
  Dict second{{"hook_msgs", Dict{{"a", 1}}}};
  for (auto& kv : saved_meta(1, 2)) second.push_back(kv);
  Dict third{{"hook_msgs", Dict{{"last_ckpt", "/w/exp/epoch_2.pth"}}}};
  for (auto& kv : saved_meta(2, 4)) third.push_back(kv);
  EXPECT_EQ(all<ckpt::LegacySaveCheckpoint>(r.plan(2)).at(0).meta, Value(second));
  EXPECT_EQ(all<ckpt::LegacySaveCheckpoint>(r.plan(3)).at(0).meta, Value(third));
}

TEST(Legacy, C59_NoBestLogic) {
  // mmcv 1.x's CheckpointHook has no after_val_epoch and no best checkpoint: the evaluation hook owns it
  static_assert(std::variant_size_v<lg::Event> == 4);
  auto r = run(make({{"interval", 1}, {"max_keep_ckpts", 1}}, RunnerKind::epoch, Dict{}), epochs(3));
  r.steps.push_back(lg::step(r.state, lg::AfterRun{at(3, 6)}));
  EXPECT_TRUE(r.steps.back().plan.empty());
  for (const auto& st : r.steps) {
    EXPECT_TRUE(all<ckpt::SaveCheckpoint>(st.plan).empty());
    EXPECT_TRUE(all<ckpt::RemoveCheckpoint>(st.plan).empty());
    EXPECT_TRUE(all<ckpt::SetRuntimeInfo>(st.plan).empty());
    EXPECT_TRUE(all<ckpt::Publish>(st.plan).empty());
    EXPECT_TRUE(all<ckpt::WriteText>(st.plan).empty());
  }
}

TEST(Legacy, C59_SaveBestIsAnUnknownKeyword) {  // C59-save-best-unknown-TypeError
  auto r = run(make({{"interval", 1}, {"save_best", "acc"}}), epochs(2));
  EXPECT_EQ(r.steps.size(), 2u);
  EXPECT_EQ(raised(r), "TypeError [C55]");
  // "EpochBasedRunner.save_checkpoint() got an unexpected keyword argument 'save_best'"
  EXPECT_NE(r.error->message.find("unexpected keyword argument 'save_best'"), std::string::npos);
}

TEST(Legacy, B61_TemplateErrorsAtTheFirstSave) {  // B61-two-placeholders-IndexError, B61-tmpl-int-AttributeError
  auto two = run(make({{"interval", 1}, {"filename_tmpl", "e{}_{}.pth"}}), epochs(2));
  EXPECT_EQ(two.steps.size(), 2u);
  EXPECT_EQ(two.error->type, "IndexError");
  auto number = run(make({{"interval", 1}, {"filename_tmpl", 5}}), epochs(1));
  EXPECT_EQ(number.steps.size(), 2u);
  EXPECT_EQ(number.error->type, "AttributeError");
}

TEST(Legacy, B61_NoPlaceholderDeletesTheJustSavedFile) {  // B61-no-placeholder-deletes-just-saved
  auto r = run(make({{"interval", 1}, {"max_keep_ckpts", 1}, {"filename_tmpl", "ckpt.pth"}}), epochs(3));
  EXPECT_EQ(r.disk.removed, (Names{"/w/exp/ckpt.pth", "/w/exp/ckpt.pth"}));
  EXPECT_TRUE(r.disk.files.empty());
  EXPECT_EQ(r.disk.links.at("/w/exp/latest.pth"), "ckpt.pth");  // dangles
}

// The in-place form of the mmcv reducer is the same function.
TEST(Legacy, C51_AdvanceInPlaceEqualsStep) {
  auto config = ckpt::legacy_config_from_kwargs({{"interval", 1}, {"max_keep_ckpts", 1}});
  auto a = ckpt::legacy::init(config, ckpt::legacy::RunnerKind::epoch, py::Value(py::Dict{}));
  auto b = a;
  for (std::int64_t e = 0; e < 3; ++e) {
    ckpt::legacy::Event ev = ckpt::legacy::AfterTrainEpoch{{"/w/exp", e, 10 * (e + 1), 3, 30, 0}};
    if (e == 0) {
      auto first = ckpt::legacy::step(a, ckpt::legacy::BeforeRun{{"/w/exp", 0, 0, 3, 30, 0}});
      ckpt::legacy::advance(b, ckpt::legacy::BeforeRun{{"/w/exp", 0, 0, 3, 30, 0}});
      a = first.state;
    }
    auto pure = ckpt::legacy::step(a, ev);
    auto out = ckpt::legacy::advance(b, ev);
    EXPECT_EQ(out.plan, pure.plan);
    EXPECT_EQ(b, pure.state);
    a = pure.state;
  }
}

TEST(Legacy, C55_ARunnerThatRaisesInsideItsSaveWasCalledWithTheHooksArguments) {
  // mmcv: the hook calls runner.save_checkpoint(out_dir, save_optimizer=..., meta='x', ...);
  // the runner raises TypeError inside it: the call was made (mmcv/C55-meta-non-dict-TypeError)
  auto r = run(make({{"interval", 1}, {"meta", "x"}}), epochs(1));
  EXPECT_EQ(raised(r), "TypeError [C55]");
  ASSERT_TRUE(r.steps.back().raised_in);
  const lg::SaveCall& call = *r.steps.back().raised_in;
  EXPECT_EQ(call, (lg::SaveCall{Value("/w/exp"), Value(true), Value(true), Value("x")}));
  // an unknown keyword fails at the call itself: nothing was called
  auto unknown = run(make({{"interval", 1}, {"save_begin", 2}}), epochs(1));
  EXPECT_EQ(raised(unknown), "TypeError [C55]");
  EXPECT_FALSE(unknown.steps.back().raised_in);
  // a save that succeeds is its effect, not a raised_in
  auto fine = run(make({{"interval", 1}}), epochs(1));
  for (const auto& st : fine.steps) EXPECT_FALSE(st.raised_in);
}
