// Protocol section 4 (1.1) in C++, for the differential property tests: the
// same rules as tools/conform (numbers by value, NaN == NaN, the non-finite
// strings are floats, booleans are not numbers, `-<8 hex>.pth` normalised,
// `files`/`removed` re-sorted after that, in saves and runtime_info the
// strings under mmcv_version/mmengine_version and time normalised,
// failed_step compared when both sides have one, `message` never compared).
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <tuple>
#include "adapter.hpp"

namespace adapter {

namespace py = ckpt::py;

namespace {

// docs/protocol-notes.md: a version or a clock is not behaviour.
py::Value stamp(const std::string& key, const py::Value& v) {
  if (!v.is<std::string>()) return v;
  if (key == "mmcv_version" || key == "mmengine_version") return py::Value("<version>");
  if (key == "time") return py::Value("<time>");
  return v;
}

py::Value normalise(const py::Value& v, bool stamped = false) {
  static const std::regex hash("-[0-9a-f]{8}\\.pth");
  if (v.is<std::string>()) {
    const auto& s = v.as<std::string>();
    if (s == "NaN") return py::Value(std::numeric_limits<double>::quiet_NaN());
    if (s == "Infinity") return py::Value(std::numeric_limits<double>::infinity());
    if (s == "-Infinity") return py::Value(-std::numeric_limits<double>::infinity());
    return py::Value(std::regex_replace(s, hash, "-<sha8>.pth"));
  }
  if (v.is<py::List>()) {
    py::List out;
    for (const auto& x : v.as<py::List>()) out.push_back(normalise(x, stamped));
    return py::Value(std::move(out));
  }
  if (v.is<py::Dict>()) {
    py::Dict out;
    for (const auto& [k, x] : v.as<py::Dict>())
      out.emplace_back(normalise(py::Value(k)).as<std::string>(), normalise(stamped ? stamp(k, x) : x, stamped));
    return py::Value(std::move(out));
  }
  return v;
}

bool is_num(const py::Value& v) { return v.is<std::int64_t>() || v.is<double>(); }

std::optional<std::string> diff(const std::string& path, const py::Value& a, const py::Value& b) {
  auto differ = [&] { return path + ": " + py::repr(a) + " != " + py::repr(b); };
  if (is_num(a) && is_num(b)) {
    double x = py::to_double(a), y = py::to_double(b);
    if (x == y || (std::isnan(x) && std::isnan(y))) return std::nullopt;
    return differ();
  }
  if (a.v.index() != b.v.index()) return differ();
  if (a.is<py::List>()) {
    const auto &la = a.as<py::List>(), &lb = b.as<py::List>();
    for (std::size_t i = 0; i < std::max(la.size(), lb.size()); ++i) {
      std::string p = path + "[" + std::to_string(i) + "]";
      if (i >= la.size() || i >= lb.size())
        return p + ": " + (i < la.size() ? py::repr(la[i]) : "<absent>") + " != " +
               (i < lb.size() ? py::repr(lb[i]) : "<absent>");
      if (auto d = diff(p, la[i], lb[i])) return d;
    }
    return std::nullopt;
  }
  if (a.is<py::Dict>()) {
    const auto &da = a.as<py::Dict>(), &db = b.as<py::Dict>();
    for (const auto& [k, x] : da) {
      const auto* y = py::find(db, k);
      if (!y) return path + "." + k + ": " + py::repr(x) + " != <absent>";
      if (auto d = diff(path + "." + k, x, *y)) return d;
    }
    for (const auto& [k, y] : db)
      if (!py::find(da, k)) return path + "." + k + ": <absent> != " + py::repr(y);
    return std::nullopt;
  }
  if (a == b) return std::nullopt;
  return differ();
}

py::Value field_of(const py::Value& step, const char* name, bool sorted, bool dict) {
  const py::Value* v = step.is<py::Dict>() ? py::find(step.as<py::Dict>(), name) : nullptr;
  bool stamped = std::string_view(name) == "saves" || std::string_view(name) == "runtime_info";
  py::Value out = v ? normalise(*v, stamped) : (dict ? py::Value(py::Dict{}) : py::Value(py::List{}));
  if (sorted && out.is<py::List>() &&
      std::all_of(out.as<py::List>().begin(), out.as<py::List>().end(), [](const py::Value& x) { return x.is<std::string>(); }))
    std::sort(out.as<py::List>().begin(), out.as<py::List>().end(),
              [](const py::Value& x, const py::Value& y) { return x.as<std::string>() < y.as<std::string>(); });
  return out;
}

const py::Value& get(const py::Value& obs, const char* key) {
  static const py::Value absent;
  const py::Value* v = obs.is<py::Dict>() ? py::find(obs.as<py::Dict>(), key) : nullptr;
  return v ? *v : absent;
}

std::optional<std::string> step_difference(const std::string& p, const py::Value& a, const py::Value& b) {
  for (const auto& [name, sorted, dict] : {std::tuple{"saves", false, false}, {"removed", true, false},
                                           {"files", true, false}, {"links", false, true},
                                           {"runtime_info", false, true}, {"text", false, true}})
    if (auto d = diff(p + "." + name, field_of(a, name, sorted, dict), field_of(b, name, sorted, dict))) return d;
  return std::nullopt;
}

}  // namespace

std::optional<std::string> first_difference(const py::Value& base, const py::Value& obs) {
  const auto &ea = get(base, "error"), &eb = get(obs, "error");
  if (ea.is_none() != eb.is_none()) return "error: " + py::repr(ea) + " != " + py::repr(eb);
  if (!ea.is_none()) {
    for (const char* k : {"type", "event"})
      if (auto d = diff(std::string("error.") + k, get(ea, k), get(eb, k))) return d;
  }
  const auto &sa = get(base, "steps"), &sb = get(obs, "steps");
  py::List la = sa.is<py::List>() ? sa.as<py::List>() : py::List{};
  py::List lb = sb.is<py::List>() ? sb.as<py::List>() : py::List{};
  for (std::size_t i = 0; i < std::max(la.size(), lb.size()); ++i) {
    std::string p = "steps[" + std::to_string(i) + "]";
    if (i >= la.size() || i >= lb.size()) return p + (i < la.size() ? ": only in the first" : ": only in the second");
    if (auto d = step_difference(p, la[i], lb[i])) return d;
  }
  // protocol 1.1: the failing event, when both sides observed it
  const auto &fa = get(base, "failed_step"), &fb = get(obs, "failed_step");
  if (!fa.is_none() && !fb.is_none()) return step_difference("failed_step", fa, fb);
  return std::nullopt;
}

}  // namespace adapter
