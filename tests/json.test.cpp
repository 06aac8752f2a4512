// ckpt.json: JSON as Python's json module reads and writes it, plus the
// conformance protocol's spelling of non-finite floats on output. Expected
// values come from CPython 3.11 (`json.loads` / `json.dumps`); the comment
// next to each names the Python expression. Decode errors are compared by
// `JSONDecodeError.pos`, the character offset Python reports.
#include <gtest/gtest.h>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
import ckpt.json;

namespace {

namespace py = ckpt::py;
namespace json = ckpt::json;
using py::Value;

Value parsed(std::string_view text) {
  auto r = json::parse(text);
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? py::PyError{} : r.error());
  return r.ok() ? *r : Value("<error>");
}

/// The offset a decode error names (its message ends "at offset N"), or -1.
long error_offset(std::string_view text) {
  auto r = json::parse(text);
  if (r.ok()) return -1;
  EXPECT_EQ(r.error().type, "JSONDecodeError") << text;
  const std::string& m = r.error().message;
  auto at = m.rfind("at offset ");
  return at == std::string::npos ? -2 : std::stol(m.substr(at + 10));
}

}  // namespace

TEST(Json, ScalarsKeepIntApartFromFloat) {
  EXPECT_EQ(parsed("1"), Value(1));                                  // json.loads('1') -> 1
  EXPECT_TRUE(parsed("1").is<std::int64_t>());
  EXPECT_TRUE(parsed("1.0").is<double>());                           // json.loads('1.0') -> 1.0
  EXPECT_EQ(parsed("1E2"), Value(100.0));                            // json.loads('1E2') -> 100.0
  EXPECT_EQ(parsed("1e-2"), Value(0.01));                            // json.loads('1e-2') -> 0.01
  EXPECT_EQ(parsed("-0"), Value(0));                                 // json.loads('-0') -> 0 (int)
  Value neg_zero = parsed("-0.0");                                   // json.loads('-0.0') -> -0.0
  ASSERT_TRUE(neg_zero.is<double>());
  EXPECT_TRUE(std::signbit(neg_zero.as<double>()));
  EXPECT_EQ(parsed("9223372036854775807"), Value(std::int64_t{9223372036854775807}));
  EXPECT_EQ(parsed("true"), Value(true));
  EXPECT_EQ(parsed("false"), Value(false));
  EXPECT_EQ(parsed("null"), Value(py::none));
  EXPECT_EQ(parsed(R"("x")"), Value("x"));
}

TEST(Json, NonFiniteIn) {
  EXPECT_TRUE(std::isnan(parsed("NaN").as<double>()));              // json.loads('NaN') -> nan
  EXPECT_EQ(parsed("Infinity"), Value(std::numeric_limits<double>::infinity()));
  EXPECT_EQ(parsed("-Infinity"), Value(-std::numeric_limits<double>::infinity()));
  EXPECT_EQ(parsed("1e400"), Value(std::numeric_limits<double>::infinity()));     // json.loads('1e400') -> inf
  EXPECT_EQ(parsed("-1e400"), Value(-std::numeric_limits<double>::infinity()));   // -> -inf
  EXPECT_EQ(error_offset("-NaN"), 0);                                // JSONDecodeError pos=0
  EXPECT_EQ(error_offset("infinity"), 0);                            // JSONDecodeError pos=0
}

TEST(Json, NonFiniteOutUsesTheProtocolSpelling) {
  // conformance protocol: "NaN", "Infinity", "-Infinity" as strings
  EXPECT_EQ(json::dump(std::numeric_limits<double>::quiet_NaN()), R"("NaN")");
  EXPECT_EQ(json::dump(std::numeric_limits<double>::infinity()), R"("Infinity")");
  EXPECT_EQ(json::dump(-std::numeric_limits<double>::infinity()), R"("-Infinity")");
}

TEST(Json, KeyOrderIsKept) {
  Value v = parsed(R"( {"z":1, "a":[]} )");                           // {'z': 1, 'a': []}
  EXPECT_EQ(v, Value(py::Dict{{"z", 1}, {"a", py::List{}}}));
  EXPECT_EQ(json::dump(v), R"({"z": 1, "a": []})");
}

