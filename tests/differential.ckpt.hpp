// The `ckpt` profile with every extension keyword at its default against the
// live mmengine (docs/spec/extensions.md): the generated mmengine cases of
// differential.test.cpp, run by the C++ library as profile `ckpt` (the
// defaults sometimes spelled out, the events sometimes timed) and by the
// real mmengine as they are. Included at the end of differential.test.cpp,
// whose generators and reference process it uses.
#pragma once
#include <unistd.h>
#include <system_error>

namespace {

// One case as the ckpt profile runs it: the same hook and events, with the
// extension keywords at their defaults (each spelled out or not) and, for
// interval_seconds=None to ignore, times on the events.
Value as_ckpt_defaults(const Value& mmengine) {
  auto c = mmengine.as<py::Dict>();
  py::set(c, "profile", "ckpt");
  py::set(c, "id", "generated/ckpt-defaults");
  auto& hook = py::find(c, "hook")->as<py::Dict>();
  for (const auto& [key, value] : py::Dict{{"keep_best", 1}, {"keep_period", differential::null}, {"best_save_optimizer", false},
                                           {"interval_seconds", differential::null}})
    if (*rc::gen::inRange(0, 4) == 0) hook.emplace_back(key, value);
  if (*rc::gen::arbitrary<bool>()) {
    double t = 0;
    for (auto& e : py::find(c, "events")->as<py::List>()) e.as<py::Dict>().emplace_back("time", t += 7.5);
  }
  return Value(std::move(c));
}

// A tmpfs when there is one: the store fsyncs every write.
fs::path ckpt_scratch() {
  std::error_code ec;
  return fs::is_directory("/dev/shm", ec) && ::access("/dev/shm", W_OK) == 0 ? fs::path("/dev/shm")
                                                                              : fs::temp_directory_path();
}

void check_ckpt_defaults(const GenCase& c) {
  static int n = 0;
  Value ours_case = as_ckpt_defaults(c.json);
  fs::path dir = ckpt_scratch() / ("ckpt-diff-ckpt-" + std::to_string(::getpid())) / std::to_string(n++);
  fs::create_directories(dir);
  auto ours = adapter::run_case(adapter::parse_case(ours_case), dir);
  fs::remove_all(dir.parent_path());  // this process's own scratch directory
  auto reply = reference("mmengine").ask(ckpt::json::dump(c.json));
  RC_ASSERT(reply.has_value());
  auto theirs = ckpt::json::parse(*reply);
  RC_ASSERT(theirs.ok());
  auto difference = adapter::first_difference(*theirs, ours);
  if (difference)
    RC_FAIL(std::string(other_adapter() ? other_adapter() : "mmengine") + " vs cpp (profile ckpt): " + *difference +
            "\nas profile ckpt:\n" + ckpt::json::dump(ours_case));
}

}  // namespace

RC_GTEST_FIXTURE_PROP(Differential, CkptDefaultsAgreeWithMmengine, ()) {
  check_ckpt_defaults(*rc::gen::exec([] { return GenCase{differential::mmengine_case()}; }));
}
