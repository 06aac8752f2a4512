// ckpt.store.fs against hostile names (issue 11, deliverable 6): templates
// and metric keys with a NUL, `..`, an absolute path, bytes that are not
// UTF-8, 4 KiB names; checkpoint names and last_checkpoint that are
// symlinks to files outside; a symlinked directory under out_dir. Plans
// come from the real reducers, in both orderings. Canary files outside the
// store's roots (inside the test's scratch directory) are checked after
// each: nothing outside out_dir/work_dir is written or removed, and each
// case raises what the reference raises where it raises (a NUL: ValueError
// at the first save, B61).
#include <gtest/gtest.h>
#include <cerrno>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>
#include "scratch.support.hpp"
import ckpt;
import ckpt.store.fs;

namespace {

namespace fs = std::filesystem;
namespace py = ckpt::py;
namespace store = ckpt::store::fs;
using store::Ordering;

std::optional<std::string> payload(const store::Payload& p, store::Sink& out) {
  const std::string data = std::holds_alternative<ckpt::Publish>(p.effect) ? "published" : "checkpoint";
  out.write(data.data(), data.size());
  return std::nullopt;
}

py::Dict kwargs_of(std::initializer_list<std::pair<const char*, py::Value>> items) {
  py::Dict d;
  for (const auto& [k, v] : items) d.emplace_back(k, v);
  return d;
}

// A scratch directory: the run's work_dir `w/exp` (the store's only root),
// and canaries in `outside`, beside it.
struct Hostile {
  scratch::Dir d{"ckpt-hostile"};
  std::string work = d / "w/exp";
  scratch::Canaries canaries{d / "outside"};
  Hostile() { fs::create_directories(work); }
};

struct Ran {
  std::optional<store::Error> error;
  std::size_t event = 0;  // where it stopped
  std::vector<std::string> written;
};

// before_train, an epoch, its validation (metric `key`), until an error.
Ran run_mmengine(const Hostile& h, const py::Dict& kwargs, Ordering ordering, const std::string& key = "acc") {
  using namespace ckpt::hook;
  auto state = init(ckpt::hook_config_from_kwargs(kwargs));
  EXPECT_TRUE(state.ok());
  auto s = std::move(state).value();
  auto r = [&](std::int64_t e, std::int64_t i) { return Runner{h.work, e, i, 2, 4, true}; };
  const std::vector<Event> events{BeforeTrain{r(0, 0)}, AfterTrainEpoch{r(0, 2)},
                                  AfterValEpoch{r(1, 2), {{key, 0.5}}}, AfterTrainEpoch{r(1, 4)}};
  store::Store st(h.work, h.work, {.ordering = ordering});
  Ran out;
  for (; out.event < events.size(); ++out.event) {
    const py::Dict before = s.runtime_info;
    auto step = advance(s, events[out.event]);
    auto applied = st.apply(step.plan, payload, before);
    out.written.insert(out.written.end(), applied.written.begin(), applied.written.end());
    if (applied.error) {
      out.error = applied.error;
      break;
    }
    EXPECT_FALSE(step.error) << *step.error;
  }
  return out;
}

class StoreFsHostile : public ::testing::TestWithParam<Ordering> {};
INSTANTIATE_TEST_SUITE_P(BothOrderings, StoreFsHostile, ::testing::Values(Ordering::safe, Ordering::reference));

TEST_P(StoreFsHostile, B61_ANulInTheTemplateIsValueErrorAtTheFirstSaveAndNothingIsWritten) {
  Hostile h;
  const std::string tmpl("x\0y_{}.pth", 10);
  Ran r = run_mmengine(h, kwargs_of({{"interval", 1}, {"max_keep_ckpts", 1}, {"filename_tmpl", tmpl}}), GetParam());
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.event, 1u);  // the first save
  EXPECT_EQ(store::python_exception(*r.error).type, "ValueError");
  EXPECT_EQ(store::python_exception(*r.error).message, "embedded null byte");
  EXPECT_EQ(scratch::listing(h.work), scratch::Listing{});  // no `x`, no last_checkpoint
  EXPECT_EQ(h.canaries.damage(), "");
}

TEST_P(StoreFsHostile, E35_ANulInAMetricKeyIsValueErrorAtTheBestSave) {
  Hostile h;
  const std::string key("acc\0x", 5);
  Ran r = run_mmengine(h, kwargs_of({{"interval", 1}, {"save_best", key}, {"rule", "greater"}}), GetParam(), key);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.event, 2u);
  EXPECT_EQ(store::python_exception(*r.error).type, "ValueError");
  EXPECT_EQ(scratch::listing(h.work).count("best_acc"), 0u);
  EXPECT_EQ(h.canaries.damage(), "");
}

TEST_P(StoreFsHostile, Containment_DotDotAndAbsoluteTemplatesAreRefusedAndTouchNothing) {
  for (const std::string& tmpl : {std::string("../../outside/epoch_{}.pth"), std::string("../../outside/canary{}"),
                                 std::string("../exp/../../outside/last_checkpoint{}")}) {
    Hostile h;
    Ran r = run_mmengine(h, kwargs_of({{"interval", 1}, {"max_keep_ckpts", 1}, {"filename_tmpl", tmpl}}), GetParam());
    ASSERT_TRUE(r.error) << tmpl;
    EXPECT_EQ(r.error->kind, store::ErrorKind::containment) << tmpl;
    EXPECT_EQ(h.canaries.damage(), "") << tmpl;
  }
  Hostile h;
  const std::string absolute = h.d / "outside/epoch_{}.pth";
  Ran r = run_mmengine(h, kwargs_of({{"interval", 1}, {"filename_tmpl", absolute}}), GetParam());
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->kind, store::ErrorKind::containment);
  EXPECT_EQ(h.canaries.damage(), "");
}

