// tools/bench policy: events per second through the reducer, both forms
// (pure `step` moving the state in and out, in-place `advance`).
// bench-policy [EPOCHS [ITERS [--json]]]; --json prints one JSON line.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>
import ckpt;

int main(int argc, char** argv) {
  std::int64_t epochs = argc > 1 ? std::stoll(argv[1]) : 100, iters = argc > 2 ? std::stoll(argv[2]) : 1000;
  const bool json = argc > 3 && std::string_view(argv[3]) == "--json";
  double rates[2] = {0, 0};
  int form = 0;
  using namespace ckpt;
  std::vector<hook::Event> trace;
  auto at = [&](std::int64_t e, std::int64_t i) { return hook::Runner{"work_dirs/exp", e, i, epochs, epochs * iters, true}; };
  trace.push_back(hook::BeforeTrain{at(0, 0)});
  std::int64_t it = 0;
  for (std::int64_t e = 0; e < epochs; ++e) {
    for (std::int64_t b = 0; b < iters; ++b, ++it) trace.push_back(hook::AfterTrainIter{at(e, it), b});
    trace.push_back(hook::AfterTrainEpoch{at(e, it)});
    trace.push_back(hook::AfterValEpoch{at(e + 1, it), {{"acc", 0.5 + 0.001 * static_cast<double>(e % 7)}, {"loss", 1.0}}});
  }
  auto run = [&](const char* name, auto&& one) {
    auto state = *hook::init(HookConfig{.interval = 2, .max_keep_ckpts = 3, .save_best = "acc"});
    auto t0 = std::chrono::steady_clock::now();
    std::size_t effects = 0;
    for (const auto& e : trace) effects += one(state, e);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rates[form++] = static_cast<double>(trace.size()) / s;
    if (!json)
      std::printf("%-8s %zu events, %zu effects, %.3f s, %.2f M events/s\n", name, trace.size(), effects, s,
                  static_cast<double>(trace.size()) / s / 1e6);
  };
  run("step", [](hook::State& state, const hook::Event& e) {
    auto out = hook::step(std::move(state), e);
    state = std::move(out.state);
    return out.plan.size();
  });
  run("advance", [](hook::State& state, const hook::Event& e) { return hook::advance(state, e).plan.size(); });
  if (json)
    std::printf("{\"events\": %zu, \"step_events_per_s\": %.1f, \"advance_events_per_s\": %.1f}\n", trace.size(),
                rates[0], rates[1]);
}
