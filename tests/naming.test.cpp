// ckpt.policy:naming — steps, file names and directories as the reference's
// string operations produce them (E12, E13, E23, E33, E35, E42, B61, C47).
// Expected strings were computed by CPython 3.11 with the reference's own
// expressions (posixpath, str.format, str.replace); each is named beside it.
#include <gtest/gtest.h>
#include <string>
import ckpt.policy;

namespace {

namespace py = ckpt::py;
using py::Value;

std::string name(const Value& tmpl, const Value& step) {
  auto r = ckpt::checkpoint_name(tmpl, step);
  return r ? *r : r.error().type + ": " + r.error().message;
}

/// E12: `out_dir if out_dir == work_dir else join(out_dir, basename(work_dir.rstrip('/')))`.
std::string derived(const Value& out_dir, std::string_view work_dir) {
  auto r = ckpt::derive_out_dir(out_dir, work_dir, "E12");
  return r ? *r : r.error().type + " [" + r.error().clause + "]";
}

}  // namespace

TEST(Naming, E23_PeriodicStepByEpoch) {
  // step = epoch + 1; meta = dict(epoch=step, iter=runner.iter)
  EXPECT_EQ(ckpt::periodic_step(true, 4, 50), (ckpt::StepMeta{5, {{"epoch", 5}, {"iter", 50}}}));
}

TEST(Naming, E23_PeriodicStepByIter) {
  // step = iter + 1; meta = dict(epoch=runner.epoch, iter=step)
  EXPECT_EQ(ckpt::periodic_step(false, 1, 49), (ckpt::StepMeta{50, {{"epoch", 1}, {"iter", 50}}}));
}

TEST(Naming, E33_BestStepHasNoPlusOne) {
  // at validation the counters already count completed steps: best_acc_epoch_5 pairs with epoch_5
  EXPECT_EQ(ckpt::best_step(true, 5, 50), (ckpt::StepMeta{5, {{"epoch", 5}, {"iter", 50}}}));
  EXPECT_EQ(ckpt::best_step(false, 5, 50), (ckpt::StepMeta{50, {{"epoch", 5}, {"iter", 50}}}));
  EXPECT_EQ(name("epoch_{}.pth", ckpt::best_step(true, 5, 50).step),
            name("epoch_{}.pth", ckpt::periodic_step(true, 4, 50).step));
}

TEST(Naming, E23_FileNameIsTemplateFormat) {
  EXPECT_EQ(name("epoch_{}.pth", 5), "epoch_5.pth");        // 'epoch_{}.pth'.format(5)
  EXPECT_EQ(name("iter_{}.pth", 1000), "iter_1000.pth");
  EXPECT_EQ(name("{:03d}.pth", 5), "005.pth");              // '{:03d}.pth'.format(5)
  EXPECT_EQ(name("ck_{}_{{x}}", 3), "ck_3_{x}");            // 'ck_{}_{{x}}'.format(3)
  EXPECT_EQ(name("epoch_{}.pth", "3"), "epoch_3.pth");      // a resumed str step formats too
}

TEST(Naming, B61_TemplateErrors) {
  EXPECT_EQ(name("ckpt.pth", 5), "ckpt.pth");               // no {}: every save has the same name
  EXPECT_EQ(name("{}_{}.pth", 5), "IndexError: Replacement index 1 out of range for positional args tuple");
  EXPECT_EQ(name("{epoch}.pth", 5), "KeyError: 'epoch'");
  EXPECT_EQ(name(5, 5), "AttributeError: 'int' object has no attribute 'format'");
  EXPECT_EQ(name("{:03d}", "3"), "ValueError: Unknown format code 'd' for object of type 'str'");
}

TEST(Naming, E35_BestNameReplacesEverySlash) {
  // f'best_{key}_{filename}'.replace('/', '_')
  EXPECT_EQ(ckpt::best_name("acc", "epoch_5.pth"), "best_acc_epoch_5.pth");
  EXPECT_EQ(ckpt::best_name("coco/bbox_mAP", "epoch_5.pth"), "best_coco_bbox_mAP_epoch_5.pth");
  EXPECT_EQ(ckpt::best_name("acc", "sub/epoch_5.pth"), "best_acc_sub_epoch_5.pth");  // the template's too
  EXPECT_EQ(ckpt::best_name("a//b", "x"), "best_a__b_x");
}

TEST(Naming, E12_OutDirEqualToWorkDirIsKept) {
  EXPECT_EQ(derived("/w/exp", "/w/exp"), "/w/exp");
}

