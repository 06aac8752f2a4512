// libFuzzer: the hook reducers (ckpt.hook and ckpt.legacy, E1-E43,
// C46-C58) over fuzzed configurations and events, with no disk: keyword
// arguments from a JSON prefix of the input, then events (which hook, the
// counters, metrics) from the rest. Never a crash (a broken precondition
// inside the core aborts, Expects); errors are the reference's exceptions,
// with a type; every state and plan prints.
#include <fuzzer/FuzzedDataProvider.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz.support.hpp"
import ckpt;

namespace {

namespace py = ckpt::py;

std::int64_t counter(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange<int>(0, 3)) {
    case 0: return in.ConsumeIntegralInRange<std::int64_t>(0, 12);
    case 1: return in.ConsumeIntegralInRange<std::int64_t>(-3, 100);
    case 2: return in.ConsumeIntegral<std::int64_t>();
    default: return 0;
  }
}

py::Value metric(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange<int>(0, 5)) {
    case 0: return py::none;
    case 1: return py::Value(std::numeric_limits<double>::quiet_NaN());
    case 2: return py::Value(static_cast<long long>(in.ConsumeIntegral<std::int32_t>()));
    case 3: return py::Value(in.ConsumeBool() ? INFINITY : -INFINITY);
    default: return py::Value(in.ConsumeFloatingPointInRange<double>(-2.0, 2.0));
  }
}

py::Dict metrics(FuzzedDataProvider& in) {
  static const char* keys[] = {"acc", "loss", "coco/bbox_mAP", "mIoU", "auto", ""};
  py::Dict out;
  const int n = in.ConsumeIntegralInRange<int>(0, 3);
  for (int i = 0; i < n; ++i) {
    std::string key = in.ConsumeBool() ? keys[in.ConsumeIntegralInRange<int>(0, 5)] : in.ConsumeRandomLengthString(12);
    py::set(out, key, metric(in));
  }
  return out;
}

void printable(const auto& x) {
  std::ostringstream s;
  s << x;
}

void mmengine(const py::Dict& kwargs, FuzzedDataProvider& in) {
  auto state = ckpt::hook::init(ckpt::hook_config_from_kwargs(kwargs));
  if (!state) {
    if (state.error().type.empty()) fuzz::broken("a construction error without a type");
    return;
  }
  auto s = std::move(state).value();
  while (in.remaining_bytes() > 0) {
    ckpt::hook::Runner r{"/w/exp", counter(in), counter(in), counter(in), counter(in), in.ConsumeBool()};
    ckpt::hook::Event event;
    switch (in.ConsumeIntegralInRange<int>(0, 4)) {
      case 0: event = ckpt::hook::BeforeTrain{r}; break;
      case 1: event = ckpt::hook::AfterTrainIter{r, counter(in)}; break;
      case 2: event = ckpt::hook::AfterTrainEpoch{r}; break;
      case 3: event = ckpt::hook::AfterValEpoch{r, metrics(in)}; break;
      default: event = ckpt::hook::AfterTrain{r}; break;
    }
    auto out = ckpt::hook::advance(s, event);
    printable(out.plan);
    if (out.error && out.error->type.empty()) fuzz::broken("an error without a type");
  }
  printable(s);
}

void mmcv(const py::Dict& kwargs, FuzzedDataProvider& in) {
  auto kind = in.ConsumeBool() ? ckpt::legacy::RunnerKind::iter : ckpt::legacy::RunnerKind::epoch;
  py::Value meta = in.ConsumeBool() ? py::Value(py::Dict{}) : py::none;
  auto s = ckpt::legacy::init(ckpt::legacy_config_from_kwargs(kwargs), kind, meta);
  while (in.remaining_bytes() > 0) {
    ckpt::legacy::Runner r{"/w/exp", counter(in), counter(in), counter(in), counter(in), in.ConsumeIntegralInRange<int>(0, 1)};
    ckpt::legacy::Event event;
    switch (in.ConsumeIntegralInRange<int>(0, 3)) {
      case 0: event = ckpt::legacy::BeforeRun{r}; break;
      case 1: event = ckpt::legacy::AfterTrainIter{r}; break;
      case 2: event = ckpt::legacy::AfterTrainEpoch{r}; break;
      default: event = ckpt::legacy::AfterRun{r}; break;
    }
    auto out = ckpt::legacy::advance(s, event);
    printable(out.plan);
    if (out.error && out.error->type.empty()) fuzz::broken("an error without a type");
  }
  printable(s);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  const bool legacy = in.ConsumeBool();
  auto parsed = ckpt::json::parse(in.ConsumeRandomLengthString(4096));
  py::Dict kwargs = parsed && parsed->is<py::Dict>() ? parsed->as<py::Dict>() : py::Dict{};
  if (legacy) mmcv(kwargs, in);
  else mmengine(kwargs, in);
  return 0;
}
