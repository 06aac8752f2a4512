// Properties of rule inference (E7, E10) and of the best comparison (E35)
// against a model written here from the spec's text:
//   E10  no rule: lower-cased key; exact greater key -> greater; exact less
//        key -> less; a greater key inside it -> greater; a less key inside
//        it -> less; else ValueError. A rule other than greater/less: KeyError.
//   E35  a win is strictly better (greater: >, less: <); NaN and ties never
//        win; None is skipped; the first best is -inf (greater) / +inf (less).
// Keys are drawn from fragments of real metric names (and a few that infer
// nothing), so every branch of the inference order is reached.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <vector>
#include "support.hpp"

namespace {

namespace py = ckpt::py;
using Keys = std::vector<std::string>;

// E7's lists as the spec gives them.
const Keys spec_greater = {"acc", "top", "AR@", "auc", "precision", "mAP", "mDice", "mIoU", "mAcc", "aAcc"};
const Keys spec_less = {"loss"};

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// E10's inference: "greater", "less", or "ValueError".
std::string model_rule(const std::string& key, const Keys& greater, const Keys& less) {
  const std::string k = lower(key);
  auto exact = [&](const Keys& keys) {
    return std::any_of(keys.begin(), keys.end(), [&](const std::string& x) { return lower(x) == k; });
  };
  auto inside = [&](const Keys& keys) {
    return std::any_of(keys.begin(), keys.end(), [&](const std::string& x) { return k.find(lower(x)) != k.npos; });
  };
  if (exact(greater)) return "greater";
  if (exact(less)) return "less";
  if (inside(greater)) return "greater";
  if (inside(less)) return "less";
  return "ValueError";
}

/// Between `min` and `max - 1` elements.
template <class T>
rc::Gen<std::vector<T>> vector_of(std::size_t min, std::size_t max, rc::Gen<T> element) {
  return rc::gen::mapcat(rc::gen::inRange(min, max),
                         [element](std::size_t n) { return rc::gen::container<std::vector<T>>(n, element); });
}

std::string shown(const py::Result<std::optional<ckpt::Rule>>& r) {
  if (!r) return r.error().type;
  if (!*r) return "None";
  return **r == ckpt::Rule::greater ? "greater" : "less";
}

const std::vector<std::string> fragments = {"acc",  "loss", "mAP",   "top1", "AR@100", "auc",   "precision",
                                            "mIoU", "mse",  "f1",    "Val/", "coco/bbox_", "_", "LOSS",
                                            "Acc",  "psnr", "aAcc",  "err",  "recall", "MDICE"};

rc::Gen<std::string> metric_key() {
  return rc::gen::map(vector_of<std::string>(1, 4, rc::gen::elementOf(fragments)),
                      [](const std::vector<std::string>& parts) {
                        std::string k;
                        for (const auto& p : parts) k += p;
                        return k;
                      });
}

/// greater_keys / less_keys as a user might pass them: absent (the
/// defaults), or a few fragments, in any case.
rc::Gen<std::optional<Keys>> key_list() {
  return rc::gen::weightedOneOf<std::optional<Keys>>(
      {{2, rc::gen::just(std::optional<Keys>())},
       {1, rc::gen::map(vector_of<std::string>(0, 3, rc::gen::elementOf(fragments)),
                        [](Keys k) { return std::optional<Keys>(std::move(k)); })}});
}

py::Value as_list(const Keys& keys) { return py::Value(py::List(keys.begin(), keys.end())); }

/// Scores as metrics carry them: ints, floats, ties, infinities, NaN.
rc::Gen<py::Value> score() {
  const double inf = std::numeric_limits<double>::infinity(), nan = std::numeric_limits<double>::quiet_NaN();
  return rc::gen::elementOf(std::vector<py::Value>{py::Value(0), py::Value(1), py::Value(0.0), py::Value(0.5),
                                                   py::Value(0.25), py::Value(1.0), py::Value(-2), py::Value(inf),
                                                   py::Value(-inf), py::Value(nan)});
}

double number(const py::Value& v) { return v.is<double>() ? v.as<double>() : static_cast<double>(py::to_int(v)); }

bool model_better(const py::Value& score, const py::Value& best, bool greater) {
  const double s = number(score), b = number(best);  // NaN compares false both ways
  return greater ? s > b : s < b;
}

}  // namespace

