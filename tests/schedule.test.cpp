// ckpt.policy:schedule — when a train step ends in a periodic save: mmengine
// (E17–E21, `Hook.every_n_epochs` / `every_n_train_iters`) and mmcv (C49,
// `Hook.every_n_epochs` / `every_n_iters`). Expected values: the reference
// expressions evaluated by CPython 3.11 on the same Python-typed values:
//   every_n:  d = counter + 1 - start; d % n == 0 if d >= 0 and n > 0 else False
//   should:   every_n(counter, interval, save_begin) or (save_last and counter + 1 == max)
//   legacy:   ((counter + 1) % n == 0 if n > 0 else False) or (save_last and counter + 1 == max)
#include <gtest/gtest.h>
#include <cstdint>
#include <string>
import ckpt.policy;

namespace {

namespace py = ckpt::py;
using py::Value;

std::string shown(const py::Result<bool>& r) {
  if (!r) return r.error().type + ": " + r.error().message;
  return *r ? "True" : "False";
}

std::string every_n(std::int64_t counter, const Value& n, const Value& start) {
  return shown(ckpt::every_n(counter, n, start));
}
std::string should(std::int64_t counter, std::int64_t max, const Value& interval, const Value& save_begin,
                   const Value& save_last) {
  return shown(ckpt::should_save(counter, max, interval, save_begin, save_last));
}
std::string legacy(std::int64_t counter, std::int64_t max, const Value& interval, const Value& save_last) {
  return shown(ckpt::legacy_should_save(counter, max, interval, save_last));
}

}  // namespace

TEST(Schedule, E19_EveryN) {
  EXPECT_EQ(every_n(1, 2, 0), "True");    // epoch 1 is the 2nd: d = 2
  EXPECT_EQ(every_n(0, 2, 0), "False");
  EXPECT_EQ(every_n(3, 0, 0), "False");   // E20: interval 0 never triggers, no ZeroDivisionError
  EXPECT_EQ(every_n(3, -1, 0), "False");  // E20: negative interval never triggers
}

TEST(Schedule, E19_SaveBeginShiftsTheGrid) {
  EXPECT_EQ(every_n(2, 1, 5), "False");   // d = -2
  EXPECT_EQ(every_n(0, 3, 5), "False");   // d = -4
  EXPECT_EQ(every_n(4, 1, 5), "True");    // d = 0: counter + 1 == save_begin saves
  EXPECT_EQ(every_n(4, 3, 5), "True");    // d = 0
  EXPECT_EQ(every_n(6, 3, 5), "False");   // d = 2
  EXPECT_EQ(every_n(7, 3, 5), "True");    // d = 3
}

TEST(Schedule, E19_PythonTypedValues) {
  EXPECT_EQ(every_n(1, 2.0, 0), "True");    // 2 % 2.0 == 0.0
  EXPECT_EQ(every_n(2, 2.0, 0), "False");   // 3 % 2.0 == 1.0
  EXPECT_EQ(every_n(0, true, 0), "True");   // True is 1
  EXPECT_EQ(every_n(5, true, 0), "True");
  EXPECT_EQ(every_n(0, false, 0), "False"); // False > 0 is False
  EXPECT_EQ(every_n(2, 2, true), "True");   // save_begin True is 1: d = 2
  EXPECT_EQ(every_n(1, 2, true), "False");
  EXPECT_EQ(every_n(1, 1, 1.5), "False");   // d = 0.5; 0.5 % 1 == 0.5
  EXPECT_EQ(every_n(1, 0.5, 0.5), "True");  // d = 1.5; 1.5 % 0.5 == 0.0
  EXPECT_EQ(every_n(1, 2, 1.0), "False");   // d = 1.0
}

TEST(Schedule, E19_TypeErrors) {
  EXPECT_EQ(every_n(0, "2", 0), "TypeError: '>' not supported between instances of 'str' and 'int'");
  EXPECT_EQ(every_n(0, py::none, 0), "TypeError: '>' not supported between instances of 'NoneType' and 'int'");
  EXPECT_EQ(every_n(3, Value::list({2}), 0), "TypeError: '>' not supported between instances of 'list' and 'int'");
  EXPECT_EQ(every_n(0, 1, "a"), "TypeError: unsupported operand type(s) for -: 'int' and 'str'");
  EXPECT_EQ(ckpt::every_n(0, 1, "a").error().clause, "E19");
}

TEST(Schedule, E19_ANegativeDividendShortCircuitsTheIntervalCheck) {
  // `d >= 0 and n > 0`: with d < 0, a str interval is never compared
  EXPECT_EQ(every_n(0, "2", 5), "False");
}

