// Properties of naming against models written here from the spec and from
// Python's format-spec mini-language:
//   E23  by epoch: step epoch+1, meta {epoch: epoch+1, iter}; by iteration:
//        step iter+1, meta {epoch, iter: iter+1}; E33: at validation no +1
//   B61  `filename_tmpl.format(step)` with format specs ([[fill]align][sign]
//        [#][0][width][type] for an int), and the string module's own
//        examples (docs.python.org, "Format examples"), checked by CPython 3.11
//   E35  best_<key>_<filename> with every '/' replaced by '_'
//   E42  splitext(source)[0] + '-' + sha[:8] + '.pth'
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>
#include "support.hpp"

namespace {

namespace py = ckpt::py;
using Int = std::int64_t;

/// An integer format spec, as generated.
struct Spec {
  std::string fill;  // only with an align
  char align = 0;    // '<', '>', '^', '=' or none
  char sign = 0;     // '+', '-', ' ' or none
  bool alternate = false;
  bool zero = false;
  int width = -1;
  char type = 0;  // 'd', 'x', 'X', 'o', 'b' or none
  std::string text() const {
    std::string s = align ? fill + align : "";
    if (sign) s += sign;
    if (alternate) s += '#';
    if (zero) s += '0';
    if (width >= 0) s += std::to_string(width);
    if (type) s += type;
    return s;
  }
};

std::ostream& operator<<(std::ostream& os, const Spec& s) { return os << "'" << s.text() << "'"; }

std::string repeat(const std::string& fill, std::size_t n) {
  std::string out;
  while (n--) out += fill;
  return out;
}

/// format(n, spec) as Python does it for an int.
std::string model_format(Int n, const Spec& spec) {
  const int base = spec.type == 'x' || spec.type == 'X' ? 16 : spec.type == 'o' ? 8 : spec.type == 'b' ? 2 : 10;
  const char* alphabet = spec.type == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string digits;
  for (Int m = std::llabs(n); digits.empty() || m > 0; m /= base) digits.insert(digits.begin(), alphabet[m % base]);
  std::string prefix;
  if (spec.alternate && base != 10) prefix = std::string("0") + spec.type;  // 0x, 0X, 0o, 0b
  std::string sign = n < 0 ? "-" : spec.sign == '+' ? "+" : spec.sign == ' ' ? " " : "";
  const std::string fill = spec.align ? spec.fill.empty() ? (spec.zero ? "0" : " ") : spec.fill : spec.zero ? "0" : " ";
  const char align = spec.align ? spec.align : spec.zero ? '=' : '>';
  const std::string body = sign + prefix + digits;
  if (spec.width < 0 || body.size() >= static_cast<std::size_t>(spec.width)) return body;
  const std::size_t pad = static_cast<std::size_t>(spec.width) - body.size();
  switch (align) {
    case '<': return body + repeat(fill, pad);
    case '^': return repeat(fill, pad / 2) + body + repeat(fill, pad - pad / 2);
    case '=': return sign + prefix + repeat(fill, pad) + digits;
    default: return repeat(fill, pad) + body;
  }
}

rc::Gen<Spec> spec() {
  return rc::gen::exec([] {
    Spec s;
    if (*rc::gen::inRange(0, 3) == 0) {
      s.align = *rc::gen::elementOf(std::string("<>^="));
      s.fill = *rc::gen::elementOf(std::vector<std::string>{"", "*", "0", " ", "x", "_"});
    }
    if (*rc::gen::inRange(0, 3) == 0) s.sign = *rc::gen::elementOf(std::string("+- "));
    s.type = *rc::gen::elementOf(std::vector<char>{0, 'd', 'd', 'x', 'X', 'o', 'b'});
    s.alternate = s.type != 'd' && *rc::gen::inRange(0, 4) == 0;
    s.zero = *rc::gen::arbitrary<bool>();
    s.width = *rc::gen::inRange(-1, 9);
    return s;
  });
}

std::string formatted(const py::Result<std::string>& r) { return r ? *r : r.error().type; }

}  // namespace

RC_GTEST_PROP(PropertiesNaming, E23_PeriodicStepAndMetaAreTheNextStep, ()) {
  const Int epoch = *rc::gen::inRange<Int>(0, 1000), iter = *rc::gen::inRange<Int>(0, 100000);
  const bool by_epoch = *rc::gen::arbitrary<bool>();
  const auto got = ckpt::periodic_step(by_epoch, epoch, iter);
  const ckpt::StepMeta expected = by_epoch ? ckpt::StepMeta{epoch + 1, {{"epoch", epoch + 1}, {"iter", iter}}}
                                           : ckpt::StepMeta{iter + 1, {{"epoch", epoch}, {"iter", iter + 1}}};
  RC_ASSERT(got == expected);
  RC_ASSERT(ckpt::best_step(by_epoch, epoch, iter) == (ckpt::StepMeta{by_epoch ? epoch : iter,
                                                                      {{"epoch", epoch}, {"iter", iter}}}));
}

