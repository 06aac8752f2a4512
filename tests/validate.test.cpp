// ckpt.policy:validate — mmengine's constructor checks (E2–E10) in the
// reference's order. Every expectation below was checked by constructing
// mmengine 0.10.7's CheckpointHook(**kwargs) with the same arguments.
#include <gtest/gtest.h>
#include <optional>
#include <string>
#include <vector>
import ckpt.policy;

namespace {

namespace py = ckpt::py;
using py::Value;
using Keys = std::vector<std::string>;

py::Result<ckpt::Settings> validated(const py::Dict& kwargs) {
  return ckpt::validate(ckpt::hook_config_from_kwargs(kwargs));
}

ckpt::Settings ok(const py::Dict& kwargs) {
  auto r = validated(kwargs);
  EXPECT_TRUE(r.ok()) << Value(kwargs) << ": " << (r.ok() ? py::PyError{} : r.error());
  return r.ok() ? *r : ckpt::Settings{};
}

/// "Type [clause]" of the construction error, or "ok".
std::string raised(const py::Dict& kwargs) {
  auto r = validated(kwargs);
  return r.ok() ? "ok" : r.error().type + " [" + r.error().clause + "]";
}

std::string message(const py::Dict& kwargs) {
  auto r = validated(kwargs);
  return r.ok() ? "ok" : r.error().message;
}

Value list(std::initializer_list<Value> xs) { return Value::list(xs); }

}  // namespace

TEST(Validate, E2_DefaultTemplateFollowsByEpoch) {
  EXPECT_EQ(ok({}).filename_tmpl, Value("epoch_{}.pth"));
  EXPECT_EQ(ok({{"by_epoch", false}}).filename_tmpl, Value("iter_{}.pth"));
  EXPECT_EQ(ok({{"by_epoch", 0}}).filename_tmpl, Value("iter_{}.pth"));      // falsy
  EXPECT_EQ(ok({{"by_epoch", "no"}}).filename_tmpl, Value("epoch_{}.pth"));  // truthy str
  EXPECT_EQ(ok({{"filename_tmpl", py::none}}).filename_tmpl, Value("epoch_{}.pth"));
}

TEST(Validate, E2_AGivenTemplateIsNeverChecked) {
  EXPECT_EQ(ok({{"filename_tmpl", 5}}).filename_tmpl, Value(5));
  EXPECT_EQ(ok({{"filename_tmpl", "x"}}).filename_tmpl, Value("x"));
  EXPECT_EQ(ok({{"filename_tmpl", "{}{}"}}).filename_tmpl, Value("{}{}"));
}

TEST(Validate, E3_FileClientArgs) {
  EXPECT_FALSE(ok({}).file_client_args_deprecated);
  EXPECT_TRUE(ok({{"file_client_args", py::Dict{{"backend", "disk"}}}}).file_client_args_deprecated);
  py::Dict both{{"file_client_args", py::Dict{{"backend", "disk"}}}, {"backend_args", py::Dict{}}};
  EXPECT_EQ(raised(both), "ValueError [E3]");
  EXPECT_EQ(message(both), R"("file_client_args" and "backend_args" cannot be set at the same time.)");
}

TEST(Validate, E3_IsCheckedFirst) {
  // file_client_args={}, backend_args={}, save_best=5 -> ValueError, not the save_best assertion
  EXPECT_EQ(raised({{"file_client_args", py::Dict{}}, {"backend_args", py::Dict{}}, {"save_best", 5}}),
            "ValueError [E3]");
}

TEST(Validate, E4_SaveBestTypes) {
  EXPECT_EQ(raised({{"save_best", 5}}), "AssertionError [E4]");
  EXPECT_EQ(message({{"save_best", 5}}),
            R"("save_best" should be a str or list of str or None, but got <class 'int'>)");
  EXPECT_EQ(raised({{"save_best", list({"acc", 1})}}), "AssertionError [E4]");
  EXPECT_EQ(raised({{"save_best", py::Dict{{"acc", 1}}}}), "AssertionError [E4]");
  EXPECT_EQ(ok({{"save_best", "acc"}}).save_best, std::optional<Keys>(Keys{"acc"}));  // a str becomes a list
  EXPECT_EQ(ok({{"save_best", list({"acc", "loss"})}}).save_best, std::optional<Keys>(Keys{"acc", "loss"}));
  EXPECT_EQ(ok({{"save_best", py::List{}}}).save_best, std::optional<Keys>(Keys{}));  // [] is kept, not None
  EXPECT_EQ(ok({}).save_best, std::nullopt);
}

