// Bodies of ckpt.policy:validate. The order of checks is the reference's.
module;
#include <algorithm>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>
module ckpt.policy;
import ckpt.py;

namespace ckpt {

namespace {

// mmengine's is_list_of(x, str).
bool is_list_of_str(const py::Value& v) {
  if (!v.is<py::List>()) return false;
  return std::all_of(v.as<py::List>().begin(), v.as<py::List>().end(),
                     [](const py::Value& x) { return x.is<std::string>(); });
}

std::vector<std::string> strings(const py::Value& list) {
  std::vector<std::string> out;
  for (const auto& x : list.as<py::List>()) out.push_back(x.as<std::string>());
  return out;
}

// Names the keyword argument at fault and its value on a construction error.
py::PyError about(py::PyError e, const char* parameter, const py::Value& value) {
  e.parameter = parameter;
  e.value = py::repr(value);
  return e;
}

bool has_duplicates(std::vector<std::string> xs) {
  std::set<std::string> seen(xs.begin(), xs.end());
  return seen.size() != xs.size();
}

}  // namespace

py::Result<Settings> validate(const HookConfig& c) {
  Settings s;
  // E3
  if (!c.file_client_args.is_none()) {
    s.file_client_args_deprecated = true;
    if (!c.backend_args.is_none())
      return about(py::value_error("\"file_client_args\" and \"backend_args\" cannot be set at the same time.", "E3"),
                   "backend_args", c.backend_args);
  }
  // E2
  if (c.filename_tmpl.is_none())
    s.filename_tmpl = py::truthy(c.by_epoch) ? py::Value("epoch_{}.pth") : py::Value("iter_{}.pth");
  else
    s.filename_tmpl = c.filename_tmpl;
  // E4
  if (!(c.save_best.is<std::string>() || is_list_of_str(c.save_best) || c.save_best.is_none()))
    return about(py::assertion_error(
                     "\"save_best\" should be a str or list of str or None, but got " + py::class_repr(c.save_best), "E4"),
                 "save_best", c.save_best);
  if (c.save_best.is<py::List>()) {
    auto keys = strings(c.save_best);
    if (std::find(keys.begin(), keys.end(), "auto") != keys.end() && keys.size() != 1)
      return about(py::assertion_error("Only support one \"auto\" in \"save_best\" list.", "E4"), "save_best",
                   c.save_best);
    if (has_duplicates(keys))
      return about(py::assertion_error("Find duplicate element in \"save_best\".", "E4"), "save_best", c.save_best);
    s.save_best = keys;
  } else if (c.save_best.is<std::string>()) {
    s.save_best = std::vector<std::string>{c.save_best.as<std::string>()};
  }
  // E5
  if (!(c.rule.is<std::string>() || is_list_of_str(c.rule) || c.rule.is_none()))
    return about(py::assertion_error("\"rule\" should be a str or list of str or None, but got " + py::class_repr(c.rule),
                                     "E5"),
                 "rule", c.rule);
  std::vector<std::optional<std::string>> rules;
  if (c.rule.is<py::List>()) {
    // `len(rule) in [1, len(self.save_best)]` builds the list first: len(None) raises.
    if (!s.save_best) return about(py::type_error("object of type 'NoneType' has no len()", "E5"), "rule", c.rule);
    auto n = c.rule.as<py::List>().size();
    if (n != 1 && n != s.save_best->size())
      return py::assertion_error(
          "Number of \"rule\" must be 1 or the same as number of \"save_best\", but got " + std::to_string(n) + ".",
          "E5");
    for (const auto& r : strings(c.rule)) rules.emplace_back(r);
  } else if (c.rule.is<std::string>()) {
    rules.emplace_back(c.rule.as<std::string>());
  } else {
    rules.emplace_back(std::nullopt);
  }
  // E7
  auto greater = resolve_key_list(c.greater_keys, default_greater_keys());
  if (!greater) return about(greater.error(), "greater_keys", c.greater_keys);
  s.greater_keys = *greater;
  auto less = resolve_key_list(c.less_keys, default_less_keys());
  if (!less) return about(less.error(), "less_keys", c.less_keys);
  s.less_keys = *less;
  // E9, E10
  if (s.save_best) {
    auto key_rules = init_rules(rules, *s.save_best, s.greater_keys, s.less_keys);
    if (!key_rules) {  // KeyError: a rule string; ValueError: a key no rule can be inferred for
      bool rule_at_fault = key_rules.error().type == "KeyError";
      return about(key_rules.error(), rule_at_fault ? "rule" : "save_best", rule_at_fault ? c.rule : c.save_best);
    }
    s.key_rules = *key_rules;
  } else {
    s.key_rules.rules = {};
  }
  // E8
  const auto& pk = c.published_keys;
  if (!(pk.is<std::string>() || is_list_of_str(pk) || pk.is_none()))
    return about(py::type_error("\"published_keys\" should be a str or a sequence of str or None, but got " +
                                    py::class_repr(pk),
                                "E8"),
                 "published_keys", pk);
  if (pk.is<std::string>()) {
    s.published_keys = std::vector<std::string>{pk.as<std::string>()};
  } else if (pk.is<py::List>()) {
    auto keys = strings(pk);
    if (has_duplicates(keys))
      return about(py::assertion_error("Find duplicate elements in \"published_keys\".", "E8"), "published_keys", pk);
    s.published_keys = keys;
  }
  // E6 (the reference forgot the f-string prefix, hence the literal braces)
  auto negative = py::compare(c.save_begin, py::Cmp::lt, py::Value(0));
  if (!negative)
    return about(py::PyError{negative.error().type, negative.error().message, "E6"}, "save_begin", c.save_begin);
  if (*negative)
    return about(py::value_error("save_begin should not be less than 0, but got {save_begin}", "E6"), "save_begin",
                 c.save_begin);
  return s;
}

std::ostream& operator<<(std::ostream& os, const Settings& s) {
  os << "Settings(filename_tmpl=" << s.filename_tmpl << ", save_best=";
  if (s.save_best) {
    py::List keys(s.save_best->begin(), s.save_best->end());
    os << py::Value(keys);
  } else {
    os << "None";
  }
  return os << ", rules=" << s.key_rules << ")";
}

}  // namespace ckpt
