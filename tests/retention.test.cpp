// ckpt.policy:retention — mmengine's keep_ckpt_ids deque (E16 on resume, E24
// before each save) and mmcv's interval arithmetic (C52). Expected values:
// the reference's statements run by CPython 3.11 on the same values:
//   E16: while len(ids) > max_keep: ids.pop(0)   then deque(ids, max_keep)
//   E24: if d and d[-1] == step: pass  else: (d.popleft() if len(d) == max_keep); d.append(step)
//   C52: range(current - max_keep * interval, 0, -interval)
#include "support.hpp"
#include <gtest/gtest.h>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>
import ckpt;

namespace {

namespace py = ckpt::py;
using py::Value;
using Ids = std::deque<Value>;

// E16 whole: the pops (trim_resumed), then deque(ids, max_keep) (bounded_ids).
struct Trimmed {
  std::vector<Value> dropped;
  Value stored_after;
  ckpt::KeepIds keep;
};
py::Result<Trimmed> trim(const std::optional<Value>& stored, const Value& max_keep) {
  py::Result<ckpt::ResumeTrim> popped = ckpt::trim_resumed(stored ? &*stored : nullptr, max_keep);
  if (!popped) return popped.error();
  auto keep = ckpt::bounded_ids(popped->stored_after, max_keep);
  if (!keep) return keep.error();
  return Trimmed{popped->dropped, popped->stored_after, *keep};
}

std::string raised(const py::PyError& e) { return e.type + " [" + e.clause + "]"; }

py::Result<std::optional<ckpt::RemoveUntilGap>> legacy(const Value& tmpl, std::int64_t current, const Value& max_keep,
                                                       const Value& interval) {
  return ckpt::legacy_retention("/w/exp", tmpl, current, max_keep, interval);
}

}  // namespace

TEST(Retention, E16_NoStoredIdsGivesAnEmptyDeque) {
  auto r = trim(std::nullopt, 2);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->dropped.empty());
  EXPECT_EQ(r->keep, (ckpt::KeepIds{{}, 2}));
}

TEST(Retention, E16_PopsTheOldestWhileLonger) {
  auto r = trim(Value::list({1, 2, 3, 4, 5}), 2);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->dropped, (std::vector<Value>{1, 2, 3}));
  EXPECT_EQ(r->keep, (ckpt::KeepIds{{4, 5}, 2}));
  EXPECT_EQ(r->stored_after, Value::list({4, 5}));  // get_info returns the stored list: popped in place
}

TEST(Retention, E16_ShorterListsAreKept) {
  auto r = trim(Value::list({1, 2}), 5);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->dropped.empty());
  EXPECT_EQ(r->keep, (ckpt::KeepIds{{1, 2}, 5}));
  EXPECT_EQ(r->stored_after, Value::list({1, 2}));
}

TEST(Retention, E16_ElementsAreKeptAsStored) {
  auto r = trim(Value::list({1.0, "x", 3}), 2);  // ([1.0, 'x', 3], 2) -> dropped [1.0], deque(['x', 3])
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->dropped, (std::vector<Value>{1.0}));
  EXPECT_EQ(r->keep, (ckpt::KeepIds{{"x", 3}, 2}));
}

TEST(Retention, E16_TrueActsAsOne) {
  auto r = trim(Value::list({1, 2, 3}), true);   // len > True pops to one; deque(maxlen=True) is maxlen 1
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->dropped, (std::vector<Value>{1, 2}));
  EXPECT_EQ(r->keep, (ckpt::KeepIds{{3}, 1}));
}

