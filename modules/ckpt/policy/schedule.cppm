// ckpt.policy:schedule — whether a train step ends in a periodic save
// (E17–E21 for mmengine, C49 for mmcv), with Python's arithmetic on the
// user's values so a bad type fails exactly where the reference fails.
module;
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string_view>
#include <utility>
export module ckpt.policy:schedule;
import ckpt.py;

export namespace ckpt {

/// Epochs and iterations are int64 here and Python ints in the reference:
/// the policy adds to them and compares them exactly while |value| < 2**62.
/// A runner beyond that (a hostile checkpoint's meta, a fuzzer: INT64_MAX + 1
/// was undefined behaviour) is refused with this OverflowError, which names
/// the field; the reference would go on with a big int.
std::optional<py::PyError> counter_out_of_range(std::string_view field, std::int64_t value);

/// The same over a runner's epoch and iter (mmengine's and mmcv's runners).
/// max_epochs and max_iters are only compared, never added to, so any value
/// passes (the adapter marks an unset one with INT64_MIN).
template <class Runner>
std::optional<py::PyError> runner_out_of_range(const Runner& r) {
  for (auto [field, value] : {std::pair<std::string_view, std::int64_t>{"runner.epoch", r.epoch},
                              {"runner.iter", r.iter}})
    if (auto e = counter_out_of_range(field, value)) return e;
  return std::nullopt;
}

/// E19: `d = counter + 1 - start; d % n == 0 if d >= 0 and n > 0 else False`.
py::Result<bool> every_n(std::int64_t counter, const py::Value& n, const py::Value& start);

/// E17/E18/E21: `every_n(counter, interval, save_begin) or (save_last and
/// counter + 1 == max)`; `counter` is the epoch (or iter) the runner reads.
py::Result<bool> should_save(std::int64_t counter, std::int64_t max, const py::Value& interval,
                             const py::Value& save_begin, const py::Value& save_last);

/// C49: `(counter + 1) % n == 0 if n > 0 else False`, or the last step.
py::Result<bool> legacy_should_save(std::int64_t counter, std::int64_t max, const py::Value& interval,
                                    const py::Value& save_last);

}  // namespace ckpt