TEST(Json, DuplicateKeysKeepTheLastValueAtTheFirstPosition) {
  // json.loads('{"a":1,"b":2,"a":3}') -> {'a': 3, 'b': 2}
  EXPECT_EQ(parsed(R"({"a":1,"b":2,"a":3})"), Value(py::Dict{{"a", 3}, {"b", 2}}));
}

TEST(Json, StringEscapes) {
  // json.loads('"\\/\\b\\f\\n\\r\\t\\"\\\\"') -> '/\x08\x0c\n\r\t"\\'
  EXPECT_EQ(parsed(R"("\/\b\f\n\r\t\"\\")"), Value("/\b\f\n\r\t\"\\"));
  EXPECT_EQ(parsed(R"("\u00e9")"), Value("\xc3\xa9"));               // -> 'é'
  EXPECT_EQ(parsed(R"("\u0041")"), Value("A"));
}

TEST(Json, SurrogatePairsJoin) {
  // json.loads('"\\ud83d\\ude00"') -> '😀' (U+1F600)
  EXPECT_EQ(parsed(R"("\ud83d\ude00")"), Value("\xf0\x9f\x98\x80"));
  // json.loads('"\\ud83d\\u0041"') -> '\ud83dA': a high surrogate not followed by a low one stays alone;
  // its bytes are the 'surrogatepass' UTF-8 encoding b'\xed\xa0\xbd'
  EXPECT_EQ(parsed(R"("\ud83d\u0041")"), Value("\xed\xa0\xbd" "A"));
  EXPECT_EQ(parsed(R"("\ud83dx")"), Value("\xed\xa0\xbd" "x"));
}

TEST(Json, DumpIsJsonDumpsLayout) {
  // json.dumps({'a': [1, 2.5, None, True, False, 'x']})
  Value v(py::Dict{{"a", Value::list({1, 2.5, py::none, true, false, "x"})}});
  EXPECT_EQ(json::dump(v), R"({"a": [1, 2.5, null, true, false, "x"]})");
  EXPECT_EQ(json::dump(Value(py::Dict{})), "{}");                    // json.dumps({})
  EXPECT_EQ(json::dump(Value(py::List{})), "[]");                    // json.dumps([])
  EXPECT_EQ(json::dump(Value(py::Dict{{"a", py::Dict{{"b", py::List{}}}}})), R"({"a": {"b": []}})");
}

TEST(Json, DumpFloatsAsPythonRepr) {
  EXPECT_EQ(json::dump(1e16), "1e+16");                              // json.dumps(1e16)
  EXPECT_EQ(json::dump(1.0), "1.0");                                 // json.dumps(1.0)
  EXPECT_EQ(json::dump(-0.0), "-0.0");                               // json.dumps(-0.0)
  EXPECT_EQ(json::dump(0.1), "0.1");                                 // json.dumps(0.1)
  EXPECT_EQ(json::dump(5e-324), "5e-324");                           // json.dumps(5e-324)
}

TEST(Json, DumpShortEscapesForBackspaceAndFormFeed) {
  // json.dumps('\b\f\x01\x1f') -> "\b\f\u0001\u001f" (also with ensure_ascii=False)
  EXPECT_EQ(json::dump("\b\f\x01\x1f"), R"("\b\f\u0001\u001f")");
}

TEST(Json, DumpEscapes) {
  EXPECT_EQ(json::dump("\x01\x1f"), R"("\u0001\u001f")");  // json.dumps('\x01\x1f')
  // json.dumps('a"b\\c\nd\re\tf') -> "a\"b\\c\nd\re\tf"
  EXPECT_EQ(json::dump("a\"b\\c\nd\re\tf"), R"("a\"b\\c\nd\re\tf")");
  // json.dumps('é', ensure_ascii=False) -> "é" (the UTF-8 is written as is)
  EXPECT_EQ(json::dump("\xc3\xa9"), "\"\xc3\xa9\"");
}