TEST(Retention, E16_NonListStoredValues) {
  // a dict short enough iterates its keys: deque({'a': 1, 'b': 2}, 2) -> deque(['a', 'b'])
  auto d = trim(Value(py::Dict{{"a", 1}, {"b", 2}}), 2);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->keep, (ckpt::KeepIds{{"a", "b"}, 2}));
  // a str short enough iterates its characters: deque('ab', 2) -> deque(['a', 'b'])
  auto s = trim(Value("ab"), 2);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->keep, (ckpt::KeepIds{{"a", "b"}, 2}));
  // too long: {...}.pop(0) -> KeyError: 0; 'abc'.pop(0) -> AttributeError
  auto long_dict = trim(Value(py::Dict{{"a", 1}, {"b", 2}, {"c", 3}}), 2);
  ASSERT_FALSE(long_dict.ok());
  EXPECT_EQ(raised(long_dict.error()), "KeyError [E16]");
  auto long_str = trim(Value("abc"), 2);
  ASSERT_FALSE(long_str.ok());
  EXPECT_EQ(raised(long_str.error()), "AttributeError [E16]");
  EXPECT_EQ(long_str.error().message, "'str' object has no attribute 'pop'");
  // no len(): len(5) / len(None) -> TypeError
  auto number = trim(Value(5), 2);
  ASSERT_FALSE(number.ok());
  EXPECT_EQ(raised(number.error()), "TypeError [E16]");
  EXPECT_EQ(number.error().message, "object of type 'int' has no len()");
  auto none = trim(Value(py::none), 2);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(raised(none.error()), "TypeError [E16]");
}

TEST(Retention, E16_FloatMaxKeepRaisesAtTheDeque) {
  // deque([1, 2], 2.0) -> TypeError (after the pops: see the next test)
  auto r = trim(Value::list({1, 2}), 2.0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().type, "TypeError");
}

TEST(Retention, E16_FloatMaxKeepRemovesBeforeTheTypeError) {
  // Run on mmengine 0.10.7: keep_ckpt_ids [1, 2, 3], max_keep_ckpts=2.0, files epoch_1..3:
  // before_train pops 1, deletes epoch_1.pth, leaves [2, 3] stored, then deque(..., 2.0) raises.
  auto s = support::make({{"interval", 1}, {"max_keep_ckpts", 2.0}}, {{"keep_ckpt_ids", Value::list({1, 2, 3})}});
  auto out = ckpt::hook::step(s, ckpt::hook::BeforeTrain{support::at(0)});
  ASSERT_TRUE(out.error.has_value());
  EXPECT_EQ(out.error->type, "TypeError");
  EXPECT_EQ(support::removed(out.plan), (std::vector<std::string>{"/w/exp/epoch_1.pth"}));
  EXPECT_EQ(support::info(out.state, "keep_ckpt_ids"), Value::list({2, 3}));
}

TEST(Retention, E24_AppendsUntilFull) {
  auto r = ckpt::retain({{}, 2}, 2, 1);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->keep, (ckpt::KeepIds{{1}, 2}));
  EXPECT_FALSE(r->evicted.has_value());
  EXPECT_TRUE(r->appended);
  auto second = ckpt::retain({{1}, 2}, 2, 2);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->keep, (ckpt::KeepIds{{1, 2}, 2}));
  EXPECT_FALSE(second->evicted.has_value());
}

TEST(Retention, E24_EvictsTheOldestWhenFull) {
  auto r = ckpt::retain({{1, 2}, 2}, 2, 3);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->evicted, std::optional<Value>(1));
  EXPECT_EQ(r->keep, (ckpt::KeepIds{{2, 3}, 2}));
  EXPECT_TRUE(r->appended);
  auto three = ckpt::retain({{1, 2, 3}, 3}, 3, 4);
  ASSERT_TRUE(three.ok());
  EXPECT_EQ(three->evicted, std::optional<Value>(1));
  EXPECT_EQ(three->keep, (ckpt::KeepIds{{2, 3, 4}, 3}));
}

TEST(Retention, E24_SameStepIsANoOp) {
  auto r = ckpt::retain({{1, 2}, 2}, 2, 2);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->keep, (ckpt::KeepIds{{1, 2}, 2}));
  EXPECT_FALSE(r->evicted.has_value());
  EXPECT_FALSE(r->appended);
  // compared with ==: 1 == 1.0
  auto as_float = ckpt::retain({{1}, 2}, 2, 1.0);
  ASSERT_TRUE(as_float.ok());
  EXPECT_FALSE(as_float->appended);
  EXPECT_EQ(as_float->keep, (ckpt::KeepIds{{1}, 2}));
  // a full deque of one: the same step still is a no-op, not an eviction of itself
  auto one = ckpt::retain({{5}, 1}, 1, 5);
  ASSERT_TRUE(one.ok());
  EXPECT_FALSE(one->evicted.has_value());
  EXPECT_FALSE(one->appended);
}