RC_GTEST_PROP(PropertiesNaming, B61_FormatSpecsFollowPythonsMiniLanguage, ()) {
  const Spec s = *spec();
  const Int step =
      *rc::gen::weightedOneOf<Int>({{4, rc::gen::inRange<Int>(0, 300)}, {1, rc::gen::inRange<Int>(-50, 0)}});
  const std::string tmpl = "epoch_{:" + s.text() + "}.pth";
  RC_ASSERT(formatted(ckpt::checkpoint_name(py::Value(tmpl), py::Value(step))) ==
            "epoch_" + model_format(step, s) + ".pth");
}

RC_GTEST_PROP(PropertiesNaming, E35_BestNameReplacesEverySlash, ()) {
  const auto piece = rc::gen::elementOf(std::vector<std::string>{"acc", "/", "coco", "bbox_mAP", "val", "..", "_"});
  std::string key, name;
  for (int i = *rc::gen::inRange(1, 5); i > 0; --i) key += *piece;
  for (int i = *rc::gen::inRange(1, 4); i > 0; --i) name += *piece;
  std::string expected = "best_" + key + "_" + name;
  for (auto& c : expected) c = c == '/' ? '_' : c;
  RC_ASSERT(ckpt::best_name(key, name) == expected);
}

RC_GTEST_PROP(PropertiesNaming, E42_PublishedNameDropsTheLastExtensionOfTheBasename, ()) {
  const auto piece = rc::gen::elementOf(std::vector<std::string>{"w", "/", ".", "epoch_1", "pth", "a.b", ".hidden"});
  std::string source;
  for (int i = *rc::gen::inRange(1, 6); i > 0; --i) source += *piece;
  // splitext: the last dot of the basename, unless only dots precede it there
  const auto base = source.rfind('/') == std::string::npos ? 0 : source.rfind('/') + 1;
  auto dot = source.rfind('.');
  bool extension = dot != std::string::npos && dot >= base && source.find_first_not_of('.', base) < dot;
  const std::string stem = extension ? source.substr(0, dot) : source;
  RC_ASSERT(ckpt::published_name(source, "0123456789abcdef") == stem + "-01234567.pth");
}

TEST(PropertiesNaming, B61_ThePythonDocsFormatExamples) {
  // string — "Format examples", each run by CPython 3.11
  auto f = [](const std::string& tmpl, std::vector<py::Value> args) { return formatted(py::format(tmpl, args)); };
  EXPECT_EQ(f("{0}, {1}, {2}", {"a", "b", "c"}), "a, b, c");
  EXPECT_EQ(f("{}, {}, {}", {"a", "b", "c"}), "a, b, c");
  EXPECT_EQ(f("{2}, {1}, {0}", {"a", "b", "c"}), "c, b, a");
  EXPECT_EQ(f("{0}{1}{0}", {"abra", "cad"}), "abracadabra");
  EXPECT_EQ(f("{:<30}", {"left aligned"}), "left aligned                  ");
  EXPECT_EQ(f("{:>30}", {"right aligned"}), "                 right aligned");
  EXPECT_EQ(f("{:^30}", {"centered"}), "           centered           ");
  EXPECT_EQ(f("{:*^30}", {"centered"}), "***********centered***********");
  EXPECT_EQ(f("{:+f}; {:+f}", {3.14, -3.14}), "+3.140000; -3.140000");
  EXPECT_EQ(f("{: f}; {: f}", {3.14, -3.14}), " 3.140000; -3.140000");
  EXPECT_EQ(f("{:-f}; {:-f}", {3.14, -3.14}), "3.140000; -3.140000");
  EXPECT_EQ(f("int: {0:d};  hex: {0:x};  oct: {0:o};  bin: {0:b}", {42}), "int: 42;  hex: 2a;  oct: 52;  bin: 101010");
  EXPECT_EQ(f("int: {0:d};  hex: {0:#x};  oct: {0:#o};  bin: {0:#b}", {42}),
            "int: 42;  hex: 0x2a;  oct: 0o52;  bin: 0b101010");
  EXPECT_EQ(f("{:,}", {1234567890}), "1,234,567,890");
  EXPECT_EQ(f("Correct answers: {:.2%}", {19.0 / 22.0}), "Correct answers: 86.36%");
  EXPECT_EQ(f("{:02X}{:02X}{:02X}{:02X}", {192, 168, 0, 1}), "C0A80001");
  // B61 itself: specs work, no field repeats the name, two fields and a named one raise
  EXPECT_EQ(f("epoch_{:03d}.pth", {1}), "epoch_001.pth");
  EXPECT_EQ(f("ckpt.pth", {7}), "ckpt.pth");
  EXPECT_EQ(f("{}_{}.pth", {7}), "IndexError");
  EXPECT_EQ(f("{name}.pth", {7}), "KeyError");
}