RC_GTEST_PROP(PropertiesRules, E10_InferenceFollowsTheSpecsOrder, ()) {
  const std::string key = *metric_key();
  const auto greater = *key_list(), less = *key_list();
  const Keys& g = greater ? *greater : spec_greater;
  const Keys& l = less ? *less : spec_less;
  auto resolved_g = ckpt::resolve_key_list(greater ? as_list(*greater) : py::none, ckpt::default_greater_keys());
  auto resolved_l = ckpt::resolve_key_list(less ? as_list(*less) : py::none, ckpt::default_less_keys());
  RC_ASSERT(resolved_g.ok() && resolved_l.ok());
  RC_ASSERT(shown(ckpt::resolve_rule(std::nullopt, key, *resolved_g, *resolved_l)) == model_rule(key, g, l));
}

RC_GTEST_PROP(PropertiesRules, E10_TheHookInfersAtConstructionOrRaisesValueError, ()) {
  const std::string key = *metric_key();
  const auto greater = *key_list(), less = *key_list();
  py::Dict kwargs{{"save_best", key}};
  if (greater) kwargs.emplace_back("greater_keys", as_list(*greater));
  if (less) kwargs.emplace_back("less_keys", as_list(*less));
  const std::string expected = model_rule(key, greater ? *greater : spec_greater, less ? *less : spec_less);
  auto state = ckpt::hook::init(ckpt::hook_config_from_kwargs(kwargs));
  if (expected == "ValueError") {
    RC_ASSERT(!state.ok());
    RC_ASSERT(state.error().type == "ValueError");
    return;
  }
  RC_ASSERT(state.ok());
  const auto& rules = state->settings.key_rules.rules;
  RC_ASSERT(rules.size() == 1u && rules[0].has_value());
  RC_ASSERT((*rules[0] == ckpt::Rule::greater) == (expected == "greater"));
}

RC_GTEST_PROP(PropertiesRules, E10_AGivenRuleIsTakenAsIsOrRaisesKeyError, ()) {
  const std::string key = *metric_key();
  const std::string rule = *rc::gen::elementOf(std::vector<std::string>{"greater", "less", "Greater", "max", ""});
  auto got = shown(ckpt::resolve_rule(rule, key, spec_greater, spec_less));
  RC_ASSERT(got == (rule == "greater" || rule == "less" ? rule : std::string("KeyError")));
}

RC_GTEST_PROP(PropertiesRules, E35_ABestIsStrictlyBetterNeverNaNNeverATie, ()) {
  const py::Value s = *score(), b = *score();
  const bool greater = *rc::gen::arbitrary<bool>();
  auto got = ckpt::is_better(s, b, greater ? ckpt::Rule::greater : ckpt::Rule::less);
  RC_ASSERT(got.ok());
  RC_ASSERT(*got == model_better(s, b, greater));
}

RC_GTEST_PROP(PropertiesRules, E35_TheRunsBestScoreIsTheModelsAfterEveryValidation, ()) {
  // one key, its rule inferred or given; the best starts at -inf / +inf
  const std::string key = *rc::gen::elementOf(std::vector<std::string>{"acc", "loss", "val/loss", "mse", "coco/mAP"});
  const bool given = key == "mse" || *rc::gen::arbitrary<bool>();
  const bool greater = given ? *rc::gen::arbitrary<bool>() : model_rule(key, spec_greater, spec_less) == "greater";
  py::Dict kwargs{{"interval", -1}, {"save_best", key}};
  if (given) kwargs.emplace_back("rule", greater ? "greater" : "less");
  const auto none = rc::gen::just(py::Value(py::none));
  auto values = *vector_of<py::Value>(1, 8, rc::gen::weightedOneOf<py::Value>({{6, score()}, {1, none}}));
  std::vector<py::Dict> metrics;
  for (const auto& v : values) metrics.push_back({{key, v}});
  auto state = support::make(kwargs);
  std::optional<py::Value> best;  // the model's best so far (absent: nothing won yet)
  for (const auto& event : support::epochs(static_cast<std::int64_t>(values.size()), 1, metrics)) {
    auto out = ckpt::hook::step(state, event);
    RC_ASSERT(!out.error.has_value());
    state = out.state;
    const auto* val = std::get_if<ckpt::hook::AfterValEpoch>(&event);
    if (!val) continue;
    const py::Value& v = val->metrics.front().second;
    const double inf = std::numeric_limits<double>::infinity();
    const bool win = !v.is_none() && model_better(v, best ? *best : py::Value(greater ? -inf : inf), greater);
    if (win) best = v;
    std::size_t best_saves = 0;
    for (const auto& name : support::saved(out.plan)) best_saves += name.rfind("best_", 0) == 0;
    RC_ASSERT(best_saves == (win ? 1u : 0u));
    const auto* stored = py::find(state.runtime_info, "best_score");
    RC_ASSERT(static_cast<bool>(stored) == best.has_value());
    if (best) RC_ASSERT(py::Value(number(*stored)) == py::Value(number(*best)));
  }
}
