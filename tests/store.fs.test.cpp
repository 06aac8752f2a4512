// ckpt.store.fs — the durable filesystem adapter: atomic writes (E27, C56),
// removals that never follow symlinks (E16, E24, E35, C52), containment
// inside the two roots, failures that leave the previous checkpoints intact
// (E28), and the safe ordering: the same files as the reference's order
// after every event (E24, B61), but no crash window that loses a checkpoint
// (docs/spec/checkpoint-hook-spec.md, section D). Plans come from the real reducers where a clause is about
// a run, and are written by hand where a test pins one effect.
//
// Scratch trees live under $CKPT_STORE_TEST_DIR, else /dev/shm (fsync is
// free there; the ordering is what is tested, not the device), else the
// temp directory.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
import ckpt;
import ckpt.store.fs;

namespace {

namespace fs = std::filesystem;
namespace py = ckpt::py;
namespace store = ckpt::store::fs;
using ckpt::Plan;
using store::Ordering;

// --- scratch trees, listings, fake payload writers ---------------------------

/// A fresh directory, removed (after unmounting what a test mounted) at the end.
struct Scratch {
  fs::path base;
  std::vector<fs::path> mounts;
  Scratch() {
    static std::atomic<int> counter{0};
    auto name = "ckpt-store-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    std::error_code ec;
    const char* chosen = std::getenv("CKPT_STORE_TEST_DIR");
    base = fs::path(chosen ? chosen : "/dev/shm") / name;
    if (!fs::create_directories(base, ec)) {
      base = fs::temp_directory_path() / name;
      fs::remove_all(base);
      fs::create_directories(base);
    }
  }
  ~Scratch() {
    for (auto it = mounts.rbegin(); it != mounts.rend(); ++it) ::umount2(it->c_str(), MNT_DETACH);
    std::error_code ec;
    fs::permissions(base, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(base, ec);
  }
  std::string operator/(const std::string& rel) const { return (base / rel).string(); }
  /// A tmpfs of `size` at `rel`; false where mounting is not allowed.
  bool mount_tmpfs(const std::string& rel, const char* size) {
    fs::create_directories(base / rel);
    std::string opts = std::string("size=") + size;
    if (::mount("tmpfs", (base / rel).c_str(), "tmpfs", 0, opts.c_str()) != 0) return false;
    mounts.push_back(base / rel);
    return true;
  }
};

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write(const fs::path& p, const std::string& data) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << data;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (auto i = s.find(from); !from.empty() && i != std::string::npos; i = s.find(from, i + to.size()))
    s.replace(i, from.size(), to);
  return s;
}

/// Everything under `root`, links and directories included, never followed:
/// relative path -> "dir", "link -> target" or "file: contents", with `root`
/// written <base> in contents and targets, so that two trees compare.
using Listing = std::map<std::string, std::string>;
Listing listing(const fs::path& root) {
  Listing out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    auto rel = it->path().lexically_relative(root).string();
    auto st = it->symlink_status();
    if (fs::is_symlink(st)) out[rel] = "link -> " + fs::read_symlink(it->path()).string();
    else if (fs::is_directory(st)) out[rel] = "dir";
    else out[rel] = "file: " + read(it->path());
    out[rel] = replace_all(out[rel], root.string(), "<base>");
  }
  return out;
}

std::vector<std::string> temporaries(const fs::path& root) {
  std::vector<std::string> out;
  for (const auto& [rel, what] : listing(root))
    if (fs::path(rel).filename().string().rfind(".ckpt-tmp.", 0) == 0) out.push_back(rel);
  return out;
}

std::optional<std::string> put(store::Sink& out, const std::string& data) {
  out.write(data.data(), data.size());
  return std::nullopt;
}

/// A stand-in for the tensor store: what was saved and the runtime info it
/// was saved with (paths shown relative to `base`, so that two trees
/// compare), ending in END so that a complete file is recognisable. Publish
/// copies its source.
store::PayloadWriter fake_writer(const std::string& base) {
  return [base](const store::Payload& p, store::Sink& fd) -> std::optional<std::string> {
    auto info = replace_all(ckpt::json::dump(py::Value(p.runtime_info)), base, "<base>");
    if (const auto* s = std::get_if<ckpt::SaveCheckpoint>(&p.effect))
      return put(fd, "save " + s->filename + "\nmeta=" + ckpt::json::dump(py::Value(s->meta)) + "\ninfo=" + info +
                         "\nEND");
    if (const auto* s = std::get_if<ckpt::LegacySaveCheckpoint>(&p.effect))
      return put(fd, "legacy " + s->filename + "\nmeta=" +
                         replace_all(ckpt::json::dump(py::Value(s->checkpoint_meta)), base, "<base>") + "\nEND");
    const auto& publish = std::get<ckpt::Publish>(p.effect);
    if (!fs::is_regular_file(publish.source)) return "FileNotFoundError: " + publish.source;
    return put(fd, "published " + read(publish.source));
  };
}

/// The store plus what its caller owns: the runtime info and the runner
/// meta, advanced by what each apply carried out (runtime_info_after).
struct Mirrored {
  Mirrored(const fs::path& checkpoints, const fs::path& work, store::Options options = {}, py::Dict info = {})
      : store(checkpoints, work, options), info(std::move(info)) {}
  store::Applied apply(const Plan& plan, const store::PayloadWriter& writer = {}) {
    auto applied = store.apply(plan, writer, info);
    info = store::runtime_info_after(std::move(info), plan, applied);
    meta = store::runner_meta_after(std::move(meta), plan, applied);
    return applied;
  }
  const py::Dict& runtime_info() const { return info; }
  const py::Value& runner_meta() const { return meta; }
  store::Store store;
  py::Dict info;
  py::Value meta;
};

bool complete(const fs::path& p) {
  auto s = read(p);
  return s.size() >= 3 && s.compare(s.size() - 3, 3, "END") == 0;
}

/// Writes half a checkpoint, then fails, as a tensor store meeting a bad device.
std::optional<std::string> failing_writer(const store::Payload&, store::Sink& fd) {
  put(fd, "half a checkpoint");
  return "disk on fire";
}

// --- runs through the real reducers ---------------------------------------------

py::Dict kw(std::initializer_list<std::pair<const char*, py::Value>> items) {
  py::Dict d;
  for (const auto& [k, v] : items) d.emplace_back(k, v);
  return d;
}

/// mmengine's epoch or iteration loop (validation after every epoch or
/// iteration when `metrics` has an entry), as hook events under `work_dir`.
std::vector<ckpt::hook::Event> mmengine_trace(const std::string& work_dir, bool by_epoch, int epochs,
                                              int iters_per_epoch, const std::vector<py::Dict>& metrics = {}) {
  using namespace ckpt::hook;
  const std::int64_t max_epochs = epochs, max_iters = epochs * iters_per_epoch;
  auto runner = [&](std::int64_t e, std::int64_t i) { return Runner{work_dir, e, i, max_epochs, max_iters, true}; };
  std::vector<Event> out{BeforeTrain{runner(0, 0)}};
  std::size_t v = 0;
  std::int64_t iter = 0;
  for (std::int64_t e = 0; e < epochs; ++e) {
    for (std::int64_t b = 0; b < iters_per_epoch; ++b, ++iter) {
      out.push_back(AfterTrainIter{runner(e, iter), b});
      if (!by_epoch && v < metrics.size()) out.push_back(AfterValEpoch{runner(e, iter + 1), metrics[v++]});
    }
    out.push_back(AfterTrainEpoch{runner(e, iter)});
    if (by_epoch && v < metrics.size()) out.push_back(AfterValEpoch{runner(e + 1, iter), metrics[v++]});
  }
  out.push_back(AfterTrain{runner(max_epochs, max_iters)});
  return out;
}

/// The plans of a run, up to and including the first that raises.
std::vector<Plan> mmengine_plans(const py::Dict& kwargs, const std::vector<ckpt::hook::Event>& events,
                                 py::Dict runtime_info = {}) {
  auto state = ckpt::hook::init(ckpt::hook_config_from_kwargs(kwargs), std::move(runtime_info));
  EXPECT_TRUE(state.ok());
  if (!state.ok()) return {};
  auto s = std::move(state).value();
  std::vector<Plan> plans;
  for (const auto& e : events) {
    auto out = ckpt::hook::step(std::move(s), e);
    plans.push_back(out.plan);
    if (out.error) break;
    s = std::move(out.state);
  }
  return plans;
}

