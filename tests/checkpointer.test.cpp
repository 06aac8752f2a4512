// ckpt::Checkpointer: the file it writes (E29, E36, C55, C56), what it
// restores and from where (resume, fallback), configuration errors.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "checkpointer.support.hpp"
#include "independent.hpp"

namespace {

using namespace checkpointer_test;

ckpt::Options options(const TempDir& d, ckpt::HookArgs hook, const Logs& logs, bool async = false) {
  ckpt::Options o{d / "work", std::move(hook), async};
  o.log = logs.sink();
  o.experiment_name = "test";
  return o;
}

const char* two_kept_best_acc = R"({"interval": 1, "max_keep_ckpts": 2, "save_best": "acc"})";

TEST(Checkpointer, E29_TheFileHasMmenginesLayout) {
  TempDir d;
  Logs logs;
  Model m;
  ckpt::Checkpointer ck(options(d, two_kept_best_acc, logs));
  ck.track("model", *m.net);
  ck.track("optimizer", m.optimizer);
  ck.before_train({}, 2, 6);
  train(ck, m, {}, 2, 3, rising);
  ts::Value file = ts::load(d / "work/epoch_2.pth");
  EXPECT_EQ(keys(file), (std::vector<std::string>{"meta", "state_dict", "message_hub", "optimizer"}));
  const ts::Dict& meta = dict(*dict(file).find("meta"));
  EXPECT_EQ(meta.find("epoch")->as<std::int64_t>(), 2);
  EXPECT_EQ(meta.find("iter")->as<std::int64_t>(), 6);
  EXPECT_EQ(str(meta.find("experiment_name")), "test");
  EXPECT_EQ(str(meta.find("time")).size(), 15u);  // %Y%m%d_%H%M%S
  // Module.state_dict()'s order: per module, parameters then buffers
  EXPECT_EQ(keys(*dict(file).find("state_dict")),
            (std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                                      "1.num_batches_tracked", "3.weight", "3.bias"}));
  const ts::Dict& hub = dict(*dict(file).find("message_hub"));
  const ts::Dict& info = dict(*hub.find("runtime_info"));
  EXPECT_EQ(str(info.find("last_ckpt")), d / "work/epoch_2.pth");  // E25 before E26
  EXPECT_TRUE(hub.find("resumed_keys") && hub.find("log_scalars"));
  // the values are the model's own
  EXPECT_TRUE(dict(*dict(file).find("state_dict")).find("0.weight")->as<at::Tensor>().equal(m.net->parameters()[0]));
  EXPECT_EQ(store_test::read_file(d / "work/last_checkpoint"), d / "work/epoch_2.pth");  // E27
}

TEST(Checkpointer, E36_BestCheckpointsHaveNoOptimizer) {
  TempDir d;
  Logs logs;
  Model m;
  ckpt::Checkpointer ck(options(d, two_kept_best_acc, logs));
  ck.track("model", *m.net);
  ck.track("optimizer", m.optimizer);
  ck.before_train({}, 2, 4);
  train(ck, m, {}, 2, 2, rising);
  EXPECT_EQ(keys(ts::load(d / "work/best_acc_epoch_2.pth")),
            (std::vector<std::string>{"meta", "state_dict", "message_hub"}));
  EXPECT_EQ(store_test::files_in(d / "work"),
            (std::vector<std::string>{"best_acc_epoch_2.pth", "epoch_1.pth", "epoch_2.pth", "last_checkpoint"}));
}

TEST(Checkpointer, E36_ResumingFromABestCheckpointLeavesTheOptimizerAsItIs) {
  // the best file has no optimizer state, so the trainer's own stays
  TempDir d;
  Logs logs;
  Model first(1);
  {
    ckpt::Checkpointer ck(options(d, two_kept_best_acc, logs));
    ck.track("model", *first.net);
    ck.track("optimizer", first.optimizer);
    ck.before_train({}, 2, 4);
    train(ck, first, {}, 2, 2, rising);
  }
  Model second(2);
  second.step(7);  // momentum buffers of its own
  auto serialised = [](const torch::optim::Optimizer& o) {
    std::ostringstream out;
    torch::save(o, out);
    return out.str();
  };
  const std::string before = serialised(second.optimizer);
  ckpt::Checkpointer ck(options(d, two_kept_best_acc, logs));
  ck.track("model", *second.net);
  ck.track("optimizer", second.optimizer);
  EXPECT_EQ(ck.resume(d / "work/best_acc_epoch_2.pth").path, d / "work/best_acc_epoch_2.pth");
  EXPECT_TRUE(second.flat().equal(first.flat()));  // the model came back
  EXPECT_EQ(serialised(second.optimizer), before);
}