TEST(Validate, E4_AutoAloneAndNoDuplicates) {
  EXPECT_EQ(raised({{"save_best", list({"auto", "acc"})}}), "AssertionError [E4]");
  EXPECT_EQ(message({{"save_best", list({"auto", "acc"})}}), R"(Only support one "auto" in "save_best" list.)");
  EXPECT_EQ(raised({{"save_best", list({"acc", "acc"})}}), "AssertionError [E4]");
  EXPECT_EQ(message({{"save_best", list({"acc", "acc"})}}), R"(Find duplicate element in "save_best".)");
  EXPECT_EQ(ok({{"save_best", list({"auto"})}}).save_best, std::optional<Keys>(Keys{"auto"}));
}

TEST(Validate, E5_RuleTypesAndCount) {
  EXPECT_EQ(raised({{"rule", 5}}), "AssertionError [E5]");
  EXPECT_EQ(raised({{"save_best", "acc"}, {"rule", list({1})}}), "AssertionError [E5]");
  py::Dict three{{"save_best", list({"acc", "loss"})}, {"rule", list({"greater", "less", "less"})}};
  EXPECT_EQ(raised(three), "AssertionError [E5]");
  EXPECT_EQ(message(three), R"(Number of "rule" must be 1 or the same as number of "save_best", but got 3.)");
  EXPECT_EQ(raised({{"save_best", "acc"}, {"rule", py::List{}}}), "AssertionError [E5]");  // len 0
}

TEST(Validate, E5_ListRuleWithoutSaveBestIsATypeError) {
  // len(None) inside `len(rule) in [1, len(self.save_best)]`
  EXPECT_EQ(raised({{"rule", list({"greater"})}}), "TypeError [E5]");
  EXPECT_EQ(message({{"rule", list({"greater"})}}), "object of type 'NoneType' has no len()");
}

TEST(Validate, E5_InvalidRuleStringWithoutSaveBestIsAccepted) {
  EXPECT_EQ(raised({{"rule", "bogus"}}), "ok");
}

TEST(Validate, E4_ComesBeforeE5) {
  EXPECT_EQ(raised({{"save_best", 5}, {"rule", 5}}), "AssertionError [E4]");
  EXPECT_EQ(message({{"save_best", 5}, {"rule", 5}}),
            R"("save_best" should be a str or list of str or None, but got <class 'int'>)");
  EXPECT_EQ(message({{"save_best", list({"acc", "acc"})}, {"rule", 5}}), R"(Find duplicate element in "save_best".)");
}

TEST(Validate, E7_KeyLists) {
  auto s = ok({{"greater_keys", "acc"}, {"save_best", "acc"}});
  EXPECT_EQ(s.greater_keys, (Keys{"acc"}));
  EXPECT_EQ(s.less_keys, (Keys{"loss"}));
  EXPECT_EQ(raised({{"greater_keys", list({1})}}), "AssertionError [E7]");
  EXPECT_EQ(raised({{"greater_keys", 5}}), "AssertionError [E7]");
  EXPECT_EQ(raised({{"less_keys", list({py::none})}}), "AssertionError [E7]");
  EXPECT_EQ(raised({{"save_best", "acc"}, {"greater_keys", py::Dict{{"acc", 1}}}}), "AssertionError [E7]");
}

TEST(Validate, E5_ComesBeforeE7) {
  EXPECT_EQ(raised({{"rule", 5}, {"greater_keys", list({1})}}), "AssertionError [E5]");
  EXPECT_EQ(raised({{"rule", list({"greater"})}, {"greater_keys", list({1})}}), "TypeError [E5]");
}

TEST(Validate, E9_RulesResolvedAtConstruction) {
  auto one = ok({{"save_best", "acc"}});
  EXPECT_EQ(one.key_rules.keys, (Keys{"acc"}));
  EXPECT_EQ(one.key_rules.rules, (std::vector<std::optional<ckpt::Rule>>{ckpt::Rule::greater}));
  auto two = ok({{"save_best", list({"acc", "loss"})}, {"rule", "greater"}});
  EXPECT_EQ(two.key_rules.rules, (std::vector<std::optional<ckpt::Rule>>{ckpt::Rule::greater, ckpt::Rule::greater}));
  auto auto_key = ok({{"save_best", "auto"}});
  EXPECT_EQ(auto_key.key_rules.rules, (std::vector<std::optional<ckpt::Rule>>{std::nullopt}));
}

TEST(Validate, E10_ErrorsSurfaceFromTheConstructor) {
  EXPECT_EQ(raised({{"save_best", "acc"}, {"rule", "bogus"}}), "KeyError [E10]");
  EXPECT_EQ(raised({{"save_best", "acc"}, {"rule", "Greater"}}), "KeyError [E10]");
  EXPECT_EQ(raised({{"save_best", "mse"}}), "ValueError [E10]");
  EXPECT_EQ(raised({{"save_best", list({"acc", "mse"})}}), "ValueError [E10]");
  EXPECT_EQ(raised({{"greater_keys", py::List{}}, {"less_keys", py::List{}}, {"save_best", "acc"}}),
            "ValueError [E10]");
  EXPECT_EQ(ok({{"save_best", "mse"}, {"greater_keys", list({"mse"})}}).key_rules.rules,
            (std::vector<std::optional<ckpt::Rule>>{ckpt::Rule::greater}));
}

