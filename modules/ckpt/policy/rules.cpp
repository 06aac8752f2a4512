// Bodies of ckpt.policy:rules.
module;
#include <algorithm>
#include <cctype>
#include <limits>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>
module ckpt.policy;
import ckpt.py;

namespace ckpt {

namespace {
// Python's str.lower() for the ASCII range; metric names outside ASCII are
// compared byte for byte (a documented approximation).
std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}
}  // namespace

const std::vector<std::string>& default_greater_keys() {
  static const std::vector<std::string> keys{"acc", "top", "AR@", "auc", "precision",
                                              "mAP", "mDice", "mIoU", "mAcc", "aAcc"};
  return keys;
}

const std::vector<std::string>& default_less_keys() {
  static const std::vector<std::string> keys{"loss"};
  return keys;
}

py::Result<std::vector<std::string>> resolve_key_list(const py::Value& given, const std::vector<std::string>& defaults) {
  if (given.is_none()) return defaults;
  py::List items = given.is<py::List>() ? given.as<py::List>() : py::List{given};
  std::vector<std::string> out;
  for (const auto& item : items) {
    if (!item.is<std::string>()) return py::assertion_error("", "E7");
    out.push_back(item.as<std::string>());
  }
  return out;
}

py::Result<std::optional<Rule>> resolve_rule(const std::optional<std::string>& rule, std::string_view key,
                                             const std::vector<std::string>& greater_keys,
                                             const std::vector<std::string>& less_keys) {
  if (rule) {
    if (*rule == "greater") return std::optional<Rule>(Rule::greater);
    if (*rule == "less") return std::optional<Rule>(Rule::less);
    return py::key_error("rule must be greater, less or None, but got " + *rule + ".", "E10");
  }
  if (key == "auto") return std::optional<Rule>();
  std::string k = lower(key);
  auto lowered = [](const std::vector<std::string>& keys) {
    std::vector<std::string> out;
    for (const auto& x : keys) out.push_back(lower(x));
    return out;
  };
  auto greater = lowered(greater_keys);
  auto less = lowered(less_keys);
  auto contains = [](const std::vector<std::string>& keys, const std::string& x) {
    return std::find(keys.begin(), keys.end(), x) != keys.end();
  };
  auto any_substring = [&](const std::vector<std::string>& keys) {
    return std::any_of(keys.begin(), keys.end(), [&](const std::string& g) { return k.find(g) != std::string::npos; });
  };
  if (contains(greater, k)) return std::optional<Rule>(Rule::greater);
  if (contains(less, k)) return std::optional<Rule>(Rule::less);
  if (any_substring(greater)) return std::optional<Rule>(Rule::greater);
  if (any_substring(less)) return std::optional<Rule>(Rule::less);
  return py::value_error(
      "Cannot infer the rule for key " + std::string(key) + ", thus a specific rule must be specified.", "E10");
}

py::Result<KeyRules> init_rules(std::vector<std::optional<std::string>> rules, const std::vector<std::string>& keys,
                                const std::vector<std::string>& greater_keys,
                                const std::vector<std::string>& less_keys) {
  if (rules.size() == 1) rules.assign(keys.size(), rules.front());
  KeyRules out;
  for (std::size_t i = 0; i < rules.size() && i < keys.size(); ++i) {
    auto rule = resolve_rule(rules[i], keys[i], greater_keys, less_keys);
    if (!rule) return rule.error();
    out.rules.push_back(*rule);
  }
  out.keys = keys;
  return out;
}

std::vector<std::optional<std::string>> rule_names(const std::vector<std::optional<Rule>>& rules) {
  std::vector<std::optional<std::string>> out;
  for (const auto& r : rules)
    out.push_back(r ? std::optional<std::string>(*r == Rule::greater ? "greater" : "less") : std::nullopt);
  return out;
}

double initial_best(Rule rule) {
  return rule == Rule::greater ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
}

py::Result<bool> is_better(const py::Value& score, const py::Value& best, Rule rule) {
  return py::compare(score, rule == Rule::greater ? py::Cmp::gt : py::Cmp::lt, best);
}

std::ostream& operator<<(std::ostream& os, Rule rule) { return os << (rule == Rule::greater ? "greater" : "less"); }

std::ostream& operator<<(std::ostream& os, const KeyRules& rules) {
  os << "{";
  for (std::size_t i = 0; i < rules.keys.size(); ++i) {
    os << (i ? ", " : "") << rules.keys[i] << ": ";
    if (i < rules.rules.size() && rules.rules[i]) os << *rules.rules[i];
    else os << "None";
  }
  return os << "}";
}

}  // namespace ckpt