TEST(Checkpointer, E1_TypedArgumentsAreTheJsonOnes) {
  TempDir a, b;
  Logs logs;
  Model ma, mb;
  ckpt::MmengineHook typed;
  typed.interval = 1;
  typed.max_keep_ckpts = 2;
  typed.save_best = {"acc"};
  for (auto* run : {&a, &b}) {
    Model& m = run == &a ? ma : mb;
    ckpt::Checkpointer ck(options(*run, run == &a ? ckpt::HookArgs(two_kept_best_acc) : ckpt::HookArgs(typed), logs));
    ck.track("model", *m.net);
    ck.before_train({}, 3, 6);
    train(ck, m, {}, 3, 2, [](std::int64_t e) { return e == 2 ? 0.9 : 0.1; });
  }
  EXPECT_EQ(store_test::files_in(a / "work"), store_test::files_in(b / "work"));
  EXPECT_EQ(store_test::files_in(a / "work"),
            (std::vector<std::string>{"best_acc_epoch_2.pth", "epoch_2.pth", "epoch_3.pth", "last_checkpoint"}));
}

TEST(Checkpointer, Resume_RestoresIntoTheTrackedTensorsAndTheHooksRuntimeInfo) {
  TempDir d;
  Logs logs;
  Model first(1);
  std::string info;
  {
    ckpt::Checkpointer ck(options(d, two_kept_best_acc, logs));
    ck.track("model", *first.net);
    ck.track("optimizer", first.optimizer);
    ck.before_train({}, 4, 8);
    train(ck, first, {}, 4, 2, rising, 3);
    info = ck.runtime_info_json();
  }
  Model second(2);
  ASSERT_FALSE(second.flat().equal(first.flat()));
  std::vector<const void*> before;
  for (const auto& t : second.net->parameters()) before.push_back(t.data_ptr());
  ckpt::Checkpointer ck(options(d, two_kept_best_acc, logs));
  ck.track("model", *second.net);
  ck.track("optimizer", second.optimizer);
  auto at = ck.resume();
  EXPECT_EQ(at.path, d / "work/epoch_3.pth");
  EXPECT_EQ(at.epoch, 3);
  EXPECT_EQ(at.iter, 6);
  EXPECT_TRUE(second.flat().equal(first.flat()));
  std::vector<const void*> after;
  for (const auto& t : second.net->parameters()) after.push_back(t.data_ptr());
  EXPECT_EQ(after, before);  // in place: the same storage
  EXPECT_EQ(ck.runtime_info_json(), info);  // keep_ckpt_ids, last_ckpt, best_score, best_ckpt
  // momentum buffers came back too: one more step is the same step
  first.step(99);
  second.step(99);
  EXPECT_TRUE(second.flat().equal(first.flat()));
}

TEST(Checkpointer, Resume_FallsBackToTheNewestVerifiablePeriodicCheckpoint) {
  TempDir d;
  Logs logs;
  Model m;
  {
    ckpt::Checkpointer ck(options(d, R"({"interval": 1, "max_keep_ckpts": 3})", logs));
    ck.track("model", *m.net);
    ck.before_train({}, 3, 6);
    train(ck, m, {}, 3, 2, rising);
  }
  flip_tensor_byte(d / "work/epoch_3.pth");
  Model fresh(5);
  ckpt::Checkpointer ck(options(d, R"({"interval": 1, "max_keep_ckpts": 3})", logs));
  ck.track("model", *fresh.net);
  auto point = ck.resume();
  EXPECT_EQ(point.path, d / "work/epoch_2.pth") << logs.all();
  EXPECT_EQ(point.epoch, 2);
  EXPECT_TRUE(logs.contains("cannot resume from " + d / "work/epoch_3.pth")) << logs.all();
  EXPECT_TRUE(logs.contains("resumed from " + d / "work/epoch_2.pth")) << logs.all();
}