TEST(Validate, E7_ComesBeforeE10) {
  EXPECT_EQ(raised({{"save_best", "mse"}, {"greater_keys", list({1})}}), "AssertionError [E7]");
}

TEST(Validate, E8_PublishedKeys) {
  EXPECT_EQ(ok({{"published_keys", "meta"}}).published_keys, std::optional<Keys>(Keys{"meta"}));
  EXPECT_EQ(ok({{"published_keys", py::List{}}}).published_keys, std::optional<Keys>(Keys{}));
  EXPECT_EQ(ok({}).published_keys, std::nullopt);
  EXPECT_EQ(raised({{"published_keys", 5}}), "TypeError [E8]");
  EXPECT_EQ(message({{"published_keys", 5}}),
            R"("published_keys" should be a str or a sequence of str or None, but got <class 'int'>)");
  EXPECT_EQ(raised({{"published_keys", list({"a", 1})}}), "TypeError [E8]");
  EXPECT_EQ(raised({{"published_keys", py::Dict{{"a", 1}}}}), "TypeError [E8]");
  EXPECT_EQ(raised({{"published_keys", list({"a", "a"})}}), "AssertionError [E8]");
  EXPECT_EQ(message({{"published_keys", list({"a", "a"})}}), R"(Find duplicate elements in "published_keys".)");
}

TEST(Validate, E10_ComesBeforeE8) {
  EXPECT_EQ(raised({{"save_best", "mse"}, {"published_keys", 5}}), "ValueError [E10]");
  EXPECT_EQ(raised({{"save_best", "acc"}, {"rule", "bogus"}, {"published_keys", 5}}), "KeyError [E10]");
  EXPECT_EQ(raised({{"greater_keys", list({1})}, {"published_keys", 5}}), "AssertionError [E7]");
}

TEST(Validate, E6_SaveBegin) {
  EXPECT_EQ(raised({{"save_begin", -1}}), "ValueError [E6]");
  // the reference forgot the f prefix: the message reads {save_begin} literally
  EXPECT_EQ(message({{"save_begin", -1}}), "save_begin should not be less than 0, but got {save_begin}");
  EXPECT_EQ(raised({{"save_begin", -0.5}}), "ValueError [E6]");
  EXPECT_EQ(raised({{"save_begin", "a"}}), "TypeError [E6]");   // 'a' < 0
  EXPECT_EQ(raised({{"save_begin", py::none}}), "TypeError [E6]");
  EXPECT_EQ(raised({{"save_begin", 0}}), "ok");
  EXPECT_EQ(raised({{"save_begin", true}}), "ok");
}

TEST(Validate, E8_ComesBeforeE6) {
  EXPECT_EQ(raised({{"published_keys", 5}, {"save_begin", -1}}), "TypeError [E8]");
  EXPECT_EQ(raised({{"published_keys", list({"a", "a"})}, {"save_begin", -1}}), "AssertionError [E8]");
}

// Every construction error names the keyword argument at fault and its value
// (repr), besides the reference's exception type and the clause.
TEST(Validate, E3_E10_ErrorsNameTheParameterAndItsValue) {
  auto error = [](py::Dict kwargs) { return ckpt::validate(ckpt::hook_config_from_kwargs(kwargs)).error(); };
  auto e6 = error({{"save_begin", -3}});
  EXPECT_EQ((std::pair{e6.parameter, e6.value}), (std::pair<std::string, std::string>{"save_begin", "-3"}));
  auto e4 = error({{"save_best", 5}});
  EXPECT_EQ((std::pair{e4.parameter, e4.value}), (std::pair<std::string, std::string>{"save_best", "5"}));
  auto e10 = error({{"save_best", "mse"}});
  EXPECT_EQ((std::pair{e10.type, e10.parameter}), (std::pair<std::string, std::string>{"ValueError", "save_best"}));
  auto e10_rule = error({{"save_best", "acc"}, {"rule", "bigger"}});
  EXPECT_EQ((std::pair{e10_rule.parameter, e10_rule.value}),
            (std::pair<std::string, std::string>{"rule", "'bigger'"}));
  auto e3 = error({{"file_client_args", py::Dict{}}, {"backend_args", py::Dict{}}});
  EXPECT_EQ((std::pair{e3.parameter, e3.value}), (std::pair<std::string, std::string>{"backend_args", "{}"}));
  auto e7 = error({{"greater_keys", py::Value::list({1})}});
  EXPECT_EQ(e7.parameter, "greater_keys");
  auto e8 = error({{"published_keys", py::Value::list({"meta", "meta"})}});
  EXPECT_EQ((std::pair{e8.parameter, e8.value}),
            (std::pair<std::string, std::string>{"published_keys", "['meta', 'meta']"}));
}