std::vector<Plan> mmcv_plans(const py::Dict& kwargs, const std::string& work_dir, bool by_epoch, int epochs,
                             int iters_per_epoch) {
  using namespace ckpt::legacy;
  auto s = init(ckpt::legacy_config_from_kwargs(kwargs), by_epoch ? RunnerKind::epoch : RunnerKind::iter, py::Dict{});
  const std::int64_t max_epochs = epochs, max_iters = epochs * iters_per_epoch;
  auto runner = [&](std::int64_t e, std::int64_t i) { return Runner{work_dir, e, i, max_epochs, max_iters, 0}; };
  std::vector<Event> events{BeforeRun{runner(0, 0)}};
  std::int64_t iter = 0;
  for (std::int64_t e = 0; e < epochs; ++e) {
    for (std::int64_t b = 0; b < iters_per_epoch; ++b, ++iter) events.push_back(AfterTrainIter{runner(e, iter)});
    events.push_back(AfterTrainEpoch{runner(e, iter)});
  }
  events.push_back(AfterRun{runner(max_epochs, max_iters)});
  std::vector<Plan> plans;
  for (const auto& e : events) {
    auto out = step(std::move(s), e);
    plans.push_back(out.plan);
    if (out.error) break;
    s = std::move(out.state);
  }
  return plans;
}

std::vector<std::string> saved_names(const Plan& plan) {
  std::vector<std::string> out;
  for (const auto& e : plan)
    if (const auto* s = std::get_if<ckpt::SaveCheckpoint>(&e)) out.push_back(s->filename);
  return out;
}

template <class E>
bool has(const Plan& plan) {
  for (const auto& e : plan)
    if (std::holds_alternative<E>(e)) return true;
  return false;
}

/// The index of the first plan of a run that evicts a checkpoint (E24).
std::size_t first_eviction(const std::vector<Plan>& plans) {
  for (std::size_t i = 0; i < plans.size(); ++i)
    if (has<ckpt::RemoveCheckpoint>(plans[i])) return i;
  ADD_FAILURE() << "no eviction in the run";
  return 0;
}

/// Applies the plans before `end`, each of which must succeed.
void apply_until(Mirrored& st, const std::vector<Plan>& plans, std::size_t end, const store::PayloadWriter& w) {
  for (std::size_t i = 0; i < end; ++i) {
    auto applied = st.apply(plans[i], w);
    ASSERT_TRUE(applied.ok()) << "plan " << i << ": " << applied;
  }
}

Mirrored make_store(const Scratch& s, Ordering ordering) {
  return Mirrored(s / "work", s / "work", store::Options{.ordering = ordering});
}

// --- durable writes -------------------------------------------------------------