TEST(Checkpointer, Resume_AMissingFileNamedByLastCheckpointFallsBack) {
  TempDir d;
  Logs logs;
  Model m;
  {
    ckpt::Checkpointer ck(options(d, R"({"interval": 1})", logs));
    ck.track("model", *m.net);
    ck.before_train({}, 3, 6);
    train(ck, m, {}, 3, 2, rising);
  }
  ASSERT_EQ(std::remove((d / "work/epoch_3.pth").c_str()), 0);
  ckpt::Checkpointer ck(options(d, R"({"interval": 1})", logs));
  ck.track("model", *m.net);
  EXPECT_EQ(ck.resume().path, d / "work/epoch_2.pth");  // the newest left, not the oldest
  EXPECT_TRUE(logs.contains("epoch_3.pth")) << logs.all();
}

TEST(Checkpointer, Resume_NothingToResumeFromStartsAtZero) {
  TempDir d;
  Logs logs;
  Model m;
  ckpt::Checkpointer ck(options(d, R"({"interval": 1})", logs));
  ck.track("model", *m.net);
  auto at = ck.resume();
  EXPECT_FALSE(at.resumed());
  EXPECT_EQ(at.epoch, 0);
  EXPECT_EQ(at.iter, 0);
}

TEST(Checkpointer, Resume_WhenNothingVerifiesItThrowsRatherThanStartingOver) {
  TempDir d;
  Logs logs;
  Model m;
  {
    ckpt::Checkpointer ck(options(d, R"({"interval": 1})", logs));
    ck.track("model", *m.net);
    ck.before_train({}, 1, 2);
    train(ck, m, {}, 1, 2, rising);
  }
  std::string bytes = store_test::read_file(d / "work/epoch_1.pth");
  store_test::write_file(d / "work/epoch_1.pth", bytes.substr(0, bytes.size() / 2));  // torn
  ckpt::Checkpointer ck(options(d, R"({"interval": 1})", logs));
  ck.track("model", *m.net);
  try {
    ck.resume();
    FAIL() << "resumed from a torn file";
  } catch (const ckpt::Error& e) {
    EXPECT_NE(std::string(e.what()).find("epoch_1.pth"), std::string::npos) << e.what();
  }
}

TEST(Checkpointer, E23_ByIterationCheckpointsResumeAtTheirIteration) {
  TempDir d;
  Logs logs;
  Model m;
  const char* hook = R"({"interval": 3, "by_epoch": false})";
  {
    ckpt::Checkpointer ck(options(d, hook, logs));
    ck.track("model", *m.net);
    ck.track("optimizer", m.optimizer);
    ck.before_train({}, 3, 12);
    std::int64_t iter = 0;
    for (std::int64_t e = 0; e < 2; ++e)  // killed after 8 iterations: the last save is iter_6
      for (std::int64_t b = 0; b < 4; ++b, ++iter) {
        m.step(iter);
        ck.after_train_iter(e, iter, b);
      }
  }
  Model fresh(9);
  ckpt::Checkpointer ck(options(d, hook, logs));
  ck.track("model", *fresh.net);
  ck.track("optimizer", fresh.optimizer);
  auto at = ck.resume();
  EXPECT_EQ(at.path, d / "work/iter_6.pth");
  EXPECT_EQ(at.iter, 6);   // meta {epoch, iter: iter+1} (E23)
  EXPECT_EQ(at.epoch, 1);  // mid-epoch 1: the loop resumes at batch 6 - 4 = 2
}

TEST(Checkpointer, E6_ConfigurationErrorsNameTypeParameterValueAndClause) {
  TempDir d;
  Logs logs;
  try {
    ckpt::Checkpointer ck(options(d, R"({"interval": 1, "save_begin": -1})", logs));
    FAIL() << "constructed";
  } catch (const ckpt::Error& e) {
    EXPECT_EQ(e.type, "ValueError");
    EXPECT_EQ(e.parameter, "save_begin");
    EXPECT_EQ(e.value, "-1");
    EXPECT_EQ(e.clause, "E6");
  }
  try {
    ckpt::Checkpointer ck(options(d, R"({"interval": 1,})", logs));
    FAIL() << "constructed from bad JSON";
  } catch (const ckpt::Error& e) {
    EXPECT_NE(std::string(e.what()).find("JSON"), std::string::npos) << e.what();
  }
}

