// ckpt.store.fs under a failing disk: every system call that changes the
// disk (open, write, fsync, directory fsync, close, rename, unlink, mkdir,
// symlink, statvfs) fails in turn, at each of its calls in a save + evict
// + best + publish cycle (mmengine) and a save + link + retention cycle
// (mmcv), with ENOSPC, EIO, EDQUOT and EACCES, and writes come back short
// or interrupted (EINTR). The store is the real one; only the file layer
// (ckpt/internal/file_layer.hpp) is told to fail. After each fault
// (E28, spec section D): the checkpoints and last_checkpoint that existed
// stay intact unless the plan removes them (the safe ordering: even then,
// until its new files are durable), no temporary file is left, the error
// names the path and the errno, the same event applied again without the
// fault succeeds, and the run ends with the fault-free run's files.
#include <gtest/gtest.h>
#include <algorithm>
#include <array>
#include <cerrno>
#include <functional>
#include <iostream>
#include <cstdint>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <variant>
#include <vector>
#include "faults.support.hpp"
#include "scratch.support.hpp"
import ckpt;
import ckpt.store.fs;

namespace {

namespace fs = std::filesystem;
namespace py = ckpt::py;
namespace store = ckpt::store::fs;
using ckpt::Plan;
using faults::Call;
using faults::Fault;
using store::Ordering;

// Deterministic payloads, ending in END (a torn file is recognisable);
// published files copy their source.
std::optional<std::string> payload(const store::Payload& p, store::Sink& out) {
  std::string data;
  if (const auto* s = std::get_if<ckpt::SaveCheckpoint>(&p.effect))
    data = "save " + s->filename + " " + ckpt::json::dump(py::Value(s->meta)) + " " +
           ckpt::json::dump(py::Value(ckpt::hook::hook_runtime_info(p.runtime_info)));
  else if (const auto* l = std::get_if<ckpt::LegacySaveCheckpoint>(&p.effect))
    data = "legacy " + l->filename;
  else
    data = "published " + scratch::read(std::get<ckpt::Publish>(p.effect).source);
  data += std::string(3000, '.') + "END";
  out.write(data.data(), data.size());
  return std::nullopt;
}

// A run of one profile: the events, replayable from the start.
struct Run {
  virtual ~Run() = default;
  virtual std::size_t size() const = 0;
  virtual Plan plan(std::size_t i) = 0;  // the event's plan on the current state
  virtual void commit() = 0;             // the state that plan came from, kept
  virtual py::Dict runtime_info() const = 0;
};

py::Dict kwargs_of(std::initializer_list<std::pair<const char*, py::Value>> items) {
  py::Dict d;
  for (const auto& [k, v] : items) d.emplace_back(k, v);
  return d;
}

// mmengine: two epochs with validation, keep one, a best per epoch (E35
// removes the previous), the E37 re-save, publishing (E42); out_dir and
// work_dir do not exist yet (mkdir).
struct MmengineRun : Run {
  std::vector<ckpt::hook::Event> events;
  ckpt::hook::State state, next;
  explicit MmengineRun(const scratch::Dir& d) {
    using namespace ckpt::hook;
    auto kwargs = kwargs_of({{"interval", 1}, {"max_keep_ckpts", 1}, {"save_best", "acc"},
                             {"out_dir", d / "ckpts"}, {"published_keys", py::List{"meta", "state_dict"}}});
    state = init(ckpt::hook_config_from_kwargs(kwargs)).value();
    const std::string work = d / "w/exp";
    auto r = [&](std::int64_t e, std::int64_t i) { return Runner{work, e, i, 2, 4, true}; };
    events = {BeforeTrain{r(0, 0)},
              AfterTrainEpoch{r(0, 2)}, AfterValEpoch{r(1, 2), {{"acc", 0.5}}},
              AfterTrainEpoch{r(1, 4)}, AfterValEpoch{r(2, 4), {{"acc", 0.6}}},
              AfterTrain{r(2, 4)}};
  }
  std::size_t size() const override { return events.size(); }
  Plan plan(std::size_t i) override {
    auto out = ckpt::hook::step(state, events[i]);
    EXPECT_FALSE(out.error) << *out.error;
    next = out.state;
    return out.plan;
  }
  void commit() override { state = next; }
  py::Dict runtime_info() const override { return state.runtime_info; }
};

// mmcv: three epochs, keep one (C52 after the save), latest.pth (C56).
struct MmcvRun : Run {
  std::vector<ckpt::legacy::Event> events;
  ckpt::legacy::State state, next;
  explicit MmcvRun(const scratch::Dir& d) {
    using namespace ckpt::legacy;
    state = init(ckpt::legacy_config_from_kwargs(kwargs_of({{"interval", 1}, {"max_keep_ckpts", 1}})),
                 RunnerKind::epoch, py::Dict{});
    const std::string work = d / "w/exp";
    auto r = [&](std::int64_t e, std::int64_t i) { return Runner{work, e, i, 3, 6, 0}; };
    events = {BeforeRun{r(0, 0)}, AfterTrainEpoch{r(0, 2)}, AfterTrainEpoch{r(1, 4)}, AfterTrainEpoch{r(2, 6)},
              AfterRun{r(3, 6)}};
  }
  std::size_t size() const override { return events.size(); }
  Plan plan(std::size_t i) override {
    auto out = ckpt::legacy::step(state, events[i]);
    EXPECT_FALSE(out.error) << *out.error;
    next = out.state;
    return out.plan;
  }
  void commit() override { state = next; }
  py::Dict runtime_info() const override { return {}; }
};

std::set<std::string> removal_targets(const Plan& plan) {
  std::set<std::string> out;
  for (const auto& e : plan) {
    if (const auto* r = std::get_if<ckpt::RemoveCheckpoint>(&e)) out.insert(r->path);
    if (const auto* s = std::get_if<ckpt::RemoveUntilGap>(&e))
      for (auto step : ckpt::series_steps(*s, 100)) out.insert(ckpt::series_path(*s, step));
  }
  return out;
}

// What the plan writes in place: such a file may be replaced, whole, before
// a later effect fails (E37 re-saves the periodic checkpoint with the new best).
std::set<std::string> write_targets(const Plan& plan) {
  std::set<std::string> out;
  for (const auto& e : plan) {
    if (const auto* s = std::get_if<ckpt::SaveCheckpoint>(&e)) out.insert(py::path::join(s->out_dir, s->filename));
    if (const auto* l = std::get_if<ckpt::LegacySaveCheckpoint>(&e)) out.insert(l->filepath);
    if (const auto* w = std::get_if<ckpt::WriteText>(&e)) out.insert(w->path);
  }
  return out;
}

bool is_write(const ckpt::Effect& e) {
  return std::holds_alternative<ckpt::SaveCheckpoint>(e) || std::holds_alternative<ckpt::LegacySaveCheckpoint>(e) ||
         std::holds_alternative<ckpt::WriteText>(e) || std::holds_alternative<ckpt::Symlink>(e) ||
         std::holds_alternative<ckpt::Publish>(e);
}

struct Outcome {
  scratch::Listing files;
  std::vector<std::string> failures;  // invariants broken, with the fault
  bool fired = false;
  bool errored = false;
};

template <class R>
Outcome run(Ordering ordering, std::optional<Fault> fault, faults::Injector& inject) {
  scratch::Dir d("ckpt-faults");
  R r(d);
  store::Store st(d / "ckpts", d / "w/exp", store::Options{.ordering = ordering});
  Outcome out;
  auto fail = [&](const std::string& what) { out.failures.push_back((fault ? fault->text() : "no fault") + ": " + what); };
  inject.arm(fault);
  for (std::size_t i = 0; i < r.size(); ++i) {
    const Plan plan = r.plan(i);
    const scratch::Listing before = scratch::listing(d.base);
    const py::Dict info = r.runtime_info();
    store::Applied applied = st.apply(plan, payload, info);
    if (applied.error) {
      out.errored = true;
      const store::Error& e = *applied.error;
      if (!fault || fault->short_write || fault->err == EINTR) fail("unexpected error " + ::testing::PrintToString(e));
      if (e.kind != store::ErrorKind::io || e.err != (fault ? fault->err : 0) || e.path.empty())
        fail("the error does not name the path and the errno: " + ::testing::PrintToString(e));
      const std::string text = store::python_exception(e).message;
      if (text.find(e.path) == std::string::npos || text.find("[Errno " + std::to_string(e.err) + "]") == std::string::npos)
        fail("the exception's message lacks the path or errno: " + text);
      // What existed stays, unless the plan removes it; under the safe
      // ordering, also that, while the plan's writes were not all done.
      const scratch::Listing after = scratch::listing(d.base);
      const auto removed = removal_targets(plan);
      const auto rewritten = write_targets(plan);
      bool writes_done = true;
      for (std::size_t k = 0; k < plan.size(); ++k)
        if (is_write(plan[k]) && std::find(applied.done.begin(), applied.done.end(), k) == applied.done.end())
          writes_done = false;
      for (const auto& [rel, bytes] : before) {
        const bool plan_removes = removed.count(d / rel) > 0;
        const bool may_go = plan_removes && (ordering == Ordering::reference || writes_done);
        if (bytes == "dir" || may_go) continue;
        auto it = after.find(rel);
        if (it == after.end()) fail(rel + " is gone");
        else if (it->second != bytes && rel.find("last_checkpoint") == std::string::npos &&
                 it->second.rfind("link", 0) != 0 && !rewritten.count(d / rel))
          fail(rel + " changed");  // only what the plan writes is replaced (whole: the torn check below)
      }
      for (const auto& [rel, bytes] : after)
        if (bytes != "dir" && bytes.rfind("link", 0) != 0 && (bytes.size() < 3 || bytes.substr(bytes.size() - 3) != "END") &&
            rel.find("last_checkpoint") == std::string::npos)
          fail(rel + " is torn");
      if (after.count("w/exp/last_checkpoint")) {  // E28: the reference's may name what it evicted
        const std::string named = after.at("w/exp/last_checkpoint");
        const std::string bytes = scratch::read(named);
        const bool complete = fs::is_regular_file(named) && bytes.size() >= 3 && bytes.substr(bytes.size() - 3) == "END";
        if (!complete && (ordering == Ordering::safe || !removed.count(named)))
          fail("last_checkpoint names " + named + ", which is not a complete checkpoint");
      }
      if (!scratch::temporaries(d.base).empty()) fail("temporary files left behind");
      inject.disarm();
      applied = st.apply(plan, payload, info);  // the same event, the fault gone
      if (applied.error) fail("the event failed again without the fault: " + ::testing::PrintToString(*applied.error));
    }
    r.commit();
  }
  out.fired = inject.fired();
  out.files = scratch::listing(d.base);
  // paths differ between scratch directories only by the base, and so do
  // the hashes in published names (E42: of bytes that hold paths)
  scratch::Listing normal;
  for (auto [rel, bytes] : out.files) {
    for (auto at = bytes.find(d.base.string()); at != std::string::npos; at = bytes.find(d.base.string()))
      bytes.replace(at, d.base.string().size(), "<base>");
    normal.emplace(std::regex_replace(rel, std::regex("-[0-9a-f]{8}\\.pth$"), "-<sha8>.pth"), bytes);
  }
  out.files = std::move(normal);
  return out;
}

template <class R>
void matrix(Ordering ordering) {
  faults::Injector inject;
  const Outcome clean = run<R>(ordering, std::nullopt, inject);
  ASSERT_TRUE(clean.failures.empty()) << clean.failures.front();
  std::array<int, faults::all_calls.size()> counts{};
  for (Call c : faults::all_calls) counts[static_cast<std::size_t>(c)] = inject.count(c);
  int tried = 0, failed_runs = 0;
  std::string summary;
  for (Call c : faults::all_calls) {
    const int n = counts[static_cast<std::size_t>(c)];
    summary += std::string(faults::name(c)) + "=" + std::to_string(n) + " ";
    for (const Fault& f : faults::faults_for(c, n)) {
      Outcome o = run<R>(ordering, f, inject);
      ++tried;
      EXPECT_TRUE(o.fired) << f.text() << " never happened";
      for (const auto& failure : o.failures) ADD_FAILURE() << failure;
      if (o.files != clean.files) ADD_FAILURE() << f.text() << ": the run ended with other files";
      failed_runs += !o.failures.empty() || o.files != clean.files;
    }
  }
  std::cout << "[fault matrix] " << ::testing::UnitTest::GetInstance()->current_test_info()->name() << ": calls "
            << summary << "-> " << tried << " faults, " << tried - failed_runs << " survived\n";
}

TEST(StoreFsFaults, E28_EveryCallOfAnMmengineCycleFailsAndNothingIsLost_Safe) { matrix<MmengineRun>(Ordering::safe); }
TEST(StoreFsFaults, E28_EveryCallOfAnMmengineCycleFailsAndNothingIsLost_Reference) {
  matrix<MmengineRun>(Ordering::reference);
}
TEST(StoreFsFaults, C52_EveryCallOfAnMmcvCycleFailsAndNothingIsLost_Safe) { matrix<MmcvRun>(Ordering::safe); }
TEST(StoreFsFaults, C52_EveryCallOfAnMmcvCycleFailsAndNothingIsLost_Reference) { matrix<MmcvRun>(Ordering::reference); }

}  // namespace