TEST(StoreFs, Durable_SaveWritesTheWholeFileWithItsParentsAndNoTemporaries) {
  Scratch s;
  auto old_mask = ::umask(022);
  auto st = make_store(s, Ordering::safe);
  Plan plan{ckpt::SaveCheckpoint{s / "work", "nested/dirs/epoch_1.pth", true, true, {{"epoch", 1}}, true, {}}};
  auto applied = st.apply(plan, fake_writer(s.base.string()));
  ::umask(old_mask);
  ASSERT_TRUE(applied.ok()) << applied;
  EXPECT_EQ(applied.written, std::vector<std::string>{s / "work/nested/dirs/epoch_1.pth"});
  EXPECT_TRUE(complete(s / "work/nested/dirs/epoch_1.pth"));
  EXPECT_EQ(fs::status(s / "work/nested/dirs/epoch_1.pth").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
  EXPECT_TRUE(temporaries(s.base).empty());
}

TEST(StoreFs, E27_LastCheckpointIsReplacedByRenameNotRewrittenInPlace) {
  Scratch s;
  auto st = make_store(s, Ordering::safe);
  std::string text = s / "work/last_checkpoint";
  ASSERT_TRUE(st.apply({ckpt::WriteText{text, "/old.pth"}}).ok());
  int reader = ::open(text.c_str(), O_RDONLY);  // a reader that opened the old file keeps reading it whole
  auto applied = st.apply({ckpt::WriteText{text, "/new.pth"}});
  ASSERT_TRUE(applied.ok()) << applied;
  EXPECT_EQ(applied.texts, (std::vector<ckpt::WriteText>{ckpt::WriteText{text, "/new.pth"}}));
  EXPECT_EQ(read(text), "/new.pth");
  char buf[16] = {};
  EXPECT_EQ(::read(reader, buf, sizeof buf), 8);
  EXPECT_EQ(std::string(buf), "/old.pth");
  ::close(reader);
}

TEST(StoreFs, C56_LatestIsARelativeSymlinkReplacedAtomically) {
  Scratch s;
  auto st = make_store(s, Ordering::safe);
  write(s / "work/latest.pth", "a regular file the link replaces");
  for (const char* target : {"epoch_1.pth", "sub/epoch_2.pth"}) {
    auto applied = st.apply({ckpt::Symlink{s / "work/latest.pth", target}});
    ASSERT_TRUE(applied.ok()) << applied;
    EXPECT_TRUE(fs::is_symlink(fs::symlink_status(s / "work/latest.pth")));
    EXPECT_EQ(fs::read_symlink(s / "work/latest.pth"), fs::path(target));
  }
  EXPECT_TRUE(temporaries(s.base).empty());
}

TEST(StoreFs, Durable_LargePayloadIsWrittenWhole) {
  Scratch s;
  auto st = make_store(s, Ordering::safe);
  const std::string chunk(1 << 20, 'x');
  auto big = [&](const store::Payload&, store::Sink& fd) -> std::optional<std::string> {
    for (int i = 0; i < 16; ++i)
      if (auto e = put(fd, chunk)) return e;
    return std::nullopt;
  };
  auto applied = st.apply({ckpt::SaveCheckpoint{s / "work", "big.pth", true, true, {}, true, {}}}, big);
  ASSERT_TRUE(applied.ok()) << applied;
  EXPECT_EQ(fs::file_size(s / "work/big.pth"), 16u << 20);
}

TEST(StoreFs, E42_PublishedNameIsTheStreamedSha256OfWhatWasWritten) {
  Scratch s;
  auto st = make_store(s, Ordering::safe);
  // FIPS 180-2 test vectors: "abc", one million 'a' (hashed across many blocks), and nothing.
  std::vector<std::pair<std::string, std::string>> vectors = {
      {"abc", "ba7816bf"}, {std::string(1000000, 'a'), "cdc76e5c"}, {"", "e3b0c442"}};
  for (const auto& [bytes, prefix] : vectors) {
    auto writer = [&](const store::Payload& p, store::Sink& fd) -> std::optional<std::string> {
      EXPECT_TRUE(std::holds_alternative<ckpt::Publish>(p.effect));
      return put(fd, bytes);
    };
    auto applied = st.apply({ckpt::Publish{s / "work/epoch_3.pth", {"meta"}}}, writer);
    ASSERT_TRUE(applied.ok()) << applied;
    std::string expected = s / ("work/epoch_3-" + prefix + ".pth");
    EXPECT_EQ(applied.written, std::vector<std::string>{expected});
    EXPECT_EQ(read(expected), bytes);
  }
}

// --- removals -------------------------------------------------------------------

TEST(StoreFs, E16_TreeRemovalNeverFollowsSymlinks) {
  Scratch s;
  write(s / "outside/canary_dir/keep.txt", "keep");
  write(s / "outside/canary.txt", "keep");
  write(s / "work/epoch_1.pth/shard_0.bin", "0");
  write(s / "work/epoch_1.pth/nested/shard_1.bin", "1");
  fs::create_directory_symlink(s / "outside/canary_dir", s / "work/epoch_1.pth/nested/to_dir");
  fs::create_symlink(s / "outside/canary.txt", s / "work/epoch_1.pth/to_file");
  auto st = make_store(s, Ordering::safe);
  auto applied = st.apply({ckpt::RemoveCheckpoint{s / "work/epoch_1.pth", true}});
  ASSERT_TRUE(applied.ok()) << applied;
  EXPECT_EQ(applied.removed, std::vector<std::string>{s / "work/epoch_1.pth"});
  EXPECT_FALSE(fs::exists(fs::symlink_status(s / "work/epoch_1.pth")));
  EXPECT_EQ(read(s / "outside/canary_dir/keep.txt"), "keep");
  EXPECT_EQ(read(s / "outside/canary.txt"), "keep");
}

TEST(StoreFs, E24_RemovalUnlinksFilesAndLinksAndSkipsWhatIsMissing) {
  Scratch s;
  write(s / "work/epoch_1.pth", "1");
  write(s / "outside/target.pth", "target");
  fs::create_symlink(s / "outside/target.pth", s / "work/epoch_2.pth");
  fs::create_symlink(s / "work/nowhere", s / "work/epoch_3.pth");
  auto st = make_store(s, Ordering::reference);
  Plan plan;
  for (const char* name : {"epoch_1.pth", "epoch_2.pth", "epoch_3.pth", "epoch_4.pth", "gone/epoch_5.pth"})
    plan.push_back(ckpt::RemoveCheckpoint{s / (std::string("work/") + name), true});
  auto applied = st.apply(plan);
  ASSERT_TRUE(applied.ok()) << applied;
  // os.remove on a link to a file removes the link; a dangling link is neither file nor directory
  EXPECT_EQ(applied.removed, (std::vector<std::string>{s / "work/epoch_1.pth", s / "work/epoch_2.pth"}));
  EXPECT_EQ(read(s / "outside/target.pth"), "target");
  EXPECT_TRUE(fs::is_symlink(fs::symlink_status(s / "work/epoch_3.pth")));
}

TEST(StoreFs, E16_NoRmtreeThroughTheLegacyFileClient) {
  Scratch s;
  write(s / "work/epoch_1.pth/shard.bin", "x");
  auto st = make_store(s, Ordering::safe);
  auto applied = st.apply({ckpt::RemoveCheckpoint{s / "work/epoch_1.pth", false}});
  ASSERT_TRUE(applied.error);
  EXPECT_EQ(applied.error->kind, store::ErrorKind::reference);
  EXPECT_EQ(applied.error->path, s / "work/epoch_1.pth");
  EXPECT_NE(applied.error->message.find("AttributeError"), std::string::npos);
  EXPECT_TRUE(fs::exists(s / "work/epoch_1.pth/shard.bin"));
}

TEST(StoreFs, E35_ALinkToADirectoryIsNotRemovedAsTheReferenceRaises) {
  Scratch s;
  write(s / "outside/dir/keep.txt", "keep");
  fs::create_directories(s / "work");
  fs::create_directory_symlink(s / "outside/dir", s / "work/best_acc_epoch_1.pth");
  auto st = make_store(s, Ordering::safe);
  auto applied = st.apply({ckpt::RemoveCheckpoint{s / "work/best_acc_epoch_1.pth", true}});
  ASSERT_TRUE(applied.error);
  EXPECT_EQ(applied.error->kind, store::ErrorKind::reference);
  EXPECT_NE(applied.error->message.find("Cannot call rmtree on a symbolic link"), std::string::npos);
  EXPECT_EQ(read(s / "outside/dir/keep.txt"), "keep");
}

TEST(StoreFs, C52_RemoveUntilGapStopsAtTheFirstPathThatIsNotAFile) {
  Scratch s;
  for (const char* f : {"epoch_2.pth", "epoch_6.pth", "epoch_8.pth"}) write(s / (std::string("work/") + f), f);
  fs::create_directories(s / "work/epoch_4.pth");  // a directory is a gap (isfile is False)
  auto st = make_store(s, Ordering::safe);
  auto applied = st.apply({ckpt::RemoveUntilGap{s / "work", "epoch_{}.pth", 8, -2}});
  ASSERT_TRUE(applied.ok()) << applied;
  EXPECT_EQ(applied.removed, (std::vector<std::string>{s / "work/epoch_8.pth", s / "work/epoch_6.pth"}));
  EXPECT_TRUE(fs::exists(s / "work/epoch_4.pth"));
  EXPECT_TRUE(fs::exists(s / "work/epoch_2.pth"));
}

// --- orderings --------------------------------------------------------------------

TEST(StoreFs, Schedule_SafeWritesFirstThenRuntimeInfoThenRemovals) {
  const std::string wd = "/w/exp";
  auto plans = mmengine_plans(kw({{"interval", 1}, {"max_keep_ckpts", 1}}), mmengine_trace(wd, true, 2, 1));
  const Plan& second = plans.at(first_eviction(plans));  // evicts epoch_1, saves epoch_2
  ASSERT_TRUE(has<ckpt::RemoveCheckpoint>(second));
  EXPECT_EQ(store::schedule(second, Ordering::reference), second);
  Plan safe = store::schedule(second, Ordering::safe);
  ASSERT_EQ(safe.size(), second.size());
  auto position = [&](auto pred) {
    for (std::size_t i = 0; i < safe.size(); ++i)
      if (pred(safe[i])) return i;
    return safe.size();
  };
  auto save = position([](const ckpt::Effect& e) { return std::holds_alternative<ckpt::SaveCheckpoint>(e); });
  auto text = position([](const ckpt::Effect& e) { return std::holds_alternative<ckpt::WriteText>(e); });
  auto info = position([](const ckpt::Effect& e) { return std::holds_alternative<ckpt::SetRuntimeInfo>(e); });
  auto remove = position([](const ckpt::Effect& e) { return std::holds_alternative<ckpt::RemoveCheckpoint>(e); });
  EXPECT_LT(save, text);
  EXPECT_LT(text, info);
  EXPECT_EQ(remove, safe.size() - 1);
}

TEST(StoreFs, Schedule_RemovalsThatALaterEffectTouchesKeepTheirPlace) {
  // Never produced by the reducers; the safe ordering must not change their outcome.
  Plan into_removed_dir{ckpt::RemoveCheckpoint{"/w/exp/e1", true},
                        ckpt::SaveCheckpoint{"/w/exp", "e1/model.pth", true, true, {}, true, {}}};
  EXPECT_EQ(store::schedule(into_removed_dir, Ordering::safe), into_removed_dir);
  Plan publish_removed{ckpt::RemoveCheckpoint{"/w/exp/epoch_1.pth", true},
                       ckpt::Publish{"/w/exp/epoch_1.pth", {"meta"}}};
  EXPECT_EQ(store::schedule(publish_removed, Ordering::safe), publish_removed);
  Plan gap_then_save{ckpt::RemoveUntilGap{"/w/exp", "epoch_{}.pth", 1, -1},
                     ckpt::LegacySaveCheckpoint{"/w/exp", "epoch_1.pth", "/w/exp/epoch_1.pth", true, true,
                                                py::none, {}}};
  EXPECT_EQ(store::schedule(gap_then_save, Ordering::safe), gap_then_save);
}

TEST(StoreFs, E28_ReferenceOrderingLosesTheEvictedCheckpointWhenTheSaveFails) {
  Scratch s;
  auto plans = mmengine_plans(kw({{"interval", 1}, {"max_keep_ckpts", 1}}), mmengine_trace(s / "work", true, 2, 1));
  auto st = make_store(s, Ordering::reference);
  auto evicting = first_eviction(plans);
  apply_until(st, plans, evicting, fake_writer(s.base.string()));
  auto applied = st.apply(plans[evicting], failing_writer);
  ASSERT_TRUE(applied.error);
  EXPECT_EQ(applied.error->kind, store::ErrorKind::writer);
  EXPECT_EQ(applied.error->path, s / "work/epoch_2.pth");
  EXPECT_EQ(applied.error->message, "disk on fire");
  EXPECT_FALSE(fs::exists(s / "work/epoch_1.pth"));  // evicted first (E24)
  EXPECT_FALSE(fs::exists(s / "work/epoch_2.pth"));  // never made it
  EXPECT_EQ(*py::find(st.runtime_info(), "last_ckpt"), py::Value(s / "work/epoch_2.pth"));  // names the missing file
  EXPECT_TRUE(temporaries(s.base).empty());
}

TEST(StoreFs, E28_SafeOrderingNeverLosesACheckpoint) {
  Scratch s;
  auto plans = mmengine_plans(kw({{"interval", 1}, {"max_keep_ckpts", 1}}), mmengine_trace(s / "work", true, 2, 1));
  auto st = make_store(s, Ordering::safe);
  auto evicting = first_eviction(plans);
  apply_until(st, plans, evicting, fake_writer(s.base.string()));
  auto before = listing(s.base);
  auto info_before = st.runtime_info();
  auto applied = st.apply(plans[evicting], failing_writer);
  ASSERT_TRUE(applied.error);
  EXPECT_EQ(applied.error->kind, store::ErrorKind::writer);
  EXPECT_EQ(applied.error->path, s / "work/epoch_2.pth");
  EXPECT_EQ(listing(s.base), before);  // epoch_1 and last_checkpoint intact, no temporary left
  EXPECT_EQ(st.runtime_info(), info_before);
  EXPECT_TRUE(applied.removed.empty());
}

TEST(StoreFs, E28_ReferenceOrderingCanLoseTheOnlyCheckpointInACrash) {
  // Why `safe` exists: a crash right after the eviction leaves no checkpoint.
  Scratch s;
  auto plans = mmengine_plans(kw({{"interval", 1}, {"max_keep_ckpts", 1}}), mmengine_trace(s / "work", true, 2, 1));
  auto st = make_store(s, Ordering::reference);
  auto evicting = first_eviction(plans);
  apply_until(st, plans, evicting, fake_writer(s.base.string()));
  const Plan& plan = plans[evicting];
  auto eviction = std::find_if(plan.begin(), plan.end(),
                               [](const ckpt::Effect& e) { return std::holds_alternative<ckpt::RemoveCheckpoint>(e); });
  ASSERT_FALSE(has<ckpt::SaveCheckpoint>(Plan(plan.begin(), eviction)));
  st.apply(Plan(plan.begin(), eviction + 1));  // ...and the process dies
  EXPECT_FALSE(fs::exists(s / "work/epoch_1.pth"));
  EXPECT_FALSE(fs::exists(s / "work/epoch_2.pth"));
  EXPECT_EQ(read(s / "work/last_checkpoint"), s / "work/epoch_1.pth");  // names a file that is gone
}

TEST(StoreFs, B61_SafeOrderingKeepsTheFileItJustWrote) {
  Scratch ref_tree, safe_tree;
  auto kwargs = [](const Scratch& s) {
    return kw({{"interval", 1}, {"max_keep_ckpts", 1}, {"filename_tmpl", "ckpt.pth"}, {"out_dir", s / "ckpt"}});
  };
  auto ref_plans = mmengine_plans(kwargs(ref_tree), mmengine_trace(ref_tree / "work", true, 3, 1));
  auto safe_plans = mmengine_plans(kwargs(safe_tree), mmengine_trace(safe_tree / "work", true, 3, 1));
  Mirrored ref(ref_tree / "ckpt", ref_tree / "work", {.ordering = Ordering::reference});
  Mirrored safe(safe_tree / "ckpt", safe_tree / "work", {.ordering = Ordering::safe});
  for (std::size_t i = 0; i < ref_plans.size(); ++i) {
    ASSERT_TRUE(ref.apply(ref_plans[i], fake_writer(ref_tree.base.string())).ok());
    auto applied = safe.apply(safe_plans[i], fake_writer(safe_tree.base.string()));
    ASSERT_TRUE(applied.ok()) << applied;
    EXPECT_TRUE(applied.removed.empty());  // the rename replaced it; nothing was deleted
    EXPECT_EQ(listing(ref_tree.base), listing(safe_tree.base)) << "after event " << i;
  }
  // the reference evicted ckpt.pth and rewrote it; safe replaced it in one rename
  const Plan& evicting = safe_plans[first_eviction(safe_plans)];
  EXPECT_FALSE(has<ckpt::RemoveCheckpoint>(store::schedule(evicting, Ordering::safe)));
  EXPECT_NE(read(safe_tree / "ckpt/work/ckpt.pth").find("\"epoch\": 3"), std::string::npos);
}

TEST(StoreFs, B61_AnAbsorbedRemovalStillRemovesADirectoryAsTheReferenceWould) {
  for (auto ordering : {Ordering::reference, Ordering::safe}) {
    Scratch s;
    write(s / "work/ckpt.pth/shard.bin", "an older sharded checkpoint");
    auto st = make_store(s, ordering);
    Plan plan{ckpt::RemoveCheckpoint{s / "work/ckpt.pth", true},
              ckpt::SaveCheckpoint{s / "work", "ckpt.pth", true, true, {}, true, {}}};
    auto applied = st.apply(plan, fake_writer(s.base.string()));
    ASSERT_TRUE(applied.ok()) << ordering << ": " << applied;
    EXPECT_TRUE(fs::is_regular_file(s / "work/ckpt.pth")) << ordering;
    EXPECT_EQ(applied.removed, std::vector<std::string>{s / "work/ckpt.pth"});
  }
}

TEST(StoreFs, B61_LegacyDeletesWhatItJustWroteInBothOrderings) {
  // mmcv saves, then retains (C51, C52): with no `{}` the series' first path
  // is the file just written. Both orderings reproduce that; keeping it
  // would be a policy change, not an ordering.
  for (auto ordering : {Ordering::reference, Ordering::safe}) {
    Scratch s;
    auto plans = mmcv_plans(kw({{"interval", 1}, {"max_keep_ckpts", 1}, {"filename_tmpl", "ckpt.pth"}}), s / "work",
                            true, 2, 1);
    auto st = make_store(s, ordering);
    for (const auto& plan : plans) ASSERT_TRUE(st.apply(plan, fake_writer(s.base.string())).ok());
    EXPECT_FALSE(fs::exists(s / "work/ckpt.pth")) << ordering;
    EXPECT_EQ(fs::read_symlink(s / "work/latest.pth"), fs::path("ckpt.pth")) << ordering;  // dangling, as in mmcv
  }
}

// --- containment ---------------------------------------------------------------
//
// Tests run as root in CI, so a containment test never aims at a real file
// outside its scratch tree, not even to see it refused: a regression in the
// check would destroy it. The targets are canaries in the scratch tree,
// outside both roots, and each test checks that they survive.

/// Files outside the store's roots (work/) in the scratch tree: `outside/`,
/// and `work2/`, a sibling whose name extends the root's (a prefix test
/// without the separator takes it for inside). The destructor fails the
/// test when anything there changed, appeared or went.
struct Canaries {
  const Scratch& s;
  std::map<std::string, std::string> planted;
  explicit Canaries(const Scratch& scratch) : s(scratch) {
    for (const char* rel : {"outside/hostname", "outside/dir/keep.txt", "work2/epoch_1.pth", "work2/last_checkpoint"})
      plant(rel, std::string("canary ") + rel);
  }
  Canaries(const Canaries&) = delete;
  Canaries& operator=(const Canaries&) = delete;
  /// Another file outside the roots (for a symlink to point at, say).
  std::string plant(const std::string& rel, const std::string& content) {
    write(s / rel, content);
    planted[rel] = content;
    return s / rel;
  }
  std::string path(const std::string& rel) const { return s / rel; }
  ~Canaries() {
    std::map<std::string, std::string> now;
    for (const char* area : {"outside", "work2"})
      if (fs::is_directory(fs::symlink_status(s.base / area)))  // else every canary there is gone
        for (const auto& [rel, what] : listing(s.base / area))
        if (what != "dir") now[std::string(area) + "/" + rel] = what;
    std::map<std::string, std::string> expected;
    for (const auto& [rel, content] : planted) expected[rel] = "file: " + content;
    EXPECT_EQ(now, expected) << "something outside the store's roots changed";
  }
};

/// A plan that would delete an existing checkpoint and then write `filename`.
Plan evict_then_save(const Scratch& s, const std::string& filename) {
  write(s / "work/epoch_1.pth", "precious");
  return {ckpt::RemoveCheckpoint{s / "work/epoch_1.pth", true},
          ckpt::SaveCheckpoint{s / "work", filename, true, true, {}, true, {}}};
}

void expect_refused(const Scratch& s, const Plan& plan, const std::string& path) {
  for (auto ordering : {Ordering::reference, Ordering::safe}) {
    auto before = listing(s.base);
    int calls = 0;
    auto writer = [&](const store::Payload&, store::Sink&) -> std::optional<std::string> {
      ++calls;
      return std::nullopt;
    };
    auto applied = make_store(s, ordering).apply(plan, writer);
    ASSERT_TRUE(applied.error) << ordering;
    EXPECT_EQ(applied.error->kind, store::ErrorKind::containment) << *applied.error;
    EXPECT_EQ(applied.error->path, path);
    EXPECT_NE(applied.error->message.find(path), std::string::npos) << *applied.error;
    EXPECT_EQ(listing(s.base), before) << ordering;  // nothing of the plan happened
    EXPECT_EQ(calls, 0);
  }
}

TEST(StoreFs, Containment_DotDotTemplateIsRefusedBeforeAnythingIsDeleted) {
  Scratch s;
  Canaries c(s);
  expect_refused(s, evict_then_save(s, "../x_1.pth"), s / "work/../x_1.pth");
  expect_refused(s, evict_then_save(s, "a/../../b_1.pth"), s / "work/a/../../b_1.pth");
  expect_refused(s, evict_then_save(s, "../outside/hostname"), s / "work/../outside/hostname");
}

TEST(StoreFs, Containment_AbsolutePathIsRefused) {
  Scratch s;
  Canaries c(s);
  expect_refused(s, evict_then_save(s, s / "elsewhere/epoch_2.pth"), s / "elsewhere/epoch_2.pth");
  // every kind of effect aimed at an existing file outside both roots
  const std::string victim = c.path("outside/hostname");
  expect_refused(s, {ckpt::RemoveCheckpoint{victim, true}}, victim);
  expect_refused(s, {ckpt::RemoveCheckpoint{c.path("outside/dir"), true}}, c.path("outside/dir"));
  expect_refused(s, {ckpt::WriteText{victim, "overwritten"}}, victim);
  expect_refused(s, {ckpt::SaveCheckpoint{c.path("outside"), "hostname", true, true, {}, true, {}}}, victim);
  expect_refused(s, {ckpt::Symlink{victim, "epoch_1.pth"}}, victim);
  expect_refused(s, {ckpt::RemoveUntilGap{c.path("work2"), "epoch_{}.pth", 1, -1}}, c.path("work2/epoch_1.pth"));
}

TEST(StoreFs, Containment_ASiblingThatExtendsTheRootsNameIsOutside) {
  Scratch s;  // work2/ starts with "work" but is not under work/
  Canaries c(s);
  write(s / "work/epoch_1.pth", "precious");
  expect_refused(s, {ckpt::RemoveCheckpoint{c.path("work2/epoch_1.pth"), true}}, c.path("work2/epoch_1.pth"));
  expect_refused(s, {ckpt::WriteText{c.path("work2/last_checkpoint"), "x"}}, c.path("work2/last_checkpoint"));
  expect_refused(s, evict_then_save(s, "../work2/epoch_1.pth"), s / "work/../work2/epoch_1.pth");
}

TEST(StoreFs, Containment_DotDotThatStaysInsideIsAllowed) {
  Scratch s;
  Canaries c(s);
  auto applied = make_store(s, Ordering::safe).apply(evict_then_save(s, "a/../epoch_2.pth"), fake_writer(""));
  ASSERT_TRUE(applied.ok()) << applied;
  EXPECT_TRUE(fs::exists(s / "work/epoch_2.pth"));
}

TEST(StoreFs, Containment_SymlinkedParentOutsideIsRefused) {
  Scratch s;
  Canaries c(s);
  c.plant("outside/victim.pth", "not ours");
  fs::create_directories(s / "work");
  fs::create_directory_symlink(s / "outside", s / "work/sub");
  expect_refused(s, evict_then_save(s, "sub/epoch_2.pth"), s / "work/sub/epoch_2.pth");
  Plan remove{ckpt::RemoveCheckpoint{s / "work/sub/victim.pth", true}};
  expect_refused(s, remove, s / "work/sub/victim.pth");
  Plan series{ckpt::RemoveUntilGap{s / "work/sub", "victim{}", 1, -1}};
  c.plant("outside/victim1", "not ours either");
  expect_refused(s, series, s / "work/sub/victim1");
}

TEST(StoreFs, Containment_SeriesIsCheckedPastPathsThePlanWrites) {
  // C52 after C51: the series' first path is the file the plan saves, not on
  // disk yet when the plan is checked; the check walks on to the next one.
  Scratch s;
  Canaries c(s);
  c.plant("outside/ckpt.pth", "not ours");
  fs::create_directories(s / "work");
  fs::create_directory_symlink(s / "outside", s / "work/d1");
  Plan plan{ckpt::LegacySaveCheckpoint{s / "work", "d2/ckpt.pth", s / "work/d2/ckpt.pth", true, false, py::none, {}},
            ckpt::RemoveUntilGap{s / "work", "d{}/ckpt.pth", 2, -1}};
  expect_refused(s, plan, s / "work/d1/ckpt.pth");
}

TEST(StoreFs, Containment_ASymlinkMadeByThePlanCannotLeadALaterWriteOutside) {
  // Checked before the plan runs, work/sub does not exist yet; the plan's
  // own Symlink then points it outside, and the save through it must fail.
  Scratch s;
  Canaries c(s);
  fs::create_directories(s / "work");
  Plan plan{ckpt::Symlink{s / "work/sub", s / "outside"},
            ckpt::SaveCheckpoint{s / "work", "sub/hostname", true, true, {}, true, {}},
            ckpt::RemoveCheckpoint{s / "work/sub/dir", true}};
  for (auto ordering : {Ordering::reference, Ordering::safe}) {
    auto applied = make_store(s, ordering).apply(plan, fake_writer(""));
    ASSERT_TRUE(applied.error) << ordering;
    EXPECT_EQ(applied.error->kind, store::ErrorKind::containment) << *applied.error;
    fs::remove(s / "work/sub");
  }
}

TEST(StoreFs, Containment_SymlinkedParentInsideIsFollowed) {
  Scratch s;
  Canaries c(s);
  fs::create_directories(s / "work/real");
  fs::create_directory_symlink(s / "work/real", s / "work/alias");
  auto applied = make_store(s, Ordering::safe).apply(evict_then_save(s, "alias/epoch_2.pth"), fake_writer(""));
  ASSERT_TRUE(applied.ok()) << applied;
  EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(s / "work/real/epoch_2.pth")));
}

