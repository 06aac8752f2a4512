// Bodies of ckpt.policy:extensions.
module;
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>
module ckpt.policy;
import ckpt.py;

namespace ckpt {

namespace {

py::PyError about(py::PyError e, const char* parameter, const py::Value& value) {
  e.parameter = parameter;
  e.value = py::repr(value);
  return e;
}

bool plain_int(const py::Value& v) { return v.is<std::int64_t>(); }  // bool is not a count

py::PyError not_a(const char* parameter, const char* wanted, const py::Value& v, const char* clause) {
  return about(py::type_error(std::string("\"") + parameter + "\" should be " + wanted + ", but got " +
                                  py::class_repr(v),
                              clause),
               parameter, v);
}

}  // namespace

CkptConfig ckpt_config_from_kwargs(const py::Dict& kwargs) {
  CkptConfig c;
  py::Dict rest;
  for (const auto& [key, value] : kwargs) {
    if (key == "keep_best") c.extensions.keep_best = value;
    else if (key == "keep_period") c.extensions.keep_period = value;
    else if (key == "best_save_optimizer") c.extensions.best_save_optimizer = value;
    else if (key == "interval_seconds") c.extensions.interval_seconds = value;
    else rest.emplace_back(key, value);
  }
  c.hook = hook_config_from_kwargs(rest);
  return c;
}

py::Result<ExtensionSettings> validate_extensions(const Extensions& x) {
  ExtensionSettings s;
  // X1
  if (!plain_int(x.keep_best)) return not_a("keep_best", "an int", x.keep_best, "X1");
  if (x.keep_best.as<std::int64_t>() < 1)
    return about(py::value_error("\"keep_best\" should be at least 1, but got " + py::repr(x.keep_best), "X1"),
                 "keep_best", x.keep_best);
  s.keep_best = x.keep_best.as<std::int64_t>();
  // X2
  if (!x.keep_period.is_none()) {
    if (!plain_int(x.keep_period)) return not_a("keep_period", "an int or None", x.keep_period, "X2");
    if (x.keep_period.as<std::int64_t>() < 1)
      return about(py::value_error("\"keep_period\" should be at least 1, but got " + py::repr(x.keep_period), "X2"),
                   "keep_period", x.keep_period);
    s.keep_period = x.keep_period.as<std::int64_t>();
  }
  // X3
  if (!x.best_save_optimizer.is<bool>()) return not_a("best_save_optimizer", "a bool", x.best_save_optimizer, "X3");
  s.best_save_optimizer = x.best_save_optimizer.as<bool>();
  // X4
  if (!x.interval_seconds.is_none()) {
    const auto& v = x.interval_seconds;
    if (v.is<bool>() || !py::is_number(v)) return not_a("interval_seconds", "a number or None", v, "X4");
    double seconds = py::to_double(v);
    if (!(std::isfinite(seconds) && seconds > 0))
      return about(py::value_error("\"interval_seconds\" should be a positive finite number, but got " + py::repr(v),
                                   "X4"),
                   "interval_seconds", v);
    s.interval_seconds = seconds;
  }
  return s;
}

bool archival(const ExtensionSettings& s, const py::Value& step) {
  if (!s.keep_period || !step.is<std::int64_t>()) return false;
  return step.as<std::int64_t>() % *s.keep_period == 0;
}

bool time_due(const ExtensionSettings& s, std::optional<double> last_save, std::optional<double> now) {
  return s.interval_seconds && last_save && now && *now - *last_save >= *s.interval_seconds;
}

py::Result<BestUpdate> keep_best(std::vector<BestEntry> kept, const py::Value& score, const std::string& path,
                                 Rule rule, std::int64_t n) {
  BestUpdate out;
  bool full = static_cast<std::int64_t>(kept.size()) >= n;
  py::Value threshold = full ? kept.back().score : py::Value(initial_best(rule));
  auto enters = is_better(score, threshold, rule);
  if (!enters) return enters.error();
  if (!*enters) {
    out.kept = std::move(kept);
    return out;
  }
  for (auto it = kept.begin(); it != kept.end();)  // the same name: that file is rewritten
    if (it->path == path) {
      out.evicted.push_back(it->path);
      it = kept.erase(it);
    } else {
      ++it;
    }
  std::size_t rank = 0;
  while (rank < kept.size()) {  // after every kept score at least as good: ties keep the earlier
    auto better = is_better(score, kept[rank].score, rule);
    if (!better) return better.error();
    if (*better) break;
    ++rank;
  }
  kept.insert(kept.begin() + static_cast<std::ptrdiff_t>(rank), BestEntry{score, path});
  while (static_cast<std::int64_t>(kept.size()) > n) {
    out.evicted.push_back(kept.back().path);
    kept.pop_back();
  }
  out.kept = std::move(kept);
  out.rank = rank;
  return out;
}

py::Value kept_to_value(const std::vector<BestEntry>& kept) {
  py::List out;
  for (const auto& e : kept) out.push_back(py::Value(py::List{e.score, py::Value(e.path)}));
  return py::Value(std::move(out));
}

std::vector<BestEntry> kept_from_value(const py::Value& value) {
  std::vector<BestEntry> out;
  if (!value.is<py::List>()) return out;
  for (const auto& item : value.as<py::List>()) {
    if (!item.is<py::List>() || item.as<py::List>().size() != 2) return {};
    const auto& pair = item.as<py::List>();
    if (!py::is_number(pair[0]) || !pair[1].is<std::string>()) return {};
    out.push_back(BestEntry{pair[0], pair[1].as<std::string>()});
  }
  return out;
}

std::ostream& operator<<(std::ostream& os, const Extensions& x) {
  return os << "Extensions(keep_best=" << x.keep_best << ", keep_period=" << x.keep_period
            << ", best_save_optimizer=" << x.best_save_optimizer << ", interval_seconds=" << x.interval_seconds << ")";
}

std::ostream& operator<<(std::ostream& os, const CkptConfig& c) { return os << c.hook << " + " << c.extensions; }

std::ostream& operator<<(std::ostream& os, const ExtensionSettings& s) {
  os << "ExtensionSettings(keep_best=" << s.keep_best << ", keep_period=";
  if (s.keep_period) os << *s.keep_period;
  else os << "None";
  os << ", best_save_optimizer=" << (s.best_save_optimizer ? "True" : "False") << ", interval_seconds=";
  if (s.interval_seconds) os << py::float_repr(*s.interval_seconds);
  else os << "None";
  return os << ")";
}

std::ostream& operator<<(std::ostream& os, const BestEntry& e) { return os << "(" << e.score << ", " << e.path << ")"; }

std::ostream& operator<<(std::ostream& os, const BestUpdate& u) {
  os << "BestUpdate(kept=[";
  for (std::size_t i = 0; i < u.kept.size(); ++i) os << (i ? ", " : "") << u.kept[i];
  os << "], evicted=[";
  for (std::size_t i = 0; i < u.evicted.size(); ++i) os << (i ? ", " : "") << u.evicted[i];
  os << "], rank=";
  if (u.rank) os << *u.rank;
  else os << "None";
  return os << ")";
}

}  // namespace ckpt