TEST(Checkpointer, E43_AnUnknownKeywordRaisesAtTheFirstSaveAndLeavesTheStateAsBefore) {
  TempDir d;
  Logs logs;
  Model m;
  ckpt::Checkpointer ck(options(d, R"({"interval": 1, "max_keep_ckpts": 1, "create_symlink": false})", logs));
  ck.track("model", *m.net);
  ck.before_train({}, 2, 2);
  const std::string before = ck.runtime_info_json();
  m.step(0);
  ck.after_train_iter(0, 0, 0);
  try {
    ck.after_train_epoch(0, 1);
    FAIL() << "saved";
  } catch (const ckpt::Error& e) {
    EXPECT_EQ(e.type, "TypeError") << e.what();
  }
  EXPECT_EQ(ck.runtime_info_json(), before);
  EXPECT_EQ(store_test::files_in(d / "work"), std::vector<std::string>{});
}

TEST(Checkpointer, C56_TheMmcvProfileWritesMmcvsFileAndLinksLatest) {
  TempDir d;
  Logs logs;
  Model m;
  ckpt::MmcvHook hook;
  hook.interval = 1;
  hook.max_keep_ckpts = 1;
  ckpt::Checkpointer ck(options(d, hook, logs));
  ck.track("model", *m.net);
  ck.track("optimizer", m.optimizer);
  ck.before_train({}, 2, 4);
  train(ck, m, {}, 2, 2, rising);
  EXPECT_EQ(store_test::files_in(d / "work"), (std::vector<std::string>{"epoch_2.pth", "latest.pth"}));  // C52
  char target[64] = {};
  ASSERT_GT(::readlink((d / "work/latest.pth").c_str(), target, sizeof target - 1), 0);
  EXPECT_STREQ(target, "epoch_2.pth");
  ts::Value file = ts::load(d / "work/epoch_2.pth");
  EXPECT_EQ(keys(file), (std::vector<std::string>{"meta", "state_dict", "optimizer"}));
  const ts::Dict& meta = dict(*dict(file).find("meta"));
  EXPECT_EQ(str(meta.find("mmcv_version")), "1.7.2");
  EXPECT_NE(str(meta.find("time")), "<time>");  // the runner's clock, not the policy's placeholder
  EXPECT_EQ(meta.find("epoch")->as<std::int64_t>(), 2);
  // C58: the file holds the previous save's last_ckpt; resume reads hook_msgs back
  Model fresh(3);
  ckpt::Checkpointer again(options(d, hook, logs));
  again.track("model", *fresh.net);
  again.track("optimizer", fresh.optimizer);
  EXPECT_EQ(again.resume().epoch, 2);
  EXPECT_TRUE(fresh.flat().equal(m.flat()));
}

TEST(Checkpointer, E42_PublishedFilesAreNamedAfterTheHashOfTheirBytes) {
  TempDir d;
  Logs logs;
  Model m;
  ckpt::Checkpointer ck(options(d, R"({"interval": 1, "published_keys": ["meta", "state_dict"]})", logs, true));
  ck.track("model", *m.net);
  ck.track("optimizer", m.optimizer);
  ck.before_train({}, 1, 2);
  train(ck, m, {}, 1, 2, rising);
  std::string published;
  for (const auto& f : store_test::files_in(d / "work"))
    if (f.rfind("epoch_1-", 0) == 0) published = f;
  ASSERT_EQ(published.size(), std::string("epoch_1-12345678.pth").size());
  const std::string bytes = store_test::read_file(d / "work/" + published);
  // recomputed by the test's own SHA-256, sharing no code with the store
  EXPECT_EQ(published.substr(8, 8), independent::sha256_hex(bytes).substr(0, 8));
  EXPECT_EQ(keys(ts::load(d / "work/" + published)), (std::vector<std::string>{"meta", "state_dict"}));
}

TEST(Checkpointer, Track_RefusesANameTwiceAndTheFilesOwnKeys) {
  TempDir d;
  Logs logs;
  Model m;
  ckpt::Checkpointer ck(options(d, R"({"interval": 1})", logs));
  ck.track("model", *m.net);
  EXPECT_THROW(ck.track("model", *m.net), ckpt::Error);
  EXPECT_THROW(ck.track("state_dict", *m.net), ckpt::Error);  // "model" is the file's state_dict
  EXPECT_THROW(ck.track("meta", *m.net), ckpt::Error);
  torch::optim::RMSprop rms(m.net->parameters(), torch::optim::RMSpropOptions(0.1));
  EXPECT_THROW(ck.track("optimizer", rms), ckpt::Error);
}

}  // namespace
