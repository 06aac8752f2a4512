// Test support: short builders for events and runs, and plan queries, so
// each test reads as the clause it pins.
#pragma once
#include <gtest/gtest.h>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>
import ckpt;

namespace support {

namespace py = ckpt::py;
using ckpt::Plan;

inline const std::string work_dir = "/w/exp";

/// The runner as a hook call sees it.
inline ckpt::hook::Runner at(std::int64_t epoch, std::int64_t iter = 0, std::int64_t max_epochs = 100,
                             std::int64_t max_iters = 1000) {
  return {work_dir, epoch, iter, max_epochs, max_iters, true};
}

/// A constructed hook; fails the test on a construction error.
inline ckpt::hook::State make(const py::Dict& kwargs, py::Dict runtime_info = {}) {
  auto s = ckpt::hook::init(ckpt::hook_config_from_kwargs(kwargs), std::move(runtime_info));
  EXPECT_TRUE(s.ok()) << "construction failed: " << (s.ok() ? py::PyError{} : s.error());
  return s.ok() ? std::move(s).value() : ckpt::hook::State{};
}

/// The construction error (or an empty error when construction succeeds).
inline py::PyError construction_error(const py::Dict& kwargs) {
  auto s = ckpt::hook::init(ckpt::hook_config_from_kwargs(kwargs));
  return s.ok() ? py::PyError{} : s.error();
}

/// Folds events through the reducer; stops at the first error.
struct Run {
  ckpt::hook::State state;
  std::vector<ckpt::hook::Step> steps;
  std::optional<py::PyError> error;
  const Plan& plan(std::size_t i) const { return steps.at(i).plan; }
  const Plan& last() const { return steps.back().plan; }
};

inline Run run(ckpt::hook::State s, const std::vector<ckpt::hook::Event>& events) {
  Run r;
  for (const auto& e : events) {
    auto out = ckpt::hook::step(std::move(s), e);
    s = out.state;
    r.steps.push_back(out);
    if (out.error) {
      r.error = out.error;
      break;
    }
  }
  r.state = std::move(s);
  return r;
}

/// A whole epoch-based run: before_train, then `epochs` train epochs of
/// `iters_per_epoch` iterations each, with validation after every epoch when
/// `metrics` has an entry for it.
inline std::vector<ckpt::hook::Event> epochs(std::int64_t n, std::int64_t iters_per_epoch = 10,
                                             std::vector<py::Dict> metrics = {}) {
  std::vector<ckpt::hook::Event> out{ckpt::hook::BeforeTrain{at(0, 0, n, n * iters_per_epoch)}};
  for (std::int64_t e = 0; e < n; ++e) {
    out.push_back(ckpt::hook::AfterTrainEpoch{at(e, (e + 1) * iters_per_epoch, n, n * iters_per_epoch)});
    if (static_cast<std::size_t>(e) < metrics.size() && !metrics[e].empty())
      out.push_back(ckpt::hook::AfterValEpoch{at(e + 1, (e + 1) * iters_per_epoch, n, n * iters_per_epoch),
                                              metrics[e]});
  }
  return out;
}

template <class E>
std::vector<E> effects_of(const Plan& plan) {
  std::vector<E> out;
  for (const auto& e : plan)
    if (const auto* x = std::get_if<E>(&e)) out.push_back(*x);
  return out;
}

/// File names saved by a plan, in order.
inline std::vector<std::string> saved(const Plan& plan) {
  std::vector<std::string> out;
  for (const auto& e : effects_of<ckpt::SaveCheckpoint>(plan)) out.push_back(e.filename);
  for (const auto& e : effects_of<ckpt::LegacySaveCheckpoint>(plan)) out.push_back(e.filename);
  return out;
}

/// Paths removed by a plan, in order.
inline std::vector<std::string> removed(const Plan& plan) {
  std::vector<std::string> out;
  for (const auto& e : effects_of<ckpt::RemoveCheckpoint>(plan)) out.push_back(e.path);
  return out;
}

/// All file names saved over a run.
inline std::vector<std::string> all_saved(const Run& r) {
  std::vector<std::string> out;
  for (const auto& s : r.steps)
    for (auto& f : saved(s.plan)) out.push_back(f);
  return out;
}

/// Index of the first effect of type E in a plan (or -1).
template <class E>
long index_of(const Plan& plan) {
  for (std::size_t i = 0; i < plan.size(); ++i)
    if (std::holds_alternative<E>(plan[i])) return static_cast<long>(i);
  return -1;
}

inline py::Value info(const ckpt::hook::State& s, const std::string& key) {
  const auto* v = py::find(s.runtime_info, key);
  return v ? *v : py::Value(std::string("<absent>"));
}

}  // namespace support
