// ckpt.policy:schedule — whether a train step ends in a periodic save
// (E17–E21 for mmengine, C49 for mmcv), with Python's arithmetic on the
// user's values so a bad type fails exactly where the reference fails.
module;
#include <cstdint>
export module ckpt.policy:schedule;
import ckpt.py;

export namespace ckpt {

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