TEST(StoreFs, Containment_ALinkAtTheFinalNameIsReplacedNotWrittenThrough) {
  Scratch s;  // torch.save would follow it; the rename replaces the link itself
  Canaries c(s);
  fs::create_directories(s / "work");
  fs::create_symlink(c.plant("outside/victim.pth", "not ours"), s / "work/epoch_1.pth");
  Plan save{ckpt::SaveCheckpoint{s / "work", "epoch_1.pth", true, true, {}, true, {}}};
  auto applied = make_store(s, Ordering::safe).apply(save, fake_writer(""));
  ASSERT_TRUE(applied.ok()) << applied;
  EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(s / "work/epoch_1.pth")));
}

TEST(StoreFs, Containment_ASymlinkedRootIsItsTarget) {
  Scratch s;
  Canaries c(s);
  fs::create_directories(s / "disk/run");
  fs::create_directory_symlink(s / "disk/run", s / "work");
  auto applied = make_store(s, Ordering::safe).apply(evict_then_save(s, "epoch_2.pth"), fake_writer(""));
  ASSERT_TRUE(applied.ok()) << applied;
  EXPECT_TRUE(fs::exists(s / "disk/run/epoch_2.pth"));
  EXPECT_FALSE(fs::exists(s / "disk/run/epoch_1.pth"));
}

