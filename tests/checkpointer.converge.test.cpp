// Resume converges (issue 11, deliverable 0): wherever a process dies, the
// resumed run ends as an uninterrupted one (files, each checkpoint's runtime
// info and tensors, the final runtime info, the model). A child process
// (this test binary, re-run with CKPT_CRASH_CHILD) trains until the file
// layer SIGKILLs it at a chosen system call; the test then resumes from
// what it left. Each convergence step of the safe ordering has a test at
// the crash point that needs it; a sweep over every rename, unlink and
// directory fsync of a run checks them together; the reference ordering
// keeps the reference's resume (no removals, no validation first).
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "checkpointer.support.hpp"
#include "faults.support.hpp"
#include "scratch.support.hpp"

extern char** environ;

namespace {

using namespace checkpointer_test;
using faults::Call;
using faults::Fault;

const char* mmengine_hook = R"({"interval": 1, "max_keep_ckpts": 2, "save_best": "acc", "published_keys": ["meta", "state_dict"]})";
const char* mmcv_hook = R"({"interval": 1, "max_keep_ckpts": 1})";

// Validation accuracy per epoch: new bests at 1 and 3 (E35 removes best_1,
// E37 re-saves epoch_3), none at 2 and 4.
double acc_of(std::int64_t epoch) {
  static const double acc[] = {0, 0.5, 0.4, 0.7, 0.6};
  return acc[epoch];
}

struct RunSpec {
  std::string work;
  ckpt::Ordering ordering = ckpt::Ordering::safe;
  bool async = true;
  bool mmcv = false;
};

struct Ended {
  std::string runtime_info;
  torch::Tensor model;
  ckpt::ResumePoint at;
  std::string log;
};

// A trainer's whole life on `s.work`: resume, validate first when told,
// train to the end.
Ended train_to_end(const RunSpec& s) {
  Model m;
  Logs logs;
  ckpt::Options o{s.work, s.mmcv ? mmcv_hook : mmengine_hook, s.async};
  o.ordering = s.ordering;
  o.profile = s.mmcv ? ckpt::Profile::mmcv : ckpt::Profile::mmengine;
  o.log = logs.sink();
  ckpt::Checkpointer ck(o);
  ck.track("model", *m.net);
  ck.track("optimizer", m.optimizer);
  Ended out;
  out.at = ck.resume();
  ck.before_train(out.at, 4, 8);
  if (out.at.validate_first) ck.after_val_epoch(out.at.epoch, out.at.iter, {{"acc", acc_of(out.at.epoch)}});
  train(ck, m, out.at, 4, 2, acc_of);
  out.runtime_info = ck.runtime_info_json();
  out.model = m.flat();
  out.log = logs.all();
  return out;
}

// --- the child: trains until the armed call kills it ---------------------------------

std::string encode(const RunSpec& s, const Fault& f) {
  std::ostringstream o;
  o << s.work << "\n" << (s.ordering == ckpt::Ordering::safe) << s.async << s.mmcv << "\n"
    << static_cast<int>(f.call) << "\n" << f.k << "\n" << f.path_part;
  return o.str();
}

TEST(CheckpointerCrashChild, TrainsUntilTheArmedCallKillsIt) {
  const char* spec = std::getenv("CKPT_CRASH_CHILD");
  if (!spec) GTEST_SKIP() << "the child process of the convergence tests";
  std::istringstream in(spec);
  RunSpec s;
  std::string flags, call, k;
  Fault f;
  std::getline(in, s.work);
  std::getline(in, flags);
  std::getline(in, call);
  std::getline(in, k);
  std::getline(in, f.path_part);
  s.ordering = flags[0] == '1' ? ckpt::Ordering::safe : ckpt::Ordering::reference;
  s.async = flags[1] == '1';
  s.mmcv = flags[2] == '1';
  f.call = static_cast<Call>(std::stoi(call));
  f.k = std::stoi(k);
  f.crash = true;
  faults::Injector inject;
  inject.arm(f);
  train_to_end(s);
  std::_Exit(3);  // the call never came
}

/// Runs the child; true when the armed call killed it.
bool crash(const RunSpec& s, const Fault& f) {
  std::vector<std::string> env{"CKPT_CRASH_CHILD=" + encode(s, f)};
  for (char** e = environ; *e; ++e)
    if (std::string(*e).rfind("CKPT_CRASH_CHILD=", 0) != 0) env.emplace_back(*e);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string self = "/proc/self/exe", filter = "--gtest_filter=CheckpointerCrashChild.*";
  char* argv[] = {self.data(), filter.data(), nullptr};
  pid_t pid = 0;
  if (::posix_spawn(&pid, self.c_str(), nullptr, nullptr, argv, envp.data()) != 0) return false;
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

/// Temporary files of processes other than this one (the child's).
std::vector<std::string> stray(const std::string& work) {
  std::vector<std::string> out;
  const std::regex temp("\\.ckpt-tmp\\.([0-9]+)\\.[0-9]+");
  for (const auto& name : store_test::files_in(work)) {
    std::smatch m;
    if (std::regex_match(name, m, temp) && std::stol(m[1]) != ::getpid()) out.push_back(name);
  }
  return out;
}

// --- what two runs are compared on ------------------------------------------------

std::string normalised(std::string s, const std::string& dir) {
  for (auto at = s.find(dir); at != std::string::npos; at = s.find(dir, at)) s.replace(at, dir.size(), "<dir>");
  return std::regex_replace(s, std::regex("-[0-9a-f]{8}\\.pth"), "-<sha8>.pth");
}

/// Every file by name, and each checkpoint's runtime info and tensors.
std::vector<std::string> outcome(const std::string& work, const std::vector<std::string>& planted = {}) {
  std::vector<std::string> out;
  for (const auto& name : store_test::files_in(work)) {
    if (std::find(planted.begin(), planted.end(), name) != planted.end()) continue;  // the test's own files
    std::string line = normalised(name, work);
    if (name.size() > 4 && name.substr(name.size() - 4) == ".pth" && name.rfind(".ckpt-tmp.", 0) != 0) {
      ts::Value file = ts::load(work + "/" + name);
      const ts::Value* hub = dict(file).find("message_hub");
      const ts::Value* meta = dict(file).find("meta");
      line += " info=" + (hub ? normalised(ts::to_json(*hub), work) : "-");
      if (meta) line += " meta=" + ts::to_json(dict(*meta).find("epoch") ? *dict(*meta).find("epoch") : ts::Value());
      if (const ts::Value* sd = dict(file).find("state_dict")) line += " tensors=" + store_test::text(ts::to_json(*sd));
      std::ostringstream sum;
      for (const auto& [k, v] : dict(*dict(file).find("state_dict")).items)
        if (v.is<at::Tensor>()) sum << v.as<at::Tensor>().to(torch::kDouble).sum().item<double>() << ",";
      line += " sums=" + sum.str();
    }
    out.push_back(line);
  }
  return out;
}

struct Baseline {
  std::vector<std::string> files;
  std::string runtime_info;
  torch::Tensor model;
};

const Baseline& baseline(const RunSpec& like) {
  static std::map<std::string, Baseline> cache;
  const std::string key = std::to_string(like.ordering == ckpt::Ordering::safe) + std::to_string(like.mmcv);
  if (!cache.count(key)) {
    TempDir d;
    RunSpec s = like;
    s.work = d / "work";
    Ended e = train_to_end(s);
    cache[key] = {outcome(s.work), normalised(e.runtime_info, s.work), e.model};
  }
  return cache[key];
}

/// Crashes a run at `f`, resumes it to the end, and compares with the
/// uninterrupted run; returns the resumed run's ending for more checks.
/// `planted`: names after_crash put in the work directory, left out of the comparison.
Ended converges(RunSpec s, const Fault& f, const std::function<void(const std::string& work)>& after_crash = {},
                const std::vector<std::string>& planted = {}) {
  const Baseline& base = baseline(s);
  EXPECT_TRUE(crash(s, f)) << f.text() << ": the child was not killed there";
  if (after_crash) after_crash(s.work);
  Ended e = train_to_end(s);
  EXPECT_EQ(outcome(s.work, planted), base.files) << f.text() << "\n" << e.log;
  EXPECT_EQ(normalised(e.runtime_info, s.work), base.runtime_info) << f.text();
  EXPECT_TRUE(torch::equal(e.model, base.model)) << f.text();
  EXPECT_EQ(stray(s.work), std::vector<std::string>{}) << f.text() << ": temporary files left";
  return e;
}

Fault at(Call call, const char* path_part, int k = 1) {
  Fault f;
  f.call = call;
  f.k = k;
  f.path_part = path_part;
  f.crash = true;
  return f;
}

bool exists(const std::string& work, const char* name) { return store_test::exists(work + "/" + name); }


// --- each convergence step at the crash point that needs it ---------------------------

TEST(CheckpointerConverge, E24_AnEvictionTheCrashInterruptedIsCompletedAtResume) {
  TempDir d;
  RunSpec s{d / "work"};
  converges(s, at(Call::unlink, "epoch_1.pth"), [](const std::string& work) {
    // epoch_3 is durable and named by last_checkpoint; its keep_ckpt_ids [2, 3] let epoch_1 go
    EXPECT_TRUE(exists(work, "epoch_1.pth") && exists(work, "epoch_3.pth"));
  });
  EXPECT_FALSE(exists(s.work, "epoch_1.pth"));
}

TEST(CheckpointerConverge, E35_ABestFileTheRuntimeInfoNoLongerNamesIsRemovedAtResume) {
  TempDir d;
  RunSpec s{d / "work"};
  converges(s, at(Call::unlink, "best_acc_epoch_1.pth"), [](const std::string& work) {
    EXPECT_TRUE(exists(work, "best_acc_epoch_1.pth") && exists(work, "best_acc_epoch_3.pth"));
  });
  EXPECT_FALSE(exists(s.work, "best_acc_epoch_1.pth"));
}

TEST(CheckpointerConverge, E37_ABestSavedBeforeItsPeriodicResaveIsRedoneAfterValidatingFirst) {
  TempDir d;
  RunSpec s{d / "work"};
  // the second rename onto epoch_3.pth is E37's re-save; best_acc_epoch_3 is already there
  Ended e = converges(s, at(Call::rename, "epoch_3.pth", 2));
  EXPECT_TRUE(e.at.validate_first);
  EXPECT_EQ(e.at.epoch, 3);
}

TEST(CheckpointerConverge, E33_AValidationTheCrashPreventedRunsFirst) {
  TempDir d;
  RunSpec s{d / "work"};
  Ended e = converges(s, at(Call::rename, "best_acc_epoch_3.pth"));
  EXPECT_TRUE(e.at.validate_first);
  EXPECT_NE(e.log.find("validate first"), std::string::npos) << e.log;
}

TEST(CheckpointerConverge, E37_AValidatedAndResavedCheckpointIsNotValidatedAgain) {
  TempDir d;
  RunSpec s{d / "work"};
  // killed at epoch 4's save: epoch_3 (re-saved after its best) is what resumes
  Ended e = converges(s, at(Call::rename, "epoch_4.pth"));
  EXPECT_EQ(e.at.epoch, 3);
  EXPECT_FALSE(e.at.validate_first);
}

TEST(CheckpointerConverge, Sweep_TheKilledRunsTemporariesGoAndNothingElse) {
  TempDir d;
  RunSpec s{d / "work"};
  const std::string live = ".ckpt-tmp." + std::to_string(::getpid()) + ".7";  // a live process's: in use
  const std::vector<std::string> decoys{".ckpt-tmp.notapid", live, "x.ckpt-tmp.1.2", "epoch_x.pth"};
  scratch::Canaries canaries(d / "outside");
  converges(s, at(Call::fsync, "", 3), [&](const std::string& work) {
    EXPECT_FALSE(stray(work).empty());  // the killed write's
    for (const auto& n : decoys) store_test::write_file(work + "/" + n, "decoy");
  }, decoys);
  for (const auto& n : decoys) EXPECT_TRUE(exists(s.work, n.c_str())) << n;
  EXPECT_EQ(canaries.damage(), "");
}

TEST(CheckpointerConverge, C52_ARetentionTheCrashInterruptedIsCompletedAtResume) {
  TempDir d;
  RunSpec s{d / "work"};
  s.mmcv = true;
  // the last save's retention: epoch_4 is durable, epoch_3 not yet removed
  converges(s, at(Call::unlink, "epoch_3.pth"), [](const std::string& work) {
    EXPECT_TRUE(exists(work, "epoch_3.pth") && exists(work, "epoch_4.pth"));
  });
  EXPECT_FALSE(exists(s.work, "epoch_3.pth"));
}

TEST(CheckpointerConverge, E28_TheReferenceOrderingResumesAsTheReferenceDoes) {
  TempDir d;
  RunSpec s{d / "work", ckpt::Ordering::reference};
  ASSERT_TRUE(crash(s, at(Call::rename, "best_acc_epoch_3.pth")));
  Model m;
  ckpt::Options o{s.work, mmengine_hook, true};
  o.ordering = s.ordering;
  ckpt::Checkpointer ck(o);
  ck.track("model", *m.net);
  ck.track("optimizer", m.optimizer);
  auto resumed = ck.resume();
  EXPECT_EQ(resumed.epoch, 3);
  EXPECT_FALSE(resumed.validate_first);  // mmengine's Runner.resume goes on training
  // E35 removed best_1 before best_3 was written, and epoch_3's runtime info
  // still names it: the reference resumes with a best_ckpt already gone.
  EXPECT_FALSE(exists(s.work, "best_acc_epoch_1.pth"));
  EXPECT_NE(ck.runtime_info_json().find("best_acc_epoch_1.pth"), std::string::npos);
  EXPECT_EQ(stray(s.work), std::vector<std::string>{});  // the killed write's temporary is ours to sweep
}

// --- every crash point of a run ----------------------------------------------------

// Every rename, unlink and directory fsync of a run is a crash point.
void every_crash_point_converges(bool mmcv) {
  {
    std::vector<std::pair<Call, int>> counts;
    {
      TempDir d;
      faults::Injector inject;
      inject.arm(std::nullopt);
      RunSpec s{d / "work"};
      s.mmcv = mmcv;
      train_to_end(s);
      for (Call c : {Call::rename, Call::unlink, Call::dir_fsync}) counts.emplace_back(c, inject.count(c));
    }
    int points = 0;
    for (const auto& [call, n] : counts)
      for (int k = 1; k <= n; ++k) {
        TempDir d;
        RunSpec s{d / "work"};
        s.mmcv = mmcv;
        converges(s, at(call, "", k));
        ++points;
      }
    std::cout << "[crash points] " << (mmcv ? "mmcv" : "mmengine") << ": " << points << " converged\n";
  }
}

TEST(CheckpointerConverge, E24_E35_E37_EveryCrashPointOfAnMmengineRunConverges) { every_crash_point_converges(false); }
TEST(CheckpointerConverge, C52_C56_EveryCrashPointOfAnMmcvRunConverges) { every_crash_point_converges(true); }

}  // namespace
