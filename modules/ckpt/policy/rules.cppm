// ckpt.policy:rules — which direction is "better" for a metric (E7, E10, E34).
module;
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>
export module ckpt.policy:rules;
import ckpt.py;

export namespace ckpt {

enum class Rule { greater, less };

/// E7's defaults.
const std::vector<std::string>& default_greater_keys();
const std::vector<std::string>& default_less_keys();

/// E7: `greater_keys` / `less_keys` as given: None gives `defaults`; a value
/// that is not a list is wrapped into one; any non-str element raises a bare
/// `AssertionError`.
py::Result<std::vector<std::string>> resolve_key_list(const py::Value& given, const std::vector<std::string>& defaults);

/// E10: the rule for one key. `rule` is the given rule string or None. A
/// string other than greater/less raises `KeyError`; None infers from the key
/// (exact greater, exact less, greater substring, less substring, all
/// case-insensitive) or raises `ValueError`; the key `auto` stays unresolved.
py::Result<std::optional<Rule>> resolve_rule(const std::optional<std::string>& rule, std::string_view key,
                                             const std::vector<std::string>& greater_keys,
                                             const std::vector<std::string>& less_keys);

/// The comparison keys and their rules (`key_indicators`, `rules`).
struct KeyRules {
  std::vector<std::string> keys;
  std::vector<std::optional<Rule>> rules;
  friend bool operator==(const KeyRules&, const KeyRules&) = default;
};

/// E10's `_init_rule`: a one-element rule list is broadcast to every key;
/// then each (rule, key) pair is resolved in order.
py::Result<KeyRules> init_rules(std::vector<std::optional<std::string>> rules, const std::vector<std::string>& keys,
                                const std::vector<std::string>& greater_keys,
                                const std::vector<std::string>& less_keys);

/// The rule names as `_init_rule` would receive them again (E34).
std::vector<std::optional<std::string>> rule_names(const std::vector<std::optional<Rule>>& rules);

/// E35: the starting best score, `-inf` for greater and `+inf` for less.
double initial_best(Rule rule);

/// E35: `score > best` (greater) or `score < best` (less), Python semantics;
/// NaN never wins and ties never win.
py::Result<bool> is_better(const py::Value& score, const py::Value& best, Rule rule);

std::ostream& operator<<(std::ostream& os, Rule rule);
std::ostream& operator<<(std::ostream& os, const KeyRules& rules);

}  // namespace ckpt
