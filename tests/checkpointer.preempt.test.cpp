// The `ckpt` profile through the Checkpointer: X5's preemption (an explicit
// call, and SIGTERM/SIGUSR1 turned into it at the next hook call), and X1's
// kept best files surviving a resume.
#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "checkpointer.support.hpp"

namespace {

using namespace checkpointer_test;

ckpt::Options ckpt_options(const TempDir& d, const char* hook, const Logs& logs, bool async = false) {
  ckpt::Options o{d / "work", hook, async};
  o.profile = ckpt::Profile::ckpt;
  o.log = logs.sink();
  o.experiment_name = "test";
  return o;
}

const ts::Dict& meta_of(const ts::Value& file) { return dict(*dict(file).find("meta")); }

std::int64_t counter(const ts::Value& file, const char* key) { return meta_of(file).find(key)->as<std::int64_t>(); }

const char* by_epoch_best = R"({"interval": 2, "max_keep_ckpts": 2, "save_best": "acc"})";

TEST(CheckpointerPreempt, X5_PreemptSavesAtTheCurrentStepAndNothingElse) {
  TempDir d;
  Logs logs;
  Model m;
  ckpt::Checkpointer ck(ckpt_options(d, by_epoch_best, logs));
  ck.track("model", *m.net);
  ck.track("optimizer", m.optimizer);
  ck.before_train({}, 6, 18);
  const auto iter = train(ck, m, {}, 6, 3, rising, 3);  // epochs 1..3: epoch_2.pth periodic, best_acc_epoch_3
  ASSERT_EQ(iter, 9);
  m.step(9);
  ck.after_train_iter(3, 9, 0);
  ck.preempt(3, 10);  // mid-epoch 4: three epochs and ten iterations done
  // the file of step 3 (completed epochs), with the mid-epoch counters;
  // retention counts it (E24), no best file, no schedule
  const ts::Value file = ts::load(d / "work/epoch_3.pth");
  EXPECT_EQ(counter(file, "epoch"), 3);
  EXPECT_EQ(counter(file, "iter"), 10);
  EXPECT_EQ(str(meta_of(file).find("preempted_after")), "after_train_iter");
  EXPECT_TRUE(dict(file).find("optimizer"));  // resumable, as a periodic save is
  EXPECT_EQ(store_test::files_in(d / "work"),
            (std::vector<std::string>{"best_acc_epoch_3.pth", "epoch_2.pth", "epoch_3.pth", "last_checkpoint"}));
  EXPECT_EQ(store_test::read_file(d / "work/last_checkpoint"), d / "work/epoch_3.pth");
  EXPECT_EQ(ck.preempted(), 0);  // no signal asked for it
}

TEST(CheckpointerPreempt, X5_OtherProfilesHaveNoPreemption) {
  TempDir d;
  Logs logs;
  Model m;
  {
    ckpt::Checkpointer ck({d / "work", R"({"interval": 1})"});
    ck.track("model", *m.net);
    ck.before_train({}, 2, 4);
    try {
      ck.preempt(0, 1);
      FAIL() << "mmengine's hook has no preempt";
    } catch (const ckpt::Error& e) {
      EXPECT_EQ(e.type, "AttributeError");
      EXPECT_EQ(e.clause, "X5");
    }
    EXPECT_EQ(store_test::files_in(d / "work"), std::vector<std::string>{});
  }
  ckpt::Options o{d / "work", R"({"interval": 1})"};
  o.preempt_signals = std::vector<int>{SIGUSR1};
  try {
    ckpt::Checkpointer ck(o);
    FAIL() << "a signal list for the mmengine profile is refused";
  } catch (const ckpt::Error& e) {
    EXPECT_EQ(e.type, "AttributeError");
    EXPECT_EQ(e.parameter, "preempt_signals");
    EXPECT_EQ(e.value, std::to_string(SIGUSR1));
  }
}

TEST(CheckpointerPreempt, X5_ASignalSavesAtTheNextHookCallAndTheRunGoesOn) {
  for (bool async : {false, true}) {
    SCOPED_TRACE(async ? "async" : "sync");
    TempDir d;
    Logs logs;
    Model m;
    auto o = ckpt_options(d, by_epoch_best, logs, async);
    o.exit_after_preempt = false;
    ckpt::Checkpointer ck(o);
    ck.track("model", *m.net);
    ck.track("optimizer", m.optimizer);
    ck.before_train({}, 2, 6);
    m.step(0);
    ck.after_train_iter(0, 0, 0);
    ASSERT_EQ(std::raise(SIGUSR1), 0);  // noted only: nothing happens until the next hook call
    EXPECT_EQ(store_test::files_in(d / "work"), std::vector<std::string>{});
    m.step(1);
    ck.after_train_iter(0, 1, 1);
    EXPECT_EQ(ck.preempted(), SIGUSR1);
    EXPECT_FALSE(ck.saving());  // durable before the call returned
    const ts::Value file = ts::load(d / "work/epoch_0.pth");
    EXPECT_EQ(counter(file, "epoch"), 0);
    EXPECT_EQ(counter(file, "iter"), 2);  // two iterations done
    EXPECT_TRUE(dict(*dict(file).find("state_dict")).find("0.weight")->as<at::Tensor>().equal(m.net->parameters()[0]));
    EXPECT_TRUE(logs.contains("signal " + std::to_string(SIGUSR1) + " after after_train_iter"));
    // the run goes on: the preemption was a periodic save of this instance,
    // so the first best win re-saves the periodic checkpoint (E37)
    m.step(2);
    ck.after_train_iter(0, 2, 2);
    ck.after_train_epoch(0, 3);
    ck.after_val_epoch(1, 3, {{"acc", 0.5}});
    ck.wait();
    EXPECT_EQ(store_test::files_in(d / "work"),
              (std::vector<std::string>{"best_acc_epoch_1.pth", "epoch_0.pth", "epoch_1.pth", "last_checkpoint"}));
  }
}

TEST(CheckpointerPreempt, X5_OneCheckpointerPerProcessHandlesSignals) {
  TempDir d;
  Logs logs;
  ckpt::Checkpointer first(ckpt_options(d, by_epoch_best, logs));
  try {
    ckpt::Checkpointer second(ckpt_options(d, by_epoch_best, logs));
    FAIL() << "two Checkpointers would share one handler";
  } catch (const ckpt::Error& e) {
    EXPECT_EQ(e.type, "RuntimeError");
    EXPECT_EQ(e.parameter, "preempt_signals");
  }
  auto quiet = ckpt_options(d, by_epoch_best, logs);
  quiet.preempt_signals = std::vector<int>{};
  ckpt::Checkpointer second(quiet);  // one that handles none is fine
  auto kill = ckpt_options(d, by_epoch_best, logs);
  kill.preempt_signals = std::vector<int>{SIGKILL};
  EXPECT_THROW(ckpt::Checkpointer{kill}, ckpt::Error);
}

TEST(CheckpointerPreempt, X5_TheHandlingBeforeComesBackWithTheCheckpointer) {
  struct sigaction before {};
  ASSERT_EQ(sigaction(SIGTERM, nullptr, &before), 0);
  {
    TempDir d;
    Logs logs;
    ckpt::Checkpointer ck(ckpt_options(d, by_epoch_best, logs));
    struct sigaction during {};
    ASSERT_EQ(sigaction(SIGTERM, nullptr, &during), 0);
    EXPECT_NE(during.sa_handler, before.sa_handler);
  }
  struct sigaction after {};
  ASSERT_EQ(sigaction(SIGTERM, nullptr, &after), 0);
  EXPECT_EQ(after.sa_handler, before.sa_handler);
}

// The default: the save is durable, then the signal does what it would have
// done (SIGTERM's default: the process ends by it).
TEST(CheckpointerPreemptDeathTest, X5_SigtermEndsTheProcessOneDurableCheckpointLater) {
  // threadsafe: the child runs this test again from its start, in a fresh
  // process; it learns the parent's directory from the environment.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const char* parents = std::getenv("CKPT_PREEMPT_DEATH_DIR");
  std::optional<TempDir> own;
  if (!parents) own.emplace();
  const std::string dir = parents ? std::string(parents) : own->path;
  if (!parents) setenv("CKPT_PREEMPT_DEATH_DIR", dir.c_str(), 1);
  auto run = [&] {
    Logs logs;
    Model m;
    ckpt::Options o{dir + "/work", by_epoch_best, true};
    o.profile = ckpt::Profile::ckpt;
    o.log = logs.sink();
    ckpt::Checkpointer ck(o);
    ck.track("model", *m.net);
    ck.track("optimizer", m.optimizer);
    ck.before_train({}, 2, 6);
    m.step(0);
    ck.after_train_iter(0, 0, 0);
    std::raise(SIGTERM);
    m.step(1);
    ck.after_train_iter(0, 1, 1);
    std::_Exit(3);  // not reached: the signal ends the process
  };
  EXPECT_EXIT(run(), testing::KilledBySignal(SIGTERM), "");
  unsetenv("CKPT_PREEMPT_DEATH_DIR");
  const ts::Value file = ts::load(dir + "/work/epoch_0.pth");
  EXPECT_EQ(counter(file, "iter"), 2);
  EXPECT_EQ(store_test::read_file(dir + "/work/last_checkpoint"), dir + "/work/epoch_0.pth");
}

// A preemption mid-epoch resumes at its iteration, without validating a
// half-trained epoch; one right after an epoch ended validates it first.
TEST(CheckpointerPreempt, X5_ResumeValidatesFirstOnlyAfterAnEpochEnded) {
  // Epoch 2's validation was no new best, so nothing on disk records it:
  // only the preemption's own meta tells a mid-epoch save from one made
  // before a validation.
  auto falling = [](std::int64_t epoch) { return 1.0 - 0.1 * static_cast<double>(epoch); };
  for (bool at_epoch_end : {false, true}) {
    SCOPED_TRACE(at_epoch_end ? "after_train_epoch" : "mid-epoch");
    TempDir d;
    Logs logs;
    Model m;
    {
      auto o = ckpt_options(d, R"({"interval": 1, "save_best": "acc"})", logs);
      o.exit_after_preempt = false;
      ckpt::Checkpointer ck(o);
      ck.track("model", *m.net);
      ck.track("optimizer", m.optimizer);
      ck.before_train({}, 4, 12);
      ASSERT_EQ(train(ck, m, {}, 4, 3, falling, 2), 6);
      m.step(6);
      if (at_epoch_end) {
        ck.after_train_iter(2, 6, 0);
        m.step(7);
        ck.after_train_iter(2, 7, 1);
        m.step(8);
        ck.after_train_iter(2, 8, 2);
        ASSERT_EQ(std::raise(SIGTERM), 0);
        ck.after_train_epoch(2, 9);  // saves epoch_3.pth, then the preemption rewrites it
      } else {
        ASSERT_EQ(std::raise(SIGTERM), 0);
        ck.after_train_iter(2, 6, 0);  // rewrites epoch_2.pth with the mid-epoch state
      }
      ASSERT_EQ(ck.preempted(), SIGTERM);
    }
    Model again(9);
    ckpt::Checkpointer ck(ckpt_options(d, R"({"interval": 1, "save_best": "acc"})", logs));
    ck.track("model", *again.net);
    ck.track("optimizer", again.optimizer);
    const auto at = ck.resume();
    EXPECT_EQ(at.epoch, at_epoch_end ? 3 : 2);
    EXPECT_EQ(at.iter, at_epoch_end ? 9 : 7);
    EXPECT_EQ(at.validate_first, at_epoch_end);
    EXPECT_TRUE(again.flat().equal(m.flat()));
  }
}

// The same decision for an explicit preempt(): the call it followed is the
// last hook call made, whatever made the trainer preempt.
TEST(CheckpointerPreempt, X5_AnExplicitPreemptRecordsTheCallItFollowed) {
  for (bool after_epoch : {false, true}) {
    SCOPED_TRACE(after_epoch ? "after_train_epoch" : "after_train_iter");
    TempDir d;
    Logs logs;
    Model m;
    const char* hook = R"({"interval": 2, "save_best": "acc"})";
    {
      ckpt::Checkpointer ck(ckpt_options(d, hook, logs));
      ck.track("model", *m.net);
      ck.before_train({}, 4, 8);
      ck.after_train_iter(0, 0, 0);
      ck.after_train_iter(0, 1, 1);
      ck.after_train_epoch(0, 2);
      ck.after_val_epoch(1, 2, {{"acc", 0.5}});  // a best file for step 1
      ck.after_train_iter(1, 2, 0);
      ck.after_train_iter(1, 3, 1);
      ck.after_train_epoch(1, 4);
      ck.after_val_epoch(2, 4, {{"acc", 0.4}});  // no new best: nothing records step 2's validation
      ck.after_train_iter(2, 4, 0);
      if (after_epoch) {
        ck.after_train_iter(2, 5, 1);
        ck.after_train_epoch(2, 6);
        ck.preempt(3, 6);
      } else {
        ck.preempt(2, 5);
      }
    }
    ckpt::Checkpointer ck(ckpt_options(d, hook, logs));
    ck.track("model", *m.net);
    const auto at = ck.resume();
    EXPECT_EQ(str(meta_of(ts::load(at.path)).find("preempted_after")),
              after_epoch ? "after_train_epoch" : "after_train_iter");
    EXPECT_EQ(at.epoch, after_epoch ? 3 : 2);
    EXPECT_EQ(at.validate_first, after_epoch);
  }
}

// X4 through the Checkpointer: the shell gives each event the wall-clock
// time (the core reads none), so a tiny interval_seconds saves at every
// decision point although no interval is set, and the time is recorded.
TEST(CheckpointerPreempt, X4_TheCheckpointerGivesEventsTheWallClock) {
  TempDir d;
  Logs logs;
  Model m;
  auto o = ckpt_options(d, R"({"interval_seconds": 1e-9, "save_last": false})", logs);
  o.preempt_signals = std::vector<int>{};
  ckpt::Checkpointer ck(o);
  ck.track("model", *m.net);
  ck.before_train({}, 2, 4);
  train(ck, m, {}, 2, 2, rising);
  EXPECT_EQ(store_test::files_in(d / "work"), (std::vector<std::string>{"epoch_1.pth", "epoch_2.pth", "last_checkpoint"}));
  const std::string info = ck.runtime_info_json();
  EXPECT_NE(info.find("\"last_save_time\": 1"), std::string::npos) << info;  // seconds since 1970: 1.7e9
}

// X1 with the safe ordering's resume (converge): the kept best files are
// the runtime info's, not orphans.
TEST(CheckpointerPreempt, X1_ResumeKeepsEveryKeptBestFile) {
  TempDir d;
  Logs logs;
  const char* hook = R"({"interval": 1, "max_keep_ckpts": 1, "save_best": "acc", "keep_best": 2})";
  Model m;
  {
    ckpt::Checkpointer ck(ckpt_options(d, hook, logs));
    ck.track("model", *m.net);
    ck.before_train({}, 3, 6);
    train(ck, m, {}, 3, 2, rising);
  }
  const std::vector<std::string> files{"best_acc_epoch_2.pth", "best_acc_epoch_3.pth", "epoch_3.pth",
                                       "last_checkpoint"};
  ASSERT_EQ(store_test::files_in(d / "work"), files);
  ckpt::Checkpointer ck(ckpt_options(d, hook, logs));
  ck.track("model", *m.net);
  const auto at = ck.resume();
  EXPECT_EQ(at.epoch, 3);
  EXPECT_EQ(store_test::files_in(d / "work"), files) << logs.all();
}

// The same with several keys: each key's list (`best_kept_<key>`) is kept.
TEST(CheckpointerPreempt, X1_ResumeKeepsEachKeysKeptBestFiles) {
  TempDir d;
  Logs logs;
  const char* hook = R"({"interval": 1, "max_keep_ckpts": 1, "save_best": ["acc", "loss"], "keep_best": 2})";
  Model m;
  {
    ckpt::Checkpointer ck(ckpt_options(d, hook, logs));
    ck.track("model", *m.net);
    ck.before_train({}, 3, 6);
    std::int64_t iter = 0;
    for (std::int64_t e = 0; e < 3; ++e) {
      for (std::int64_t b = 0; b < 2; ++b, ++iter) {
        m.step(iter);
        ck.after_train_iter(e, iter, b);
      }
      ck.after_train_epoch(e, iter);
      const double x = 0.1 * static_cast<double>(e + 1);
      ck.after_val_epoch(e + 1, iter, {{"acc", x}, {"loss", 1.0 - x}});
    }
    ck.after_train(3, iter);
  }
  const std::vector<std::string> files{"best_acc_epoch_2.pth", "best_acc_epoch_3.pth", "best_loss_epoch_2.pth",
                                       "best_loss_epoch_3.pth", "epoch_3.pth", "last_checkpoint"};
  ASSERT_EQ(store_test::files_in(d / "work"), files);
  ckpt::Checkpointer ck(ckpt_options(d, hook, logs));
  ck.track("model", *m.net);
  EXPECT_EQ(ck.resume().epoch, 3);
  EXPECT_EQ(store_test::files_in(d / "work"), files) << logs.all();
}

}  // namespace