// The range in which E19's counter + 1 is exact (the hook and legacy
// reducers refuse a runner outside it before any rule runs).
TEST(Schedule, E19_CountersAreExactBelow2To62) {
  constexpr std::int64_t limit = std::int64_t{1} << 62;
  for (std::int64_t ok : {std::int64_t{0}, std::int64_t{-3}, limit - 1, 1 - limit})
    EXPECT_FALSE(ckpt::counter_out_of_range("runner.iter", ok)) << ok;
  for (std::int64_t bad : {limit, -limit, INT64_MAX, INT64_MIN}) {
    auto e = ckpt::counter_out_of_range("runner.iter", bad);
    ASSERT_TRUE(e) << bad;
    EXPECT_EQ(e->type, "OverflowError");
    EXPECT_EQ(e->message, "runner.iter = " + std::to_string(bad) +
                              ": ckpt counts epochs and iterations below 2**62 (4611686018427387904)");
  }
  struct Runner {
    std::int64_t epoch, iter, max_epochs, max_iters;
  };
  EXPECT_FALSE(ckpt::runner_out_of_range(Runner{1, 2, INT64_MIN, INT64_MAX}));  // maxima are only compared
  EXPECT_EQ(ckpt::runner_out_of_range(Runner{limit, 2, 3, 4})->message.substr(0, 15), "runner.epoch = ");
  EXPECT_EQ(ckpt::runner_out_of_range(Runner{1, -limit, 3, 4})->message.substr(0, 14), "runner.iter = ");
}

TEST(Schedule, E17_PeriodicOrLast) {
  EXPECT_EQ(should(2, 10, 3, 0, false), "True");   // periodic
  EXPECT_EQ(should(9, 10, -1, 0, true), "True");   // last epoch
  EXPECT_EQ(should(9, 10, -1, 0, false), "False");
  EXPECT_EQ(should(8, 10, -1, 0, true), "False");
}

TEST(Schedule, E19_SaveBeginDoesNotGateSaveLast) {
  EXPECT_EQ(should(9, 10, -1, 100, true), "True");
}

TEST(Schedule, E21_SaveLastNeedsTheExactFinalStep) {
  EXPECT_EQ(should(10, 10, -1, 0, true), "False");  // past the end: counter + 1 == 11
  EXPECT_EQ(should(9, 10, 3, 0, "yes"), "True");    // a truthy str
  EXPECT_EQ(should(9, 10, -1, 0, 0), "False");      // falsy
  EXPECT_EQ(should(9, 10, -1, 0, py::none), "False");
}

TEST(Schedule, E17_TypeErrorsComeFromThePeriodicTest) {
  // the periodic test runs first, so a bad interval raises even on the last epoch
  EXPECT_EQ(should(0, 10, "x", 0, true), "TypeError: '>' not supported between instances of 'str' and 'int'");
  EXPECT_EQ(should(9, 10, py::none, 0, true),
            "TypeError: '>' not supported between instances of 'NoneType' and 'int'");
  EXPECT_EQ(should(9, 10, -1, "a", true), "TypeError: unsupported operand type(s) for -: 'int' and 'str'");
}

TEST(Schedule, C49_EveryNOrLast) {
  EXPECT_EQ(legacy(1, 10, 2, true), "True");     // (1 + 1) % 2 == 0
  EXPECT_EQ(legacy(0, 10, 2, true), "False");
  EXPECT_EQ(legacy(9, 10, -1, true), "True");    // last epoch
  EXPECT_EQ(legacy(9, 10, -1, false), "False");
  EXPECT_EQ(legacy(10, 10, -1, true), "False");  // needs epoch + 1 == max exactly
  EXPECT_EQ(legacy(2, 3, -2, true), "True");
  EXPECT_EQ(legacy(4, 10, 2, 0), "False");       // (4 + 1) % 2 == 1; save_last falsy
  EXPECT_EQ(legacy(9, 10, -1, "x"), "True");     // a truthy str
}

TEST(Schedule, C49_IntervalZeroSavesOnlyTheLast) {
  EXPECT_EQ(legacy(3, 10, 0, true), "False");
  EXPECT_EQ(legacy(9, 10, 0, true), "True");
}

TEST(Schedule, C49_PythonTypedValues) {
  EXPECT_EQ(legacy(1, 10, 2.0, true), "True");   // 2 % 2.0 == 0.0
  EXPECT_EQ(legacy(2, 10, 2.0, true), "False");
  EXPECT_EQ(legacy(0, 10, true, false), "True");  // True is 1
  EXPECT_EQ(legacy(0, 10, "2", true), "TypeError: '>' not supported between instances of 'str' and 'int'");
  EXPECT_EQ(legacy(9, 10, py::none, true),
            "TypeError: '>' not supported between instances of 'NoneType' and 'int'");
  EXPECT_EQ(ckpt::legacy_should_save(0, 10, "2", true).error().clause, "C49");
}
