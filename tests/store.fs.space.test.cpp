// ckpt.store.fs: free space before evicting (issue 11, deliverable 3). The
// safe ordering writes before it evicts, so on a nearly full disk the new
// file must fit beside the old ones: when statvfs says it will not (the
// expected size: the caller's hint, else the last checkpoint's size), the
// plan is refused before anything is written or removed, saying how much
// is needed and which option trades safety for space; with
// evict_first_if_short the plan evicts first, as the reference does (E24,
// E28). Small tmpfs mounts (root only; skipped elsewhere).
#include <gtest/gtest.h>
#include <cerrno>
#include <cstdint>
#include <optional>
#include <string>
#include "scratch.support.hpp"
import ckpt;
import ckpt.store.fs;

namespace {

namespace py = ckpt::py;
namespace store = ckpt::store::fs;
using ckpt::Plan;
using store::Ordering;

constexpr std::size_t kib = 1024;

std::optional<std::string> fill(const store::Payload&, store::Sink& out, std::size_t bytes) {
  const std::string data(bytes, 'x');
  out.write(data.data(), data.size());
  return std::nullopt;
}

// keep one: epoch_2 replaces epoch_1 (E24), whose 40 KiB the runtime info names (E25)
struct Disk {
  scratch::Dir d{"ckpt-space"};
  std::string dir;
  bool mounted = false;
  explicit Disk(const char* size = "64k") {
    mounted = d.mount_tmpfs("disk", size);
    dir = d / "disk";
    if (mounted) scratch::write(dir + "/epoch_1.pth", std::string(40 * kib, 'o'));
  }
  py::Dict info() const { return {{"last_ckpt", py::Value(dir + "/epoch_1.pth")}}; }
  Plan plan() const {
    return {ckpt::RemoveCheckpoint{dir + "/epoch_1.pth"}, ckpt::SetRuntimeInfo{"keep_ckpt_ids", py::List{2}},
            ckpt::SetRuntimeInfo{"last_ckpt", dir + "/epoch_2.pth"},
            ckpt::SaveCheckpoint{dir, "epoch_2.pth", true, true, {}, true, {}}};
  }
};

#define REQUIRE_MOUNT(disk) \
  if (!(disk).mounted) GTEST_SKIP() << "cannot mount a tmpfs here (needs root)"

TEST(StoreFsSpace, D_ASaveThatCannotFitIsRefusedBeforeAnythingIsWrittenOrRemoved) {
  Disk disk;
  REQUIRE_MOUNT(disk);
  const auto before = scratch::listing(disk.dir);
  store::Store st(disk.dir, disk.dir, {.ordering = Ordering::safe});
  auto applied = st.apply(disk.plan(), [](auto& p, auto& out) { return fill(p, out, 40 * kib); }, disk.info());
  ASSERT_TRUE(applied.error);
  EXPECT_EQ(applied.error->err, ENOSPC);
  EXPECT_NE(applied.error->message.find("needs about"), std::string::npos) << applied.error->message;
  EXPECT_NE(applied.error->message.find("evict_first_if_short"), std::string::npos) << applied.error->message;
  EXPECT_TRUE(applied.done.empty());
  EXPECT_EQ(scratch::listing(disk.dir), before);  // nothing written, nothing removed
}

TEST(StoreFsSpace, D_EvictFirstIfShortEvictsBeforeSavingAsTheReference) {
  Disk disk;
  REQUIRE_MOUNT(disk);
  store::Store st(disk.dir, disk.dir, {.ordering = Ordering::safe, .evict_first_if_short = true});
  auto applied = st.apply(disk.plan(), [](auto& p, auto& out) { return fill(p, out, 40 * kib); }, disk.info());
  ASSERT_TRUE(applied.ok()) << applied;
  EXPECT_TRUE(applied.evicted_first);
  EXPECT_EQ(scratch::listing(disk.dir).count("epoch_1.pth"), 0u);
  EXPECT_EQ(scratch::listing(disk.dir).at("epoch_2.pth").size(), 40 * kib);
}

TEST(StoreFsSpace, D_ASaveThatFitsGoesInTheSafeOrder) {
  Disk disk("256k");
  REQUIRE_MOUNT(disk);
  store::Store st(disk.dir, disk.dir, {.ordering = Ordering::safe, .evict_first_if_short = true});
  auto applied = st.apply(disk.plan(), [](auto& p, auto& out) { return fill(p, out, 40 * kib); }, disk.info());
  ASSERT_TRUE(applied.ok()) << applied;
  EXPECT_FALSE(applied.evicted_first);
  EXPECT_EQ(applied.written.size(), 1u);
}

TEST(StoreFsSpace, D_TheCallersExpectedSizeIsWhatMustFit) {
  Disk disk("256k");
  REQUIRE_MOUNT(disk);
  store::Store st(disk.dir, disk.dir, {.ordering = Ordering::safe});
  const store::SizeHint hint = [](const ckpt::Effect&) -> std::optional<std::uint64_t> { return 1024 * kib; };
  auto applied = st.apply(disk.plan(), [](auto& p, auto& out) { return fill(p, out, 1); }, disk.info(), hint);
  ASSERT_TRUE(applied.error);
  EXPECT_NE(applied.error->message.find("1.0 MiB"), std::string::npos) << applied.error->message;
}

TEST(StoreFsSpace, E28_TheReferenceOrderingEvictsFirstWithoutAsking) {
  Disk disk;
  REQUIRE_MOUNT(disk);
  store::Store st(disk.dir, disk.dir, {.ordering = Ordering::reference});
  auto applied = st.apply(disk.plan(), [](auto& p, auto& out) { return fill(p, out, 40 * kib); }, disk.info());
  ASSERT_TRUE(applied.ok()) << applied;
  EXPECT_FALSE(applied.evicted_first);  // it is simply its order
  EXPECT_EQ(scratch::listing(disk.dir).count("epoch_1.pth"), 0u);
}

}  // namespace
