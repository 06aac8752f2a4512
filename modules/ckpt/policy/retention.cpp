// Bodies of ckpt.policy:retention.
module;
#include <cstdint>
#include <deque>
#include <gsl/assert>
#include <optional>
#include <ostream>
#include <string>
#include <vector>
module ckpt.policy;
import ckpt.py;

namespace ckpt {

namespace {

// `deque(iterable)`: what Python iterates for each JSON shape.
py::Result<std::deque<py::Value>> iterate(const py::Value& v) {
  std::deque<py::Value> out;
  if (v.is<py::List>()) {
    out.assign(v.as<py::List>().begin(), v.as<py::List>().end());
  } else if (v.is<py::Dict>()) {
    for (const auto& [k, _] : v.as<py::Dict>()) out.emplace_back(k);
  } else if (v.is<std::string>()) {
    const auto& s = v.as<std::string>();
    for (std::size_t i = 0; i < s.size();) {
      std::size_t n = 1;
      auto lead = static_cast<unsigned char>(s[i]);
      if (lead >= 0xF0) n = 4;
      else if (lead >= 0xE0) n = 3;
      else if (lead >= 0xC0) n = 2;
      out.emplace_back(s.substr(i, n));
      i += n;
    }
  } else {
    return py::type_error("'" + std::string(py::type_name(v)) + "' object is not iterable", "E16");
  }
  return out;
}

}  // namespace

py::Result<ResumeTrim> trim_resumed(const py::Value* stored, const py::Value& max_keep) {
  ResumeTrim out;
  out.stored_after = stored ? *stored : py::Value(py::List{});
  py::Value& ids = out.stored_after;
  for (;;) {
    auto n = py::len(ids);
    if (!n) return py::PyError{n.error().type, n.error().message, "E16"};
    auto longer = py::compare(py::Value(*n), py::Cmp::gt, max_keep);
    if (!longer) return longer.error();
    if (!*longer) break;
    if (!ids.is<py::List>()) {
      if (ids.is<py::Dict>()) return py::key_error("0", "E16");
      return py::attribute_error("'" + std::string(py::type_name(ids)) + "' object has no attribute 'pop'", "E16");
    }
    auto& list = ids.as<py::List>();
    out.dropped.push_back(list.front());
    list.erase(list.begin());
  }
  return out;
}

py::Result<KeepIds> bounded_ids(const py::Value& ids, const py::Value& max_keep) {
  // CPython's deque() converts maxlen before it iterates the items
  if (!py::is_int(max_keep))
    return py::type_error("'" + std::string(py::type_name(max_keep)) + "' object cannot be interpreted as an integer",
                          "E16");
  auto items = iterate(ids);
  if (!items) return items.error();
  KeepIds keep{std::move(*items), py::to_int(max_keep)};
  while (static_cast<std::int64_t>(keep.ids.size()) > keep.maxlen) keep.ids.pop_front();
  return keep;
}

py::Result<Retention> retain(KeepIds keep, const py::Value& max_keep, const py::Value& step) {
  Retention out;
  if (!keep.ids.empty() && py::eq(keep.ids.back(), step)) {
    out.keep = std::move(keep);
    return out;
  }
  if (py::eq(py::Value(static_cast<std::int64_t>(keep.ids.size())), max_keep)) {
    out.evicted = keep.ids.front();
    keep.ids.pop_front();
  }
  keep.ids.push_back(step);
  // a deque with maxlen drops from the left when appending to a full one
  while (static_cast<std::int64_t>(keep.ids.size()) > keep.maxlen) keep.ids.pop_front();
  out.keep = std::move(keep);
  out.appended = true;
  return out;
}

py::Result<std::optional<RemoveUntilGap>> legacy_retention(const std::string& out_dir, const py::Value& filename_tmpl,
                                                           std::int64_t current, const py::Value& max_keep,
                                                           const py::Value& interval) {
  // range(current - max_keep * interval, 0, -interval)
  if (!py::is_number(max_keep) || !py::is_number(interval))
    return py::type_error("unsupported operand type(s) for *: '" + std::string(py::type_name(max_keep)) + "' and '" +
                              std::string(py::type_name(interval)) + "'",
                          "C52");
  if (!py::is_int(max_keep) || !py::is_int(interval))
    return py::type_error("'float' object cannot be interpreted as an integer", "C52");
  std::int64_t step = -py::to_int(interval);
  std::int64_t start = current - py::to_int(max_keep) * py::to_int(interval);
  if (step == 0) return py::value_error("range() arg 3 must not be zero", "C53");
  bool empty = step < 0 ? start <= 0 : start >= 0;
  if (empty) return std::optional<RemoveUntilGap>();
  // Every step formats alike, so the first tells whether the template works.
  auto first = py::format_value(filename_tmpl, py::Value(start));
  if (!first) return first.error();
  return std::optional<RemoveUntilGap>(RemoveUntilGap{out_dir, filename_tmpl.as<std::string>(), start, step});
}

std::vector<std::int64_t> series_steps(const RemoveUntilGap& s, std::size_t limit) {
  Expects(s.step != 0);  // legacy_retention never builds a zero-step series (C53 raises instead)
  std::vector<std::int64_t> out;
  for (std::int64_t k = s.start; (s.step < 0 ? k > 0 : k < 0) && out.size() < limit; k += s.step) out.push_back(k);
  return out;
}

std::string series_path(const RemoveUntilGap& s, std::int64_t step) {
  auto name = py::format_value(py::Value(s.filename_tmpl), py::Value(step));
  return py::path::join(s.out_dir, name ? *name : s.filename_tmpl);
}

std::ostream& operator<<(std::ostream& os, const KeepIds& keep) {
  os << "deque([";
  for (std::size_t i = 0; i < keep.ids.size(); ++i) os << (i ? ", " : "") << keep.ids[i];
  return os << "], maxlen=" << keep.maxlen << ")";
}

}  // namespace ckpt