TEST(Retention, E24_ResumedIdsOfAnyType) {
  auto r = ckpt::retain({{"a", "b"}, 2}, 2, 3);  // deque(['a', 'b'], 2) + step 3 -> evicts 'a'
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->evicted, std::optional<Value>("a"));
  EXPECT_EQ(r->keep, (ckpt::KeepIds{{"b", 3}, 2}));
  auto t = ckpt::retain({{1}, 1}, true, 2);      // len(d) == True
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->evicted, std::optional<Value>(1));
  EXPECT_EQ(t->keep, (ckpt::KeepIds{{2}, 1}));
}

TEST(Retention, C52_RangeBackFromCurrentMinusKeepTimesInterval) {
  auto r = legacy("epoch_{}.pth", 5, 2, 1);      // range(3, 0, -1)
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ(**r, (ckpt::RemoveUntilGap{"/w/exp", "epoch_{}.pth", 3, -1}));
  EXPECT_EQ(ckpt::series_steps(**r, 100), (std::vector<std::int64_t>{3, 2, 1}));
  EXPECT_EQ(ckpt::series_path(**r, 3), "/w/exp/epoch_3.pth");
}

TEST(Retention, C52_OffGridSeries) {
  auto r = legacy("epoch_{}.pth", 11, 2, 2);     // list(range(7, 0, -2)) == [7, 5, 3, 1]
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ(ckpt::series_steps(**r, 100), (std::vector<std::int64_t>{7, 5, 3, 1}));
  EXPECT_EQ(ckpt::series_steps(**r, 2), (std::vector<std::int64_t>{7, 5}));
  auto three = legacy("epoch_{}.pth", 10, 2, 3);  // list(range(4, 0, -3)) == [4, 1]
  ASSERT_TRUE(three.ok() && three->has_value());
  EXPECT_EQ(ckpt::series_steps(**three, 100), (std::vector<std::int64_t>{4, 1}));
  auto t = legacy("epoch_{}.pth", 5, true, 1);    // list(range(4, 0, -1))
  ASSERT_TRUE(t.ok() && t->has_value());
  EXPECT_EQ(ckpt::series_steps(**t, 100), (std::vector<std::int64_t>{4, 3, 2, 1}));
}

TEST(Retention, C52_EmptyRangeIsNothing) {
  auto r = legacy("epoch_{}.pth", 4, 2, 2);       // range(0, 0, -2)
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
  // an empty range never formats: a broken template raises nothing
  auto broken = legacy("{}{}", 4, 2, 2);
  ASSERT_TRUE(broken.ok());
  EXPECT_FALSE(broken->has_value());
}

TEST(Retention, C53_NegativeIntervalDeletesNothing) {
  auto r = legacy("epoch_{}.pth", 3, 1, -1);      // range(4, 0, 1) is empty
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
}

TEST(Retention, C53_IntervalZeroIsAValueError) {
  auto r = legacy("epoch_{}.pth", 3, 2, 0);       // range(3, 0, 0)
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(raised(r.error()), "ValueError [C53]");
  EXPECT_EQ(r.error().message, "range() arg 3 must not be zero");
}

TEST(Retention, C52_NonIntOperands) {
  for (auto [max_keep, interval] : std::vector<std::pair<Value, Value>>{{2.0, 1}, {2, 2.0}, {2, py::none}}) {
    auto r = legacy("epoch_{}.pth", 5, max_keep, interval);
    ASSERT_FALSE(r.ok()) << max_keep << " " << interval;
    EXPECT_EQ(raised(r.error()), "TypeError [C52]") << max_keep << " " << interval;
  }
}

TEST(Retention, C52_TemplateErrorsWhenTheRangeIsNotEmpty) {
  auto two = legacy("{}{}", 5, 2, 1);
  ASSERT_FALSE(two.ok());
  EXPECT_EQ(two.error().type, "IndexError");
  auto number = legacy(5, 5, 2, 1);
  ASSERT_FALSE(number.ok());
  EXPECT_EQ(number.error().type, "AttributeError");
}

TEST(Retention, B61_NoPlaceholderNamesEveryStepAlike) {
  auto r = legacy("ckpt.pth", 5, 1, 1);
  ASSERT_TRUE(r.ok() && r->has_value());
  for (auto step : ckpt::series_steps(**r, 100)) EXPECT_EQ(ckpt::series_path(**r, step), "/w/exp/ckpt.pth");
}
