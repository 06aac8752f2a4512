// ckpt.policy:rules — E7 key lists, E10 rule resolution, E35 comparison.
// Expected values: the clauses of docs/spec/checkpoint-hook-spec.md and
// mmengine 0.10.7's CheckpointHook
// (`_init_rule`, `rule_map`, `init_value_map`) run on the same inputs.
#include <gtest/gtest.h>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <vector>
import ckpt.policy;

namespace {

namespace py = ckpt::py;
using ckpt::Rule;
using Keys = std::vector<std::string>;
using Rules = std::vector<std::optional<Rule>>;

const double kInf = std::numeric_limits<double>::infinity();
const double kNan = std::numeric_limits<double>::quiet_NaN();

/// E10 with the default key lists: the rule name, or "Type [clause]".
std::string inferred(std::string_view key, std::optional<std::string> rule = std::nullopt,
                     const Keys& greater = ckpt::default_greater_keys(), const Keys& less = ckpt::default_less_keys()) {
  auto r = ckpt::resolve_rule(rule, key, greater, less);
  if (!r) return r.error().type + " [" + r.error().clause + "]";
  if (!*r) return "None";
  return **r == Rule::greater ? "greater" : "less";
}

std::string better(const py::Value& score, const py::Value& best, Rule rule) {
  auto r = ckpt::is_better(score, best, rule);
  if (!r) return r.error().type;
  return *r ? "True" : "False";
}

}  // namespace

TEST(Rules, E7_Defaults) {
  // CheckpointHook._default_greater_keys / _default_less_keys
  EXPECT_EQ(ckpt::default_greater_keys(),
            (Keys{"acc", "top", "AR@", "auc", "precision", "mAP", "mDice", "mIoU", "mAcc", "aAcc"}));
  EXPECT_EQ(ckpt::default_less_keys(), (Keys{"loss"}));
}

TEST(Rules, E7_NoneGivesTheDefaults) {
  auto r = ckpt::resolve_key_list(py::none, Keys{"d1", "d2"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, (Keys{"d1", "d2"}));
}

TEST(Rules, E7_ANonListIsWrappedIntoOne) {
  auto r = ckpt::resolve_key_list("acc", ckpt::default_greater_keys());  // greater_keys='acc' -> ('acc',)
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, (Keys{"acc"}));
  auto empty = ckpt::resolve_key_list(py::Value(py::List{}), ckpt::default_greater_keys());  // [] stays []
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(Rules, E7_NonStrElementsAreABareAssertionError) {
  for (const py::Value& given : {py::Value::list({1}), py::Value(5), py::Value::list({py::none}),
                                 py::Value(py::Dict{{"acc", 1}}), py::Value::list({"acc", 2})}) {
    auto r = ckpt::resolve_key_list(given, ckpt::default_greater_keys());
    ASSERT_FALSE(r.ok()) << given;
    EXPECT_EQ(r.error().type, "AssertionError") << given;
    EXPECT_EQ(r.error().message, "") << given;  // `assert is_seq_of(...)` has no message
    EXPECT_EQ(r.error().clause, "E7") << given;
  }
}

TEST(Rules, E10_RunExamples) {
  // CheckpointHook(save_best=K).rules, run on mmengine 0.10.7
  EXPECT_EQ(inferred("acc_loss"), "greater");       // a greater substring beats a less substring
  EXPECT_EQ(inferred("Val/LOSS"), "less");          // case-insensitive substring
  EXPECT_EQ(inferred("coco/bbox_mAP"), "greater");  // 'map' in 'coco/bbox_map'
  EXPECT_EQ(inferred("mse"), "ValueError [E10]");   // Cannot infer the rule for key mse
}

TEST(Rules, E10_InferenceOrder) {
  EXPECT_EQ(inferred("ACC"), "greater");            // exact, case-insensitive
  EXPECT_EQ(inferred("top1"), "greater");           // substring
  EXPECT_EQ(inferred("val_loss_acc"), "greater");   // greater substrings are tried before less ones
  EXPECT_EQ(inferred("mDice", std::nullopt, Keys{"mdice"}, Keys{}), "greater");
  // exact less beats a greater substring: greater_keys=['a'], less_keys=['aloss'] -> 'less'
  EXPECT_EQ(inferred("aloss", std::nullopt, Keys{"a"}, Keys{"aloss"}), "less");
  // in both lists: exact greater is tried first -> 'greater'
  EXPECT_EQ(inferred("loss", std::nullopt, Keys{"loss"}, Keys{"loss"}), "greater");
  // greater_keys=[] removes every default: acc -> ValueError
  EXPECT_EQ(inferred("acc", std::nullopt, Keys{}, ckpt::default_less_keys()), "ValueError [E10]");
}

TEST(Rules, E10_GivenRuleIsCheckedCaseSensitively) {
  EXPECT_EQ(inferred("mse", "less"), "less");
  EXPECT_EQ(inferred("acc", "less"), "less");        // a given rule overrides inference
  EXPECT_EQ(inferred("acc", "bogus"), "KeyError [E10]");
  EXPECT_EQ(inferred("acc", "Greater"), "KeyError [E10]");
  auto r = ckpt::resolve_rule(std::string("bogus"), "acc", ckpt::default_greater_keys(), ckpt::default_less_keys());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "rule must be greater, less or None, but got bogus.");
}