TEST(StoreFs, Containment_RelativePathsResolveAgainstTheWorkingDirectory) {
  Scratch s;  // E13: out_dir='' makes the out_dir a relative `<basename>`
  Canaries c(s);
  auto cwd = fs::current_path();
  fs::current_path(s.base);
  Mirrored st("exp", "exp");
  auto inside = st.apply({ckpt::SaveCheckpoint{"exp", "epoch_1.pth", true, true, {}, true, {}}}, fake_writer(""));
  auto outside = st.apply({ckpt::SaveCheckpoint{"exp", "../epoch_1.pth", true, true, {}, true, {}}}, fake_writer(""));
  auto removal = st.apply({ckpt::RemoveCheckpoint{"outside/hostname", true}});
  fs::current_path(cwd);
  ASSERT_TRUE(inside.ok()) << inside;
  EXPECT_EQ(inside.written, std::vector<std::string>{"exp/epoch_1.pth"});
  EXPECT_TRUE(fs::exists(s / "exp/epoch_1.pth"));
  ASSERT_TRUE(outside.error);
  EXPECT_EQ(outside.error->kind, store::ErrorKind::containment);
  EXPECT_FALSE(fs::exists(s / "epoch_1.pth"));
  ASSERT_TRUE(removal.error);
  EXPECT_EQ(removal.error->kind, store::ErrorKind::containment);
}

TEST(StoreFs, Containment_RemovingARootIsRefused) {
  Scratch s;  // an empty filename_tmpl names out_dir itself: mmengine would rmtree the run
  Canaries c(s);
  write(s / "work/epoch_1.pth", "precious");
  expect_refused(s, {ckpt::RemoveCheckpoint{s / "work/", true}}, s / "work/");
  expect_refused(s, {ckpt::RemoveCheckpoint{s / "work/sub/..", true}}, s / "work/sub/..");
  expect_refused(s, {ckpt::RemoveCheckpoint{s / "work/..", true}}, s / "work/..");
}

