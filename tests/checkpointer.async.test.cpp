// ckpt::Checkpointer with background saves: the file holds the state as it
// was at the call, everything that depends on the file waits for it, and a
// failure surfaces at the next call naming the path and errno, evicting
// nothing and leaving the hook's state as before the failed save's call.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cerrno>
#include <map>
#include <regex>
#include <string>
#include <vector>
#include <chrono>
#include <thread>

#include "checkpointer.support.hpp"

namespace {

using namespace checkpointer_test;

ckpt::Options options(const TempDir& d, const char* hook, const Logs& logs, bool async) {
  ckpt::Options o{d / "work", hook, async};
  o.log = logs.sink();
  return o;
}

void until_idle(const ckpt::Checkpointer& ck) {
  while (ck.saving()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

// A tree without the wall-clock time (the only thing two runs differ in).
ts::Value timeless(ts::Value file) {
  file.as<ts::Dict>().find("meta")->as<ts::Dict>().set("time", "");
  return file;
}

TEST(CheckpointerAsync, TheFilesAreTheSynchronousOnes) {
  const char* hook = R"({"interval": 1, "max_keep_ckpts": 2, "save_best": "acc", "published_keys": ["meta", "state_dict"]})";
  TempDir sync_dir, async_dir;
  Logs logs;
  Model a, b;
  for (bool async : {false, true}) {
    const TempDir& d = async ? async_dir : sync_dir;
    Model& m = async ? b : a;
    ckpt::Checkpointer ck(options(d, hook, logs, async));
    ck.track("model", *m.net);
    ck.track("optimizer", m.optimizer);
    ck.before_train({}, 4, 8);
    train(ck, m, {}, 4, 2, [](std::int64_t e) { return e == 2 ? 0.9 : 0.1 * static_cast<double>(e); });
    EXPECT_FALSE(ck.saving());  // after_train returned: everything is durable
  }
  // A published file is named after the hash of its bytes, and its meta holds
  // the save's wall-clock second, which two runs may not share: the names are
  // compared without the hash, and each published file with its counterpart.
  auto hashless = [](std::string n) { return std::regex_replace(n, std::regex("-[0-9a-f]{8}\\.pth$"), "-H.pth"); };
  std::map<std::string, std::string> sync_names, async_names;
  for (const auto& n : store_test::files_in(sync_dir / "work")) sync_names[hashless(n)] = n;
  for (const auto& n : store_test::files_in(async_dir / "work")) async_names[hashless(n)] = n;
  std::vector<std::string> names, async_keys;
  for (const auto& [k, n] : sync_names) names.push_back(k);
  for (const auto& [k, n] : async_names) async_keys.push_back(k);
  ASSERT_EQ(names, async_keys);
  ASSERT_EQ(names.size(), 6U);  // 2 periodic, 1 best, 2 published, last_checkpoint
  for (const auto& n : names) {
    if (n == "last_checkpoint") continue;
    ts::Value x = ts::load(sync_dir / ("work/" + sync_names[n])), y = ts::load(async_dir / ("work/" + async_names[n]));
    // paths in the runtime info name each run's own directory
    std::string sx = ts::to_json(timeless(x)), sy = ts::to_json(timeless(y));
    for (auto* s : {&sx, &sy}) {
      const std::string& root = s == &sx ? sync_dir.path : async_dir.path;
      for (auto at = s->find(root); at != std::string::npos; at = s->find(root, at)) s->replace(at, root.size(), "R");
    }
    EXPECT_EQ(sx, sy) << n;
    EXPECT_TRUE(dict(timeless(x)).find("state_dict")->as<ts::Dict>().find("0.weight")->as<at::Tensor>().equal(
        dict(timeless(y)).find("state_dict")->as<ts::Dict>().find("0.weight")->as<at::Tensor>()))
        << n;
  }
}

TEST(CheckpointerAsync, TheFileHoldsTheStateAsItWasAtTheCall) {
  TempDir d;
  Logs logs;
  Model m;
  ckpt::Checkpointer ck(options(d, R"({"interval": 1})", logs, true));
  ck.track("model", *m.net);
  ck.before_train({}, 2, 2);
  m.step(0);
  ck.after_train_iter(0, 0, 0);
  const torch::Tensor saved = m.flat();
  ck.after_train_epoch(0, 1);
  {
    torch::NoGradGuard no_grad;  // changed while (perhaps) still being written
    for (auto& p : m.net->parameters()) p.add_(1.0);
  }
  ck.wait();
  Model loaded(7);
  ckpt::Checkpointer reader(options(d, R"({"interval": 1})", logs, false));
  reader.track("model", *loaded.net);
  reader.resume();
  EXPECT_TRUE(loaded.flat().equal(saved));
}

TEST(CheckpointerAsync, E28_AFailedBackgroundSaveSurfacesAtTheNextCallAndEvictsNothing) {
  TempDir d;
  Logs logs;
  Model m;
  ckpt::Checkpointer ck(options(d, R"({"interval": 1, "max_keep_ckpts": 1})", logs, true));
  ck.track("model", *m.net);
  ck.before_train({}, 3, 3);
  m.step(0);
  ck.after_train_iter(0, 0, 0);
  ck.after_train_epoch(0, 1);
  ck.wait();
  const std::string info_before = ck.runtime_info_json();
  // epoch_2.pth cannot be written: a directory stands in its place
  ASSERT_EQ(::mkdir((d / "work/epoch_2.pth").c_str(), 0755), 0);
  m.step(1);
  ck.after_train_iter(1, 1, 0);
  ck.after_train_epoch(1, 2);  // returns: the write runs in the background
  until_idle(ck);
  try {
    ck.after_val_epoch(2, 2, {{"acc", 0.5}});
    FAIL() << "the failure did not surface";
  } catch (const ckpt::Error& e) {
    EXPECT_EQ(e.path, d / "work/epoch_2.pth") << e.what();
    EXPECT_EQ(e.err, EISDIR) << e.what();
    EXPECT_EQ(e.type, "IsADirectoryError") << e.what();
  }
  // nothing evicted, last_checkpoint and the runtime info as before
  EXPECT_TRUE(store_test::exists(d / "work/epoch_1.pth"));
  EXPECT_EQ(store_test::read_file(d / "work/last_checkpoint"), d / "work/epoch_1.pth");
  EXPECT_EQ(ck.runtime_info_json(), info_before);
  // the fault gone, the same call succeeds
  ASSERT_EQ(::rmdir((d / "work/epoch_2.pth").c_str()), 0);
  ck.after_train_epoch(1, 2);
  ck.wait();
  EXPECT_EQ(store_test::files_in(d / "work"), (std::vector<std::string>{"epoch_2.pth", "last_checkpoint"}));
  EXPECT_EQ(store_test::read_file(d / "work/last_checkpoint"), d / "work/epoch_2.pth");
}

TEST(CheckpointerAsync, E28_ASynchronousFailureIsThrownByItsOwnCall) {
  TempDir d;
  Logs logs;
  Model m;
  ckpt::Checkpointer ck(options(d, R"({"interval": 1, "max_keep_ckpts": 1})", logs, false));
  ck.track("model", *m.net);
  ck.before_train({}, 3, 3);
  ck.after_train_epoch(0, 1);
  ASSERT_EQ(::mkdir((d / "work/epoch_2.pth").c_str(), 0755), 0);
  EXPECT_THROW(ck.after_train_epoch(1, 2), ckpt::Error);
  EXPECT_TRUE(store_test::exists(d / "work/epoch_1.pth"));
  ASSERT_EQ(::rmdir((d / "work/epoch_2.pth").c_str()), 0);
  ck.after_train_epoch(1, 2);
  EXPECT_EQ(store_test::files_in(d / "work"), (std::vector<std::string>{"epoch_2.pth", "last_checkpoint"}));
}

TEST(CheckpointerAsync, ASaveAskedForWhileOneIsInFlightWaitsForIt) {
  TempDir d;
  Logs logs;
  Model m;
  ckpt::Checkpointer ck(options(d, R"({"interval": 1, "by_epoch": false, "max_keep_ckpts": 2})", logs, true));
  ck.track("model", *m.net);
  ck.before_train({}, 1, 50);
  for (std::int64_t i = 0; i < 50; ++i) {
    m.step(i);
    ck.after_train_iter(0, i, i);  // every iteration saves: each waits for the previous
  }
  ck.after_train(1, 50);
  EXPECT_EQ(store_test::files_in(d / "work"),
            (std::vector<std::string>{"iter_49.pth", "iter_50.pth", "last_checkpoint"}));
}

}  // namespace