TEST(Rules, E10_AutoStaysUnresolved) {
  EXPECT_EQ(inferred("auto"), "None");               // CheckpointHook(save_best='auto').rules == [None]
  EXPECT_EQ(inferred("auto", "less"), "less");       // save_best='auto', rule='less' -> ['less']
}

TEST(Rules, E10_OneRuleIsBroadcast) {
  // save_best=['acc', 'loss'], rule=['less'] -> rules ['less', 'less']
  auto r = ckpt::init_rules({std::string("less")}, Keys{"acc", "loss"}, ckpt::default_greater_keys(),
                            ckpt::default_less_keys());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->keys, (Keys{"acc", "loss"}));
  EXPECT_EQ(r->rules, (Rules{Rule::less, Rule::less}));
  // save_best=['acc', 'loss'], rule=None -> ['greater', 'less']
  auto inferred_rules =
      ckpt::init_rules({std::nullopt}, Keys{"acc", "loss"}, ckpt::default_greater_keys(), ckpt::default_less_keys());
  ASSERT_TRUE(inferred_rules.ok());
  EXPECT_EQ(inferred_rules->rules, (Rules{Rule::greater, Rule::less}));
}

TEST(Rules, E10_PairsResolveInOrder) {
  // save_best=['acc', 'mse']: the second key fails -> ValueError
  auto r = ckpt::init_rules({std::nullopt}, Keys{"acc", "mse"}, ckpt::default_greater_keys(),
                            ckpt::default_less_keys());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().type, "ValueError");
  EXPECT_EQ(r.error().message, "Cannot infer the rule for key mse, thus a specific rule must be specified.");
  // save_best=['mse', 'acc'], rule=['bogus', 'less'] -> KeyError from the first pair
  auto k = ckpt::init_rules({std::string("bogus"), std::string("less")}, Keys{"mse", "acc"},
                            ckpt::default_greater_keys(), ckpt::default_less_keys());
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.error().type, "KeyError");
  // save_best=[] -> no keys, no rules
  auto none = ckpt::init_rules({std::nullopt}, Keys{}, ckpt::default_greater_keys(), ckpt::default_less_keys());
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->keys.empty());
  EXPECT_TRUE(none->rules.empty());
}

TEST(Rules, E34_RuleNamesFeedInitRuleAgain) {
  EXPECT_EQ(ckpt::rule_names(Rules{Rule::greater, std::nullopt, Rule::less}),
            (std::vector<std::optional<std::string>>{"greater", std::nullopt, "less"}));
}

TEST(Rules, E35_InitialBest) {
  EXPECT_EQ(ckpt::initial_best(Rule::greater), -kInf);  // init_value_map['greater'] == -inf
  EXPECT_EQ(ckpt::initial_best(Rule::less), kInf);      // init_value_map['less'] == inf
}

TEST(Rules, E35_StrictlyBetterOnly) {
  EXPECT_EQ(better(0.5, -kInf, Rule::greater), "True");   // 0.5 > -inf
  EXPECT_EQ(better(0.3, kInf, Rule::less), "True");       // 0.3 < inf
  EXPECT_EQ(better(0.7, 0.5, Rule::greater), "True");
  EXPECT_EQ(better(0.4, 0.5, Rule::greater), "False");
  EXPECT_EQ(better(0.4, 0.5, Rule::less), "True");
  EXPECT_EQ(better(1, 0.5, Rule::greater), "True");       // 1 > 0.5
  EXPECT_EQ(better(true, 0.5, Rule::greater), "True");    // True > 0.5
}

TEST(Rules, E35_TiesNeverWin) {
  EXPECT_EQ(better(0.5, 0.5, Rule::greater), "False");    // 0.5 > 0.5
  EXPECT_EQ(better(0.5, 0.5, Rule::less), "False");       // 0.5 < 0.5
  EXPECT_EQ(better(1, 1.0, Rule::greater), "False");      // 1 > 1.0
  EXPECT_EQ(better(kInf, kInf, Rule::greater), "False");  // inf > inf
}

TEST(Rules, E35_NaNNeverWins) {
  EXPECT_EQ(better(kNan, -kInf, Rule::greater), "False");  // nan > -inf
  EXPECT_EQ(better(kNan, kInf, Rule::less), "False");      // nan < inf
  // a NaN best (resumed) blocks every later score: 0.9 > nan is False
  EXPECT_EQ(better(0.9, kNan, Rule::greater), "False");
  EXPECT_EQ(better(0.1, kNan, Rule::less), "False");
}

TEST(Rules, E35_UnorderableScoresRaise) {
  EXPECT_EQ(better("0.9", 0.5, Rule::greater), "TypeError");      // '0.9' > 0.5
  EXPECT_EQ(better(py::none, -kInf, Rule::greater), "TypeError"); // None > -inf (the hook skips None first)
  EXPECT_EQ(better(0.9, "best", Rule::less), "TypeError");        // 0.9 < 'best'
}

// E9/E10: the resolved keys and rules, as one value.
TEST(Rules, E10_InitRulesGivesKeyRules) {
  auto r = ckpt::init_rules({std::nullopt}, {"acc", "val/loss"}, ckpt::default_greater_keys(),
                            ckpt::default_less_keys());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, (ckpt::KeyRules{{"acc", "val/loss"}, {ckpt::Rule::greater, ckpt::Rule::less}}));
}
