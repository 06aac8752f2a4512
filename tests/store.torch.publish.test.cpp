// E42, publishing: only the published keys survive, the file is named
// `splitext(source)[0]-<sha8>.pth` after the SHA-256 of its own bytes, and no
// temporary file is left behind, on success or failure.
#include "ckpt/store/torch/handle.hpp"
#include "ckpt/store/torch/publish.hpp"
#include "independent.hpp"
#include "store.torch.support.hpp"

namespace {

using namespace store_test;

// Recomputed by the test's own SHA-256, not the store's (independent.hpp).
std::string sha256_of_file(const std::string& path) { return independent::sha256_hex(read_file(path)); }

TEST(StoreTorchPublish, E42_KeepsOnlyPublishedKeysNamedAfterTheFileHash) {
  TempDir dir;
  const Value ckpt = runner_checkpoint();
  ts::save(ckpt, dir / "epoch_3.pth");
  const std::string source_bytes = read_file(dir / "epoch_3.pth");
  const ts::Published p = ts::publish(ckpt, {"meta", "state_dict", "not_there"}, dir / "epoch_3.pth");
  const std::string sha = sha256_of_file(p.path);
  EXPECT_EQ(p.path, dir / ("epoch_3-" + sha.substr(0, 8) + ".pth"));
  EXPECT_EQ(p.sha256, sha);
  EXPECT_EQ(read_file(dir / "epoch_3.pth"), source_bytes);
  EXPECT_EQ(files_in(dir.path), (std::vector<std::string>{"epoch_3-" + p.sha256.substr(0, 8) + ".pth", "epoch_3.pth"}));
  const Dict& d = ckpt.as<Dict>();
  EXPECT_EQ(ts::load(p.path), Value(Dict{{{"meta", *d.find("meta")}, {"state_dict", *d.find("state_dict")}}}));
}

TEST(StoreTorchPublish, E42_APublishedFileHasTheModeTorchSaveGivesIt) {
  // torch.save opens with the default 0666 masked by the umask: 0644 under 022
  TempDir dir;
  const mode_t old_mask = ::umask(022);
  const ts::Published p = ts::publish(runner_checkpoint(), {"meta"}, dir / "epoch_3.pth");
  ::umask(old_mask);
  struct stat st {};
  ASSERT_EQ(::stat(p.path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
}

TEST(StoreTorchPublish, E42_PublishingIsDeterministic) {
  TempDir dir;
  const ts::Published a = ts::publish(runner_checkpoint(), {"state_dict"}, dir / "best_acc_epoch_5.pth");
  const ts::Published b = ts::publish(runner_checkpoint(), {"state_dict"}, dir / "best_acc_epoch_5.pth");
  EXPECT_EQ(a.path, b.path);
  EXPECT_EQ(files_in(dir.path).size(), 1u);
}

TEST(StoreTorchPublish, E42_NameDropsTheExtensionAsSplitext) {
  TempDir dir;
  ASSERT_EQ(::mkdir((dir / "a.b").c_str(), 0755), 0);
  const auto name = [&](const std::string& source) {
    const ts::Published p = ts::publish(runner_checkpoint(), {"meta"}, dir / source);
    return p.path.substr(dir.path.size() + 1, p.path.size() - dir.path.size() - 1 - 13) +
           p.path.substr(p.path.size() - 4);
  };
  EXPECT_EQ(name("iter_100.pth"), "iter_100.pth");
  EXPECT_EQ(name("a.b/ckpt"), "a.b/ckpt.pth");
  EXPECT_EQ(name(".hidden"), ".hidden.pth");
  EXPECT_EQ(name("x.tar.gz"), "x.tar.pth");
}

TEST(StoreTorchPublish, E42_NarrowApiTakesTheNamingRule) {
  TempDir dir;
  const ts::Handle h = ts::to_handle(runner_checkpoint());
  const ts::PublishedFile p = ts::publish_handle(
      h, {"meta"}, [&](std::string_view sha) { return dir / ("pub-" + std::string(sha.substr(0, 8)) + ".pth"); });
  ASSERT_EQ(p.error, "");
  EXPECT_EQ(sha256_of_file(p.path), p.sha256);
  EXPECT_EQ(ts::load_summary(p.path).summary.top_level_keys, std::vector<std::string>{"meta"});
}

TEST(StoreTorchPublish, FailuresLeaveNothingBehind) {
  TempDir dir;
  EXPECT_THROW(ts::publish(Value(List{}), {"meta"}, dir / "x.pth"), ts::Error);
  Value bad = runner_checkpoint();
  bad.as<Dict>().set("meta", ts::Unsupported{"numpy.ndarray", nullptr});
  try {
    ts::publish(bad, {"meta"}, dir / "x.pth");
    ADD_FAILURE() << "published an unsavable value";
  } catch (const ts::Error& e) {
    EXPECT_NE(std::string(e.what()).find("numpy.ndarray"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(files_in(dir.path).empty());
  const ts::PublishedFile p =
      ts::publish_handle(ts::to_handle(runner_checkpoint()), {"meta"}, [&](std::string_view) { return dir / "no/such/dir/x.pth"; });
  // the folder and the errno (ENOENT) are named
  EXPECT_NE(p.error.find(dir / "no/such/dir"), std::string::npos) << p.error;
  EXPECT_NE(p.error.find("[Errno 2]"), std::string::npos) << p.error;
}

TEST(StoreTorchPublish, E42_PublishedFileLoadsInPython) {
  SKIP_WITHOUT_PYTHON();
  TempDir dir;
  const ts::Published p = ts::publish(runner_checkpoint(), {"meta", "state_dict"}, dir / "epoch_3.pth");
  const Ran r = python("describe '" + p.path + "'");
  EXPECT_EQ(r.output, describe(ts::published_subset(runner_checkpoint(), {"meta", "state_dict"})));
  EXPECT_EQ(python("zipcheck '" + p.path + "'").status, 0);
}

}  // namespace
