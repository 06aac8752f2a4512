// ckpt::Checkpointer under a failing disk, background saves included: the
// file layer (ckpt/internal/file_layer.hpp) fails each system call of a
// save + evict + best + publish cycle in turn. The test links the
// Checkpointer's objects rather than its shared library, whose copy of the
// file layer is hidden inside it. After each failure (E28, docs/guide.md
// "Background saves"): a ckpt::Error naming the path and the errno, the
// hook's runtime info as before the failed call, last_checkpoint naming a
// checkpoint that loads (safe ordering), every checkpoint on disk loading,
// and the same call made again succeeding; the run ends with the files
// and runtime info of a run without the fault.
#include <gtest/gtest.h>

#include <cerrno>
#include <functional>
#include <iostream>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "checkpointer.support.hpp"
#include "faults.support.hpp"

namespace {

using namespace checkpointer_test;
using faults::Call;
using faults::Fault;

const char* hook = R"({"interval": 1, "max_keep_ckpts": 1, "save_best": "acc", "published_keys": ["meta", "state_dict"]})";

struct Result {
  std::vector<std::string> files;
  std::string runtime_info;
  std::vector<std::string> failures;
  bool errored = false;
};

// Three epochs of two iterations; every hook call is followed by wait(),
// so a background failure surfaces at the call that asked for the save.
// Faults are armed once epoch 1 begins (the cycle: a save that evicts, a
// best that replaces the previous one with its E37 re-save, publishing).
Result run(ckpt::Ordering ordering, bool async, std::optional<Fault> fault, faults::Injector& inject) {
  TempDir d;
  Model m;
  Logs logs;
  ckpt::Options o{d / "work", hook, async};
  o.ordering = ordering;
  o.log = logs.sink();
  ckpt::Checkpointer ck(o);
  ck.track("model", *m.net);
  ck.track("optimizer", m.optimizer);
  Result out;
  auto fail = [&](const std::string& what) { out.failures.push_back((fault ? fault->text() : "no fault") + ": " + what); };
  auto call = [&](const std::function<void()>& hook_call) {
    const std::string info = ck.runtime_info_json();
    try {
      hook_call();
      ck.wait();
      return;
    } catch (const ckpt::Error& e) {
      out.errored = true;
      if (!fault || fault->short_write || fault->err == EINTR) fail(std::string("unexpected error: ") + e.what());
      if (e.path.empty() || e.err != (fault ? fault->err : 0)) fail(std::string("no path or errno in: ") + e.what());
      if (ck.runtime_info_json() != info) fail("the runtime info changed: " + ck.runtime_info_json());
    }
    const std::string last = store_test::read_file(d / "work/last_checkpoint");
    if (ordering == ckpt::Ordering::safe && !last.empty()) {
      try {
        ts::load(last);
      } catch (const std::exception& x) {
        fail(std::string("last_checkpoint names a checkpoint that does not load: ") + x.what());
      }
    }
    for (const auto& name : store_test::files_in(d / "work")) {
      if (name.rfind(".ckpt-tmp.", 0) == 0) fail("temporary file left: " + name);
      if (name.size() < 4 || name.substr(name.size() - 4) != ".pth") continue;
      try {
        ts::load(d / ("work/" + name));
      } catch (const std::exception& x) {
        fail(name + " does not load: " + x.what());
      }
    }
    inject.disarm();
    try {
      hook_call();
      ck.wait();
    } catch (const ckpt::Error& e) {
      fail(std::string("the call failed again without the fault: ") + e.what());
    }
  };
  call([&] { ck.before_train({}, 3, 6); });
  std::int64_t iter = 0;
  for (std::int64_t e = 0; e < 3; ++e) {
    if (e == 1) inject.arm(fault);
    for (std::int64_t b = 0; b < 2; ++b, ++iter) {
      m.step(iter);
      call([&] { ck.after_train_iter(e, iter, b); });
    }
    call([&] { ck.after_train_epoch(e, iter); });
    call([&] { ck.after_val_epoch(e + 1, iter, {{"acc", rising(e + 1)}}); });
  }
  call([&] { ck.after_train(3, iter); });
  // a published name's hash is of bytes holding the save's wall-clock second (meta.time)
  for (std::string name : store_test::files_in(d / "work"))
    out.files.push_back(std::regex_replace(name, std::regex("-[0-9a-f]{8}\\.pth$"), "-<sha8>.pth"));
  out.runtime_info = ck.runtime_info_json();
  for (auto at = out.runtime_info.find(d.path); at != std::string::npos; at = out.runtime_info.find(d.path))
    out.runtime_info.replace(at, d.path.size(), "<dir>");
  return out;
}

void matrix(ckpt::Ordering ordering, bool async) {
  faults::Injector inject;
  const Result clean = run(ordering, async, std::nullopt, inject);
  ASSERT_TRUE(clean.failures.empty()) << clean.failures.front();
  std::vector<std::pair<Call, int>> counts;
  for (Call c : faults::all_calls) counts.emplace_back(c, inject.count(c));
  int tried = 0, survived = 0;
  std::string summary;
  for (const auto& [c, n] : counts) {
    summary += std::string(faults::name(c)) + "=" + std::to_string(n) + " ";
    for (int k = 1; k <= n; ++k)
      for (int err : {ENOSPC, EIO}) {
        const Fault f{c, k, err, false};
        Result r = run(ordering, async, f, inject);
        ++tried;
        EXPECT_TRUE(inject.fired()) << f.text() << " never happened";
        for (const auto& failure : r.failures) ADD_FAILURE() << failure;
        EXPECT_EQ(r.files, clean.files) << f.text();
        EXPECT_EQ(r.runtime_info, clean.runtime_info) << f.text();
        survived += r.failures.empty() && r.files == clean.files && r.runtime_info == clean.runtime_info;
      }
    if (c == Call::write)
      for (int k = 1; k <= n; ++k)
        for (const Fault& f : {Fault{c, k, EIO, true}, Fault{c, k, EINTR, false}}) {
          Result r = run(ordering, async, f, inject);
          ++tried;
          EXPECT_FALSE(r.errored) << f.text();
          EXPECT_EQ(r.files, clean.files) << f.text();
          survived += r.failures.empty() && !r.errored && r.files == clean.files;
        }
  }
  std::cout << "[fault matrix] " << ::testing::UnitTest::GetInstance()->current_test_info()->name() << ": calls "
            << summary << "-> " << tried << " faults, " << survived << " survived\n";
}

TEST(CheckpointerFaults, E28_BackgroundSavesSurviveAFaultAtEveryCall_Safe) { matrix(ckpt::Ordering::safe, true); }
TEST(CheckpointerFaults, E28_SynchronousSavesSurviveAFaultAtEveryCall_Safe) { matrix(ckpt::Ordering::safe, false); }
TEST(CheckpointerFaults, E28_BackgroundSavesSurviveAFaultAtEveryCall_Reference) {
  matrix(ckpt::Ordering::reference, true);
}

}  // namespace