TEST(Naming, E12_OtherOutDirGetsTheWorkDirBasename) {
  EXPECT_EQ(derived("/out", "/w/exp"), "/out/exp");        // join('/out', basename('/w/exp'))
  EXPECT_EQ(derived("/out", "/w/exp/"), "/out/exp");       // work_dir.rstrip('/') first
  EXPECT_EQ(derived("/out/", "/w/exp//"), "/out/exp");
  EXPECT_EQ(derived("rel", "w/exp"), "rel/exp");
  EXPECT_EQ(derived("/out", "/"), "/out/");                // basename('') == ''; join('/out', '')
}

TEST(Naming, E13_SpelledDifferentlyStillAppends) {
  EXPECT_EQ(derived("/w/exp/", "/w/exp"), "/w/exp/exp");   // trailing slash on out_dir
  EXPECT_EQ(derived("/w/exp", "/w/exp/"), "/w/exp/exp");   // trailing slash on work_dir
}

TEST(Naming, E13_EmptyOutDirBecomesRelative) {
  EXPECT_EQ(derived("", "/w/exp"), "exp");                 // join('', 'exp')
}

TEST(Naming, E13_TwiceAppendsTwice) {
  auto once = ckpt::derive_out_dir("/out", "/w/exp", "E13");
  ASSERT_TRUE(once.ok());
  EXPECT_EQ(derived(*once, "/w/exp"), "/out/exp/exp");
}

TEST(Naming, E12_NonStrOutDirIsAnAssertionError) {
  EXPECT_EQ(derived(5, "/w/exp"), "AssertionError [E12]");
  EXPECT_EQ(derived(false, "/w/exp"), "AssertionError [E12]");
  EXPECT_EQ(derived(Value::list({"/out"}), "/w/exp"), "AssertionError [E12]");
  EXPECT_EQ(ckpt::derive_out_dir(5, "/w/exp", "C47").error().clause, "C47");
}

TEST(Naming, E42_PublishedName) {
  // osp.splitext(path)[0] + f'-{sha[:8]}.pth'
  const std::string sha = "deadbeefcafe0123";
  EXPECT_EQ(ckpt::published_name("/w/exp/epoch_1.pth", sha), "/w/exp/epoch_1-deadbeef.pth");
  EXPECT_EQ(ckpt::published_name("/w/exp/best_coco_bbox_mAP_epoch_5.pth", sha),
            "/w/exp/best_coco_bbox_mAP_epoch_5-deadbeef.pth");
  EXPECT_EQ(ckpt::published_name("rel.pth", sha), "rel-deadbeef.pth");
}

TEST(Naming, E42_SplitextSubtleties) {
  const std::string sha = "deadbeefcafe0123";
  EXPECT_EQ(ckpt::published_name("a.b/c", sha), "a.b/c-deadbeef.pth");           // a dot in a directory
  EXPECT_EQ(ckpt::published_name("/w/.hidden", sha), "/w/.hidden-deadbeef.pth");  // leading dot
  EXPECT_EQ(ckpt::published_name("/w/a.b/.c", sha), "/w/a.b/.c-deadbeef.pth");
  EXPECT_EQ(ckpt::published_name("x/a.tar.gz", sha), "x/a.tar-deadbeef.pth");     // only the last suffix
  EXPECT_EQ(ckpt::published_name("/w/exp/ck", sha), "/w/exp/ck-deadbeef.pth");    // no suffix
}

// E12/C47: FileClient.infer_client(file_client_args, out_dir), local disk
// (checked against mmengine and mmcv: FileClient(foo=1) and FileClient(**5)
// raise TypeError, FileClient(backend='disk', prefix=None) is fine).
TEST(Naming, C47_FileClientArgsAsInferClientTakesThem) {
  using ckpt::check_file_client;
  EXPECT_FALSE(check_file_client(py::Value(), py::Value("/w/o"), "C47"));
  EXPECT_EQ(check_file_client(py::Value(), py::Value(5), "C47")->type, "AssertionError");
  EXPECT_FALSE(check_file_client(py::Value(py::Dict{{"backend", "disk"}, {"prefix", py::none}}), py::Value("/w"), "C47"));
  EXPECT_EQ(check_file_client(py::Value(py::Dict{{"foo", 1}}), py::Value("/w"), "C47")->type, "TypeError");
  EXPECT_EQ(check_file_client(py::Value(5), py::Value("/w"), "E3")->type, "TypeError");
  EXPECT_EQ(check_file_client(py::Value(py::Dict{{"backend", "petrel"}}), py::Value("/w"), "C47")->type, "ValueError");
  EXPECT_EQ(check_file_client(py::Value(py::Dict{}), py::Value(5), "E12")->type, "TypeError");
}