TEST(StoreFs, Containment_ResumedBestPathOutsideIsNeverRemoved) {
  // E15, E35: the previous best path comes from the (resumed) runtime info
  // and is removed on a win, wherever it points.
  Scratch s;
  Canaries c(s);
  auto plans = mmengine_plans(kw({{"interval", -1}, {"save_last", false}, {"save_best", "acc"}}),
                              mmengine_trace(s / "work", true, 1, 1, {py::Dict{{"acc", 0.5}}}),
                              py::Dict{{"best_ckpt", c.plant("outside/victim.pth", "someone else's")},
                                       {"best_score", 0.1}});
  auto st = make_store(s, Ordering::safe);
  auto winning = first_eviction(plans);  // after_val_epoch: a win removes the previous best
  apply_until(st, plans, winning, {});
  auto applied = st.apply(plans[winning], fake_writer(""));
  ASSERT_TRUE(applied.error);
  EXPECT_EQ(applied.error->kind, store::ErrorKind::containment);
  EXPECT_EQ(applied.error->path, s / "outside/victim.pth");
  EXPECT_FALSE(fs::exists(s / "work/best_acc_epoch_1.pth"));  // nothing of that plan
}

TEST(StoreFs, Containment_MetricKeyCannotEscape) {
  Scratch s;  // E35 replaces every '/' of the best name with '_'
  Canaries c(s);
  auto kwargs = kw({{"interval", -1}, {"save_last", false}, {"save_best", "../../acc"}, {"rule", "greater"}});
  auto plans = mmengine_plans(kwargs,
                              mmengine_trace(s / "work", true, 1, 1, {py::Dict{{"../../acc", 0.5}}}));
  auto st = make_store(s, Ordering::safe);
  for (const auto& plan : plans) ASSERT_TRUE(st.apply(plan, fake_writer("")).ok());
  EXPECT_TRUE(fs::exists(s / "work/best_.._.._acc_epoch_1.pth"));
  EXPECT_EQ(listing(s / "work").size(), 1u);  // the best file and nothing else
}

// --- failures ---------------------------------------------------------------------

TEST(StoreFs, Failure_WriterFailingMidwayLeavesTheOldFileAndNoTemporary) {
  Scratch s;
  write(s / "work/ckpt.pth", "the previous checkpoint");
  auto st = make_store(s, Ordering::safe);
  auto applied = st.apply({ckpt::SaveCheckpoint{s / "work", "ckpt.pth", true, true, {}, true, {}}}, failing_writer);
  ASSERT_TRUE(applied.error);
  EXPECT_EQ(applied.error->kind, store::ErrorKind::writer);
  EXPECT_EQ(read(s / "work/ckpt.pth"), "the previous checkpoint");
  EXPECT_TRUE(temporaries(s.base).empty());
  EXPECT_TRUE(applied.written.empty());
}

TEST(StoreFs, Failure_WriterExceptionsAndAMissingWriterAreErrors) {
  Scratch s;
  auto st = make_store(s, Ordering::safe);
  Plan save{ckpt::SaveCheckpoint{s / "work", "epoch_1.pth", true, true, {}, true, {}}};
  auto throwing = [](const store::Payload&, store::Sink&) -> std::optional<std::string> {
    throw std::runtime_error("CUDA OOM");
  };
  auto thrown = st.apply(save, throwing);
  ASSERT_TRUE(thrown.error);
  EXPECT_EQ(*thrown.error, (store::Error{store::ErrorKind::writer, s / "work/epoch_1.pth", "CUDA OOM"}));
  auto none = st.apply(save);
  ASSERT_TRUE(none.error);
  EXPECT_EQ(none.error->kind, store::ErrorKind::writer);
  EXPECT_FALSE(fs::exists(s / "work/epoch_1.pth"));
  EXPECT_TRUE(temporaries(s.base).empty());
}

TEST(StoreFs, Failure_NoSpaceLeavesPreviousCheckpointsAndRuntimeInfoIntact) {
  Scratch s;
  if (!s.mount_tmpfs("work", "64k")) GTEST_SKIP() << "cannot mount a tmpfs here: " << std::strerror(errno);
  auto plans = mmengine_plans(kw({{"interval", 1}, {"max_keep_ckpts", 1}}), mmengine_trace(s / "work", true, 2, 1));
  auto st = make_store(s, Ordering::safe);
  auto small = [](const store::Payload&, store::Sink& fd) { return put(fd, std::string(16 << 10, 's') + "END"); };
  auto huge = [](const store::Payload&, store::Sink& fd) { return put(fd, std::string(256 << 10, 'h')); };
  auto evicting = first_eviction(plans);
  apply_until(st, plans, evicting, small);
  auto before = listing(s.base);
  auto info = st.runtime_info();
  auto applied = st.apply(plans[evicting], huge);
  ASSERT_TRUE(applied.error);
  EXPECT_EQ(applied.error->path, s / "work/epoch_2.pth");
  EXPECT_NE(applied.error->message.find(std::strerror(ENOSPC)), std::string::npos) << *applied.error;
  EXPECT_EQ(listing(s.base), before);
  EXPECT_EQ(st.runtime_info(), info);
  // the store's own text write meets a full disk too
  write(s / "work/filler", std::string(48 << 10, 'f'));
  auto text = st.apply({ckpt::WriteText{s / "work/last_checkpoint", std::string(32 << 10, 'p')}});
  ASSERT_TRUE(text.error);
  EXPECT_EQ(text.error->kind, store::ErrorKind::io);
  EXPECT_EQ(text.error->path, s / "work/last_checkpoint");
  EXPECT_NE(text.error->message.find("[Errno 28]"), std::string::npos) << *text.error;
  EXPECT_EQ(read(s / "work/last_checkpoint"), s / "work/epoch_1.pth");
  EXPECT_TRUE(temporaries(s.base).empty());
}

TEST(StoreFs, Failure_ReadOnlyFilesystemNamesThePathAndChangesNothing) {
  Scratch s;
  if (!s.mount_tmpfs("work", "1m")) GTEST_SKIP() << "cannot mount a tmpfs here: " << std::strerror(errno);
  write(s / "work/epoch_1.pth", "precious");
  if (::mount("tmpfs", (s / "work").c_str(), "tmpfs", MS_REMOUNT | MS_RDONLY, nullptr) != 0)
    GTEST_SKIP() << "cannot remount read-only: " << std::strerror(errno);
  auto before = listing(s.base);
  auto applied = make_store(s, Ordering::safe).apply(evict_then_save(s, "epoch_2.pth"), fake_writer(""));
  ASSERT_TRUE(applied.error);
  EXPECT_EQ(applied.error->kind, store::ErrorKind::io);
  EXPECT_EQ(applied.error->path, s / "work/epoch_2.pth");
  EXPECT_NE(applied.error->message.find(std::strerror(EROFS)), std::string::npos) << *applied.error;
  EXPECT_EQ(listing(s.base), before);
}

TEST(StoreFs, Failure_PermissionDeniedNamesThePath) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
  Scratch s;
  write(s / "work/epoch_1.pth", "precious");
  fs::permissions(s / "work", fs::perms::owner_read | fs::perms::owner_exec);
  auto applied = make_store(s, Ordering::safe).apply(evict_then_save(s, "epoch_2.pth"), fake_writer(""));
  fs::permissions(s / "work", fs::perms::owner_all);
  ASSERT_TRUE(applied.error);
  EXPECT_EQ(applied.error->path, s / "work/epoch_2.pth");
  EXPECT_NE(applied.error->message.find(std::strerror(EACCES)), std::string::npos) << *applied.error;
  EXPECT_EQ(read(s / "work/epoch_1.pth"), "precious");
}

// --- mirrors and ranks ----------------------------------------------------------------

TEST(StoreFs, E30_RuntimeInfoMirrorFollowsTheReducer) {
  Scratch s;
  auto kwargs = kw({{"interval", 1}, {"max_keep_ckpts", 2}, {"save_best", "acc"}});
  auto events = mmengine_trace(s / "work", true, 3, 1,
                               {py::Dict{{"acc", 0.1}}, py::Dict{{"acc", 0.3}}, py::Dict{{"acc", 0.2}}});
  auto state = ckpt::hook::init(ckpt::hook_config_from_kwargs(kwargs)).value();
  auto st = Mirrored(s / "work", s / "work", store::Options{}, state.runtime_info);
  for (const auto& e : events) {
    auto out = ckpt::hook::step(state, e);
    ASSERT_TRUE(st.apply(out.plan, fake_writer("")).ok());
    state = out.state;
    EXPECT_EQ(st.runtime_info(), state.runtime_info);
  }
}

