// Bodies of ckpt.policy:schedule.
module;
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
module ckpt.policy;
import ckpt.py;

namespace ckpt {

namespace {
py::Result<bool> divides(const py::Value& d, const py::Value& n) {
  auto r = py::mod(d, n);
  if (!r) return r.error();
  return py::eq(*r, py::Value(0));
}
}  // namespace

std::optional<py::PyError> counter_out_of_range(std::string_view field, std::int64_t value) {
  constexpr std::int64_t limit = std::int64_t{1} << 62;
  if (value < limit && value > -limit) return std::nullopt;
  return py::PyError{.type = "OverflowError",
                     .message = std::string(field) + " = " + std::to_string(value) +
                                ": ckpt counts epochs and iterations below 2**62 (" + std::to_string(limit) + ")"};
}

py::Result<bool> every_n(std::int64_t counter, const py::Value& n, const py::Value& start) {
  auto d = py::sub(py::Value(counter + 1), start);
  if (!d) return py::PyError{d.error().type, d.error().message, "E19"};
  auto non_negative = py::compare(*d, py::Cmp::ge, py::Value(0));
  if (!non_negative) return non_negative.error();
  if (!*non_negative) return false;
  auto positive = py::compare(n, py::Cmp::gt, py::Value(0));
  if (!positive) return py::PyError{positive.error().type, positive.error().message, "E19"};
  if (!*positive) return false;
  return divides(*d, n);
}

py::Result<bool> should_save(std::int64_t counter, std::int64_t max, const py::Value& interval,
                             const py::Value& save_begin, const py::Value& save_last) {
  auto periodic = every_n(counter, interval, save_begin);
  if (!periodic || *periodic) return periodic;
  return py::truthy(save_last) && counter + 1 == max;
}

py::Result<bool> legacy_should_save(std::int64_t counter, std::int64_t max, const py::Value& interval,
                                    const py::Value& save_last) {
  auto positive = py::compare(interval, py::Cmp::gt, py::Value(0));
  if (!positive) return py::PyError{positive.error().type, positive.error().message, "C49"};
  if (*positive) {
    auto hit = divides(py::Value(counter + 1), interval);
    if (!hit || *hit) return hit;
  }
  return py::truthy(save_last) && counter + 1 == max;
}

}  // namespace ckpt