TEST(Json, RoundTrips) {
  for (std::string_view text : {R"({"id": "mmcv/C52", "hook": {"interval": 2, "max_keep_ckpts": 1.5}})",
                                R"([1, -2, 3.25, "x\ny", null, true, {"k": [[]]}])",
                                R"({"metrics": {"acc": "NaN", "loss": "-Infinity"}})", R"("\u00e9\ud83d\ude00")"}) {
    Value once = parsed(text);
    EXPECT_EQ(parsed(json::dump(once)), once) << text;
  }
  // NaN goes out as the string "NaN": the round trip turns the float into a str
  EXPECT_EQ(parsed(json::dump(parsed("[NaN]"))), Value::list({"NaN"}));
}

TEST(Json, ErrorOffsetsAreJsonDecodeErrorPos) {
  EXPECT_EQ(error_offset(""), 0);                  // Expecting value: pos=0
  EXPECT_EQ(error_offset("  "), 2);                // Expecting value: pos=2
  EXPECT_EQ(error_offset("nul"), 0);               // Expecting value: pos=0
  EXPECT_EQ(error_offset("tru"), 0);               // Expecting value: pos=0
  EXPECT_EQ(error_offset(".5"), 0);                // Expecting value: pos=0
  EXPECT_EQ(error_offset("+1"), 0);                // Expecting value: pos=0
  EXPECT_EQ(error_offset("-"), 0);                 // Expecting value: pos=0
  EXPECT_EQ(error_offset("-x"), 0);                // Expecting value: pos=0
  EXPECT_EQ(error_offset("["), 1);                 // Expecting value: pos=1
  EXPECT_EQ(error_offset("[1,]"), 3);              // Expecting value: pos=3
  EXPECT_EQ(error_offset("[1,,2]"), 3);            // Expecting value: pos=3
  EXPECT_EQ(error_offset("[1 2]"), 3);             // Expecting ',' delimiter: pos=3
  EXPECT_EQ(error_offset(R"({"a":1)"), 6);         // Expecting ',' delimiter: pos=6
  EXPECT_EQ(error_offset(R"({"a":1 "b":2})"), 7);  // Expecting ',' delimiter: pos=7
  EXPECT_EQ(error_offset(R"({"a" 1})"), 5);        // Expecting ':' delimiter: pos=5
  EXPECT_EQ(error_offset(R"({"a":1,})"), 7);       // Expecting property name enclosed in double quotes: pos=7
  EXPECT_EQ(error_offset("{1:2}"), 1);             // Expecting property name enclosed in double quotes: pos=1
  EXPECT_EQ(error_offset("[1]x"), 3);              // Extra data: pos=3
}

TEST(Json, LeadingZerosAreRejected) {
  EXPECT_EQ(error_offset("01"), 1);                // json.loads('01'): Extra data, pos=1
  EXPECT_EQ(error_offset("[00]"), 2);              // json.loads('[00]'): Expecting ',' delimiter, pos=2
}

TEST(Json, NumberErrorsStopWherePythonsScannerStops) {
  // Python's number regex takes the longest valid prefix; what follows is Extra data
  EXPECT_EQ(error_offset("1."), 1);                // json.loads('1.'): Extra data, pos=1
  EXPECT_EQ(error_offset("1e"), 1);                // json.loads('1e'): Extra data, pos=1
  EXPECT_EQ(error_offset("1e+"), 1);               // json.loads('1e+'): Extra data, pos=1
}

TEST(Json, StringErrorOffsets) {
  EXPECT_EQ(error_offset(R"("abc)"), 0);           // Unterminated string starting at: pos=0
  EXPECT_EQ(error_offset("\"a\nb\""), 2);          // Invalid control character at: pos=2
  EXPECT_EQ(error_offset("\"\t\""), 1);            // Invalid control character at: pos=1
  EXPECT_EQ(error_offset(R"("\x")"), 1);           // Invalid \escape: pos=1
  EXPECT_EQ(error_offset(R"("\u12")"), 2);         // Invalid \uXXXX escape: pos=2
  EXPECT_EQ(error_offset(R"("\u12G4")"), 2);       // Invalid \uXXXX escape: pos=2
}