TEST(StoreFs, C51_RunnerMetaMirrorFollowsTheReducer) {
  Scratch s;
  auto plans = mmcv_plans(kw({{"interval", 1}}), s / "work", true, 2, 1);
  auto st = make_store(s, Ordering::safe);
  py::Value last;
  for (const auto& plan : plans) {
    ASSERT_TRUE(st.apply(plan, fake_writer("")).ok());
    for (const auto& e : plan)
      if (const auto* m = std::get_if<ckpt::SetRunnerMeta>(&e)) last = m->meta;
  }
  EXPECT_EQ(st.runner_meta(), last);
  EXPECT_NE(ckpt::json::dump(st.runner_meta()).find("epoch_2.pth"), std::string::npos);
}

TEST(StoreFs, Options_OtherRanksWriteNothingButMirrorRuntimeInfo) {
  Scratch s;
  auto events = mmengine_trace(s / "work", true, 2, 1);
  for (auto& e : events) std::visit([](auto& x) { x.runner.is_main_process = false; }, e);
  auto plans = mmengine_plans(kw({{"interval", 1}, {"max_keep_ckpts", 1}}), events);
  Mirrored st(s / "work", s / "work", {.main_process = false});
  int calls = 0;
  auto writer = [&](const store::Payload&, store::Sink&) -> std::optional<std::string> {
    ++calls;
    return std::nullopt;
  };
  for (const auto& plan : plans) ASSERT_TRUE(st.apply(plan, writer).ok());
  EXPECT_EQ(calls, 0);
  EXPECT_FALSE(fs::exists(s / "work"));
  EXPECT_EQ(*py::find(st.runtime_info(), "last_ckpt"), py::Value(s / "work/epoch_2.pth"));
}

TEST(StoreFs, Payload_WriterSeesTheReferencesRuntimeInfoInEitherOrdering) {
  // E25 stores last_ckpt before E26 saves; the safe ordering applies runtime
  // info after the write, yet the writer must serialise the same message hub.
  for (auto ordering : {Ordering::reference, Ordering::safe}) {
    Scratch s;
    auto plans = mmengine_plans(kw({{"interval", 1}, {"max_keep_ckpts", 1}}), mmengine_trace(s / "work", true, 2, 1));
    auto st = make_store(s, ordering);
    std::vector<py::Value> seen;
    auto writer = [&](const store::Payload& p, store::Sink&) -> std::optional<std::string> {
      const auto* last = py::find(p.runtime_info, "last_ckpt");
      seen.push_back(last ? *last : py::Value("<absent>"));
      return std::nullopt;
    };
    for (const auto& plan : plans) ASSERT_TRUE(st.apply(plan, writer).ok());
    EXPECT_EQ(seen, (std::vector<py::Value>{s / "work/epoch_1.pth", s / "work/epoch_2.pth"})) << ordering;
  }
}

// --- properties over realistic runs -------------------------------------------------

/// A generated mmengine run, made concrete under a tree's base directory.
struct Scenario {
  std::vector<std::pair<std::string, py::Value>> kwargs;  // without out_dir
  bool by_epoch = true;
  int epochs = 1;
  int iters_per_epoch = 1;
  std::vector<py::Dict> metrics;
  bool out_dir = false;  // checkpoints under <base>/ckpt/work instead of <base>/work
  bool resume = false;   // keep_ckpt_ids [101, 102, 103] with their files on disk, one a tree
  bool legacy = false;   // mmcv instead of mmengine

  py::Dict kwargs_in(const Scratch& s) const {
    py::Dict d(kwargs.begin(), kwargs.end());
    if (out_dir) d.emplace_back("out_dir", s / "ckpt");
    return d;
  }
  std::string checkpoints(const Scratch& s) const { return out_dir ? s / "ckpt/work" : s / "work"; }
  Mirrored store_in(const Scratch& s, Ordering ordering) const {
    return Mirrored(out_dir ? s / "ckpt" : s / "work", s / "work", {.ordering = ordering});
  }
  /// The files a resumed run finds, and its runtime info.
  py::Dict prepare(const Scratch& s) const {
    write(s / "outside/canary/keep.txt", "keep");
    if (!resume) return {};
    std::string dir = checkpoints(s);
    write(dir + "/epoch_101.pth", "resumed 101\nEND");
    write(dir + "/epoch_102.pth/shard.bin", "resumed 102");
    fs::create_directory_symlink(s / "outside/canary", dir + "/epoch_102.pth/escape");
    write(dir + "/epoch_103.pth", "resumed 103\nEND");
    return {{"keep_ckpt_ids", py::Value::list({101, 102, 103})}};
  }
  std::vector<Plan> plans(const Scratch& s, py::Dict info) const {
    if (legacy) return mmcv_plans(kwargs_in(s), s / "work", by_epoch, epochs, iters_per_epoch);
    return mmengine_plans(kwargs_in(s), mmengine_trace(s / "work", by_epoch, epochs, iters_per_epoch, metrics),
                          std::move(info));
  }
};

std::ostream& operator<<(std::ostream& os, const Scenario& s) {
  return os << (s.legacy ? "mmcv" : "mmengine") << " kwargs=" << py::Value(py::Dict(s.kwargs.begin(), s.kwargs.end()))
            << " by_epoch=" << s.by_epoch << " epochs=" << s.epochs << " iters_per_epoch=" << s.iters_per_epoch
            << " metrics=" << s.metrics.size() << " out_dir=" << s.out_dir << " resume=" << s.resume;
}

rc::Gen<Scenario> scenario(bool legacy, int min_keep) {
  return rc::gen::exec([=] {
    Scenario s;
    s.legacy = legacy;
    s.by_epoch = *rc::gen::arbitrary<bool>();
    s.epochs = *rc::gen::inRange(1, 6);
    s.iters_per_epoch = *rc::gen::inRange(1, 3);
    s.out_dir = *rc::gen::arbitrary<bool>();
    auto tmpl = *rc::gen::elementOf(std::vector<std::string>{"", "ckpt.pth", "sub/m{}.pth", "{:03d}.pth"});
    s.kwargs = {{"interval", *rc::gen::inRange(1, 4)},
                {"by_epoch", s.by_epoch},
                {"max_keep_ckpts", *rc::gen::inRange(min_keep, 4)},
                {"save_last", *rc::gen::arbitrary<bool>()}};
    if (!tmpl.empty()) s.kwargs.emplace_back("filename_tmpl", tmpl);
    if (legacy) {
      if (*rc::gen::arbitrary<bool>()) s.kwargs.emplace_back("create_symlink", false);
      return s;
    }
    s.kwargs.emplace_back("save_begin", *rc::gen::inRange(0, 2));
    s.resume = s.by_epoch && tmpl.empty() && *rc::gen::arbitrary<bool>();
    if (*rc::gen::arbitrary<bool>()) {
      s.kwargs.emplace_back("save_best", "acc");
      int validations = s.by_epoch ? s.epochs : s.epochs * s.iters_per_epoch;
      for (int v = 0; v < validations; ++v)
        s.metrics.push_back({{"acc", *rc::gen::elementOf(std::vector<py::Value>{0.0, 0.25, 0.5, 1.0, py::none})}});
    }
    if (*rc::gen::arbitrary<bool>()) s.kwargs.emplace_back("published_keys", py::Value::list({"meta", "state_dict"}));
    return s;
  });
}

void both_orderings_leave_the_same_files(const Scenario& sc) {
  Scratch ref_tree, safe_tree;
  auto ref_plans = sc.plans(ref_tree, sc.prepare(ref_tree));
  auto safe_plans = sc.plans(safe_tree, sc.prepare(safe_tree));
  RC_ASSERT(ref_plans.size() == safe_plans.size());
  auto ref = sc.store_in(ref_tree, Ordering::reference);
  auto safe = sc.store_in(safe_tree, Ordering::safe);
  auto shown = [](const Scratch& s, const py::Dict& info) {
    return replace_all(ckpt::json::dump(py::Value(info)), s.base.string(), "<base>");
  };
  bool evicted = false, published = false, absorbed = false;
  for (std::size_t i = 0; i < ref_plans.size(); ++i) {
    auto a = ref.apply(ref_plans[i], fake_writer(ref_tree.base.string()));
    auto b = safe.apply(safe_plans[i], fake_writer(safe_tree.base.string()));
    // Where one fails, both fail alike, and the run ends there.
    RC_ASSERT(a.ok() == b.ok());
    if (!a.ok()) {
      RC_ASSERT(a.error->kind == b.error->kind);
      RC_ASSERT(fs::path(a.error->path).lexically_relative(ref_tree.base) ==
                fs::path(b.error->path).lexically_relative(safe_tree.base));
      break;
    }
    RC_ASSERT(listing(ref_tree.base) == listing(safe_tree.base));
    RC_ASSERT(shown(ref_tree, ref.runtime_info()) == shown(safe_tree, safe.runtime_info()));
    evicted = evicted || !a.removed.empty();
    published = published || has<ckpt::Publish>(ref_plans[i]);
    absorbed = absorbed || store::schedule(ref_plans[i], Ordering::safe).size() < ref_plans[i].size();
  }
  RC_CLASSIFY(evicted, "evicts");
  RC_CLASSIFY(published, "publishes");
  RC_CLASSIFY(absorbed, "B61 absorbed");
  RC_ASSERT(read(safe_tree / "outside/canary/keep.txt") == "keep");
}

