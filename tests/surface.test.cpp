// Module surface (after fmt's module test): importing `ckpt` leaks no
// macros and no `detail` namespace, and the umbrella re-exports every
// public module. `tools/check-exports` (a ctest) checks that every exported
// name is used by some test.
#include <gtest/gtest.h>
#include <sstream>
#include <string>
#include <type_traits>
import ckpt;

#if defined(Expects) || defined(Ensures) || defined(GSL_ASSERT_H)
#error "GSL contract macros leak through import ckpt"
#endif

// If the modules ever export a `ckpt::detail`, this stops compiling.
namespace detail {
bool oops_detail_namespace_is_visible = false;
}
namespace ckpt {
bool detail_namespace_invisible() {
  using namespace ::detail;
  return !oops_detail_namespace_is_visible;
}
}  // namespace ckpt

TEST(Surface, NoDetailNamespaceExported) { EXPECT_TRUE(ckpt::detail_namespace_invisible()); }

TEST(Surface, UmbrellaReexportsEveryModule) {
  // one entity from each module, reached through `import ckpt` alone
  static_assert(std::is_class_v<ckpt::py::Value>);                  // ckpt.py
  static_assert(std::is_class_v<ckpt::HookConfig>);                 // ckpt.policy
  static_assert(std::is_class_v<ckpt::hook::State>);                // ckpt.hook
  static_assert(std::is_class_v<ckpt::legacy::State>);              // ckpt.legacy
  EXPECT_EQ(ckpt::json::dump(ckpt::py::Value(ckpt::py::List{1, "a"})), "[1, \"a\"]");  // ckpt.json
}

TEST(Surface, ValueTypesCompareAndPrint) {
  // STYLE 2: every value type has == and a printer, so gtest can show it
  ckpt::hook::Step a, b;
  EXPECT_EQ(a, b);
  std::ostringstream os;
  os << a << ckpt::Plan{ckpt::SyncBuffers{}} << ckpt::HookConfig{} << ckpt::LegacyConfig{};
  EXPECT_NE(os.str().find("SyncBuffers()"), std::string::npos);
  EXPECT_NE(os.str().find("'interval': -1"), std::string::npos);
}

TEST(Surface, ReadmeExampleWorks) {
  // the snippet in README.md, verbatim in substance
  using namespace ckpt;
  auto state = hook::init(HookConfig{.interval = 1, .max_keep_ckpts = 3, .save_best = "acc"});
  ASSERT_TRUE(state.ok());
  auto out = hook::step(*state, hook::BeforeTrain{{"work_dirs/exp", 0, 0, 12, 1200}});
  EXPECT_FALSE(out.error);
  EXPECT_EQ(out.state.out_dir, py::Value("work_dirs/exp"));
}
