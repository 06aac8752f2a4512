// ckpt::Checkpointer against hostile names and a full disk (issue 11,
// deliverables 3 and 6): a NUL in the template is the reference's
// ValueError at the first save (B61), never a file named up to the NUL; a
// template leaving out_dir is refused (ContainmentError); a 4 KiB name is
// the OSError for ENAMETOOLONG naming the path; each with the hook's state
// as before the call and canaries outside untouched. On a small tmpfs a
// save that cannot fit beside the kept checkpoint is refused before
// anything is written or evicted, and evict_first_if_short evicts first.
#include <gtest/gtest.h>

#include <cerrno>
#include <string>

#include "checkpointer.support.hpp"
#include "scratch.support.hpp"

namespace {

using namespace checkpointer_test;

struct Hostile {
  TempDir d;
  scratch::Canaries canaries{d / "outside"};
};

/// The first epoch's save with `hook`; the error it raises (if any).
std::optional<ckpt::Error> first_save(const Hostile& h, const std::string& hook, bool async,
                                      std::string* info_before = nullptr, std::string* info_after = nullptr) {
  Model m;
  Logs logs;
  ckpt::Options o{h.d / "work", hook, async};
  o.log = logs.sink();
  ckpt::Checkpointer ck(o);
  ck.track("model", *m.net);
  ck.before_train({}, 3, 6);
  if (info_before) *info_before = ck.runtime_info_json();
  try {
    ck.after_train_epoch(0, 2);
    ck.wait();
  } catch (const ckpt::Error& e) {
    if (info_after) *info_after = ck.runtime_info_json();
    return e;
  }
  return std::nullopt;
}

TEST(CheckpointerHostile, B61_ANulInTheTemplateIsValueErrorAtTheFirstSave) {
  for (bool async : {false, true}) {
    Hostile h;
    std::string before, after;
    auto e = first_save(h, R"({"interval": 1, "max_keep_ckpts": 1, "filename_tmpl": "x\u0000y_{}.pth"})", async,
                        &before, &after);
    ASSERT_TRUE(e) << "async " << async;
    EXPECT_EQ(e->type, "ValueError");
    EXPECT_NE(std::string(e->what()).find("embedded null byte"), std::string::npos) << e->what();
    EXPECT_EQ(after, before);                                  // the hook's state as before the call
    EXPECT_EQ(store_test::files_in(h.d / "work"), std::vector<std::string>{});  // no `x`, no last_checkpoint
    EXPECT_EQ(h.canaries.damage(), "");
  }
}

TEST(CheckpointerHostile, Containment_ATemplateLeavingOutDirIsRefused) {
  for (const char* tmpl : {"../outside/epoch_{}.pth", "../outside/canary{}", "../work/../outside/epoch_{}.pth"}) {
    Hostile h;
    auto e = first_save(h, std::string(R"({"interval": 1, "filename_tmpl": ")") + tmpl + "\"}", true);
    ASSERT_TRUE(e) << tmpl;
    EXPECT_EQ(e->type, "ContainmentError") << e->what();
    EXPECT_EQ(h.canaries.damage(), "") << tmpl;
  }
}

TEST(CheckpointerHostile, Names_A4KiBNameIsENAMETOOLONGNamingThePath) {
  Hostile h;
  auto e = first_save(h, R"({"interval": 1, "filename_tmpl": ")" + std::string(4096, 'a') + "_{}.pth\"}", true);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->err, ENAMETOOLONG);
  EXPECT_NE(e->path.find(std::string(4096, 'a')), std::string::npos);
  EXPECT_EQ(h.canaries.damage(), "");
}

TEST(CheckpointerHostile, Json_AHookThatIsNotUtf8IsRefusedAtConstruction) {
  Hostile h;
  try {
    ckpt::Checkpointer ck({h.d / "work", "{\"filename_tmpl\": \"\xff_{}.pth\"}"});
    FAIL() << "constructed";
  } catch (const ckpt::Error& e) {
    EXPECT_NE(std::string(e.what()).find("UnicodeDecodeError"), std::string::npos) << e.what();
  }
}

// --- free space (D, E28) ----------------------------------------------------------

struct Small {
  scratch::Dir d{"ckpt-space"};
  bool mounted = d.mount_tmpfs("disk", "192k");
  std::string work = d / "disk/work";
};

// a 96 KiB tensor: each checkpoint is about that
ckpt::Checkpointer& with_weights(ckpt::Checkpointer& ck, torch::Tensor& w) {
  ck.track("weights", w);
  return ck;
}

TEST(CheckpointerSpace, D_ASaveThatCannotFitBesideTheKeptOneIsRefusedAndNothingIsEvicted) {
  Small s;
  if (!s.mounted) GTEST_SKIP() << "cannot mount a tmpfs here (needs root)";
  torch::Tensor w = torch::ones({24 * 1024});
  ckpt::Checkpointer ck({s.work, R"({"interval": 1, "max_keep_ckpts": 1})", true});
  with_weights(ck, w).before_train({}, 4, 4);
  ck.after_train_epoch(0, 1);
  ck.wait();
  const std::string info = ck.runtime_info_json();
  try {
    ck.after_train_epoch(1, 2);  // epoch_2 needs room beside epoch_1; the disk holds one and a half
    ck.wait();
    FAIL() << "saved: " << ck.runtime_info_json();
  } catch (const ckpt::Error& e) {
    EXPECT_EQ(e.err, ENOSPC);
    EXPECT_NE(std::string(e.what()).find("evict_first_if_short"), std::string::npos) << e.what();
  }
  EXPECT_EQ(ck.runtime_info_json(), info);
  EXPECT_TRUE(store_test::exists(s.work + "/epoch_1.pth"));
  EXPECT_FALSE(store_test::exists(s.work + "/epoch_2.pth"));
}

TEST(CheckpointerSpace, D_EvictFirstIfShortMakesRoomAsTheReferenceDoes) {
  Small s;
  if (!s.mounted) GTEST_SKIP() << "cannot mount a tmpfs here (needs root)";
  torch::Tensor w = torch::ones({24 * 1024});
  Logs logs;
  ckpt::Options o{s.work, R"({"interval": 1, "max_keep_ckpts": 1})", true};
  o.evict_first_if_short = true;
  o.log = logs.sink();
  ckpt::Checkpointer ck(o);
  with_weights(ck, w).before_train({}, 4, 4);
  for (std::int64_t e = 0; e < 4; ++e) ck.after_train_epoch(e, e + 1);
  ck.after_train(4, 4);
  EXPECT_EQ(store_test::files_in(s.work), (std::vector<std::string>{"epoch_4.pth", "last_checkpoint"}));
  EXPECT_TRUE(logs.contains("evicted before saving")) << logs.all();
}

}  // namespace