RC_GTEST_PROP(StoreFs, E24_BothOrderingsLeaveTheSameFiles, ()) {
  both_orderings_leave_the_same_files(*scenario(false, -1));
}

RC_GTEST_PROP(StoreFs, C52_BothOrderingsLeaveTheSameFiles, ()) {
  both_orderings_leave_the_same_files(*scenario(true, -1));
}

/// The periodic checkpoints on disk that are complete.
std::size_t complete_periodic(const Scenario& sc, const Scratch& s, const std::set<std::string>& periodic) {
  std::size_t n = 0;
  for (const auto& name : periodic)
    if (fs::is_regular_file(sc.checkpoints(s) + "/" + name) && complete(sc.checkpoints(s) + "/" + name)) ++n;
  return n;
}

RC_GTEST_PROP(StoreFs, E28_SafeOrderingKeepsACompleteCheckpointAtEveryCrashPoint, ()) {
  // Crash after every effect of every event's safe schedule: from the
  // pre-event state, apply a prefix, and look at what a restart would find.
  auto sc = *scenario(false, 1);
  Scratch s;
  auto plans = sc.plans(s, sc.prepare(s));
  auto live = sc.store_in(s, Ordering::safe);
  std::set<std::string> periodic;  // names of the periodic checkpoints saved so far (complete once applied)
  bool any_saved = sc.resume;
  Scratch snap;
  const fs::path& snapshot = snap.base;
  for (const auto& plan : plans) {
    fs::remove_all(snapshot);
    fs::copy(s.base, snapshot, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
    Plan order = store::schedule(plan, Ordering::safe);
    for (std::size_t k = 0; k <= order.size(); ++k) {
      fs::remove_all(s.base);
      fs::copy(snapshot, s.base, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
      auto crashed = sc.store_in(s, Ordering::reference);  // applies the prefix as given
      crashed.apply(Plan(order.begin(), order.begin() + static_cast<long>(k)), fake_writer(s.base.string()));
      auto names = periodic;
      bool saved = any_saved;
      for (std::size_t j = 0; j < k; ++j)
        if (const auto* save = std::get_if<ckpt::SaveCheckpoint>(&order[j])) {
          if (save->filename.rfind("best_", 0) == 0) continue;
          names.insert(save->filename);
          saved = true;
        }
      if (sc.resume) names.insert({"epoch_101.pth", "epoch_103.pth"});
      if (saved) RC_ASSERT(complete_periodic(sc, s, names) >= 1);
      // E27: last_checkpoint, once written, names a complete checkpoint
      if (fs::exists(s / "work/last_checkpoint")) RC_ASSERT(complete(read(s / "work/last_checkpoint")));
      RC_ASSERT(temporaries(s.base).empty());
    }
    fs::remove_all(s.base);
    fs::copy(snapshot, s.base, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
    RC_ASSERT(live.apply(plan, fake_writer(s.base.string())).ok());
    for (const auto& name : saved_names(plan))
      if (name.rfind("best_", 0) != 0) {
        periodic.insert(name);
        any_saved = true;
      }
  }
}

// --- surface ------------------------------------------------------------------------

TEST(StoreFs, Surface_ValuesCompareAndPrint) {
  store::Applied a;
  a.written = {"/w/exp/epoch_1.pth"};
  a.error = store::Error{store::ErrorKind::io, "/w/exp/epoch_1.pth", "write: [Errno 28] No space left on device"};
  std::ostringstream os;
  os << a << " " << Ordering::safe << " " << store::ErrorKind::containment;
  EXPECT_EQ(os.str(),
            "Applied(written=['/w/exp/epoch_1.pth'], removed=[], texts=[], error=io error at '/w/exp/epoch_1.pth': "
            "write: [Errno 28] No space left on device) safe containment");
  EXPECT_EQ(a, a);
  EXPECT_FALSE(a.ok());
  EXPECT_EQ(store::Options{}, (store::Options{.ordering = Ordering::safe, .main_process = true}));
}

}  // namespace

// --- errors as the reference's exceptions ------------------------------------------

TEST(StoreFs, Errors_AreThePythonExceptionsAProgramWouldMeet) {
  Scratch s;
  auto st = make_store(s, Ordering::reference);
  auto save = [&](const std::string& name) {
    return Plan{ckpt::SaveCheckpoint{s / "work", name, true, true, {}, true, {}}};
  };
  // a directory where the file goes: the rename's errno, as Python's subclass
  fs::create_directories(s / "work/epoch_1.pth");
  auto dir = st.apply(save("epoch_1.pth"), fake_writer(""));
  ASSERT_TRUE(dir.error);
  EXPECT_EQ(dir.error->err, EISDIR);
  EXPECT_EQ(store::python_exception(*dir.error).type, "IsADirectoryError");
  EXPECT_NE(store::python_exception(*dir.error).message.find("[Errno 21]"), std::string::npos);
  // leaving the roots (into the scratch tree, never above it): the store's own refusal
  auto out = st.apply(save("../escape.pth"), fake_writer(""));
  ASSERT_TRUE(out.error);
  EXPECT_EQ(store::python_exception(*out.error).type, "ContainmentError");
  // what the reference raises itself (FileClient has no rmtree: E16)
  auto tree = st.apply({ckpt::RemoveCheckpoint{s / "work/epoch_1.pth", false}});
  ASSERT_TRUE(tree.error);
  EXPECT_EQ(store::python_exception(*tree.error).type, "AttributeError");
  // a writer names its exception, or has an errno, or neither
  auto eof = st.apply(save("a.pth"), [](const store::Payload&, store::Sink&) -> std::optional<std::string> {
    return "EOFError: Ran out of input";
  });
  ASSERT_TRUE(eof.error);
  EXPECT_EQ(store::python_exception(*eof.error).type, "EOFError");
  EXPECT_EQ(store::python_exception(*eof.error).message, "Ran out of input");
  auto plain = st.apply(save("b.pth"), failing_writer);
  ASSERT_TRUE(plain.error);
  EXPECT_EQ(store::python_exception(*plain.error).type, "RuntimeError");
  EXPECT_EQ(store::python_exception(store::Error{store::ErrorKind::writer, "p", "write: full", ENOSPC}).type, "OSError");
  EXPECT_EQ(store::python_exception(store::Error{store::ErrorKind::io, "p", "open", ENOENT}).type, "FileNotFoundError");
  EXPECT_EQ(store::python_exception(store::Error{store::ErrorKind::io, "p", "open", EACCES}).type, "PermissionError");
}

TEST(StoreFs, E28_FailedEffectAndDoneSayWhatTheReferenceDidBeforeRaising) {
  Scratch s;
  auto plans = mmengine_plans(kw({{"interval", 1}, {"max_keep_ckpts", 1}}), mmengine_trace(s / "work", true, 2, 1));
  auto st = make_store(s, Ordering::reference);
  auto evicting = first_eviction(plans);
  apply_until(st, plans, evicting, fake_writer(s.base.string()));
  const py::Dict before = st.info;
  auto applied = st.store.apply(plans[evicting], failing_writer, before);
  ASSERT_TRUE(applied.failed_effect);
  EXPECT_TRUE(std::holds_alternative<ckpt::SaveCheckpoint>(plans[evicting][*applied.failed_effect]));
  for (std::size_t i : applied.done) EXPECT_LT(i, *applied.failed_effect);  // the reference's order: before the save
  // E24/E25 ran: keep_ckpt_ids and last_ckpt moved on though the save failed
  auto after = store::runtime_info_after(before, plans[evicting], applied);
  EXPECT_EQ(*py::find(after, "last_ckpt"), py::Value(s / "work/epoch_2.pth"));
  EXPECT_NE(after, before);
}