TEST_P(StoreFsHostile, Containment_AMetricKeyWithSlashesAndDotsStaysInside) {
  Hostile h;
  Ran r = run_mmengine(h, kwargs_of({{"interval", 1}, {"save_best", "../../outside/canary"}, {"rule", "greater"}}),
                       GetParam(), "../../outside/canary");
  EXPECT_FALSE(r.error) << *r.error;
  EXPECT_EQ(scratch::listing(h.work).count("best_.._.._outside_canary_epoch_1.pth"), 1u);  // E35: '/' -> '_'
  EXPECT_EQ(h.canaries.damage(), "");
}

TEST_P(StoreFsHostile, Names_BytesThatAreNotUtf8AreWrittenAsTheyAre) {
  Hostile h;
  Ran r = run_mmengine(h, kwargs_of({{"interval", 1}, {"filename_tmpl", "\xff\xfe_{}.pth"}}), GetParam());
  EXPECT_FALSE(r.error) << *r.error;
  EXPECT_EQ(scratch::listing(h.work).count("\xff\xfe_1.pth"), 1u);
  EXPECT_EQ(h.canaries.damage(), "");
}

TEST_P(StoreFsHostile, Names_A4KiBNameIsENAMETOOLONGNamingThePathAndWritesNothing) {
  Hostile h;
  const std::string tmpl = std::string(4096, 'a') + "_{}.pth";
  Ran r = run_mmengine(h, kwargs_of({{"interval", 1}, {"filename_tmpl", tmpl}}), GetParam());
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->err, ENAMETOOLONG);
  EXPECT_NE(r.error->path.find(std::string(4096, 'a')), std::string::npos);
  EXPECT_EQ(store::python_exception(*r.error).type, "OSError");
  EXPECT_TRUE(scratch::temporaries(h.work).empty());
  EXPECT_EQ(h.canaries.damage(), "");
}

TEST_P(StoreFsHostile, E24_ACheckpointNameThatIsASymlinkOutsideIsReplacedOrUnlinkedNeverFollowed) {
  Hostile h;
  // epoch_1.pth and last_checkpoint already there, as links to canaries
  fs::create_symlink(h.d / "outside/epoch_1.pth", h.work + "/epoch_1.pth");
  fs::create_symlink(h.d / "outside/last_checkpoint", h.work + "/last_checkpoint");
  fs::create_symlink(h.d / "outside/canary", h.work + "/epoch_2.pth");
  Ran r = run_mmengine(h, kwargs_of({{"interval", 1}, {"max_keep_ckpts", 1}}), GetParam());
  EXPECT_FALSE(r.error) << *r.error;
  const auto files = scratch::listing(h.work);
  EXPECT_EQ(files.at("last_checkpoint"), h.work + "/epoch_2.pth");  // a file now, not the link
  EXPECT_EQ(files.count("epoch_1.pth"), 0u);                         // evicted: the link went
  EXPECT_EQ(files.at("epoch_2.pth"), "checkpoint");
  EXPECT_EQ(h.canaries.damage(), "");
}

TEST_P(StoreFsHostile, Containment_ASymlinkedDirectoryUnderTheRootIsRefused) {
  Hostile h;
  fs::create_directories(h.d / "w2");
  fs::create_symlink(h.d / "outside", h.d / "w2/exp");  // out_dir/<basename> leads outside
  scratch::Dir& d = h.d;
  store::Store st(d / "w2", h.work, {.ordering = GetParam()});
  auto s = ckpt::hook::init(ckpt::hook_config_from_kwargs(kwargs_of({{"interval", 1}, {"out_dir", d / "w2"}}))).value();
  using namespace ckpt::hook;
  auto r = [&](std::int64_t e, std::int64_t i) { return Runner{h.work, e, i, 2, 4, true}; };
  advance(s, BeforeTrain{r(0, 0)});
  auto step = advance(s, AfterTrainEpoch{r(0, 2)});
  auto applied = st.apply(step.plan, payload);
  ASSERT_TRUE(applied.error);
  EXPECT_EQ(applied.error->kind, store::ErrorKind::containment);
  EXPECT_EQ(h.canaries.damage(), "");
}

TEST(StoreFsHostileLegacy, C55_ANulInTheTemplateIsValueErrorAtTheFirstSave) {
  for (Ordering ordering : {Ordering::safe, Ordering::reference}) {
    Hostile h;
    using namespace ckpt::legacy;
    auto s = init(ckpt::legacy_config_from_kwargs(kwargs_of({{"interval", 1}, {"max_keep_ckpts", 1},
                                                             {"filename_tmpl", std::string("x\0y_{}.pth", 10)}})),
                  RunnerKind::epoch, py::Dict{});
    auto r = [&](std::int64_t e, std::int64_t i) { return Runner{h.work, e, i, 2, 4, 0}; };
    store::Store st(h.work, h.work, {.ordering = ordering});
    EXPECT_TRUE(st.apply(advance(s, BeforeRun{r(0, 0)}).plan, payload).ok());
    auto applied = st.apply(advance(s, AfterTrainEpoch{r(0, 2)}).plan, payload);
    ASSERT_TRUE(applied.error);
    EXPECT_EQ(store::python_exception(*applied.error).type, "ValueError");
    EXPECT_EQ(scratch::listing(h.work), scratch::Listing{});  // no `x`, no latest.pth
    EXPECT_EQ(h.canaries.damage(), "");
  }
}

}  // namespace
