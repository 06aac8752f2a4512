// Bodies of ckpt.json: a recursive-descent parser and a printer.
module;
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>
module ckpt.json;

namespace ckpt::json {

namespace {

// The length of the UTF-8 sequence starting at s[i] (1 to 4), or 0 when
// it is not well-formed (overlong, a surrogate, past U+10FFFF, cut short).
// `surrogates` accepts ED A0-BF xx: how this parser stores a lone
// surrogate from a \u escape (Python's str holds them).
std::size_t utf8_length(std::string_view s, std::size_t i, bool surrogates = false) {
  const auto at = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = at(i);
  if (c < 0x80) return 1;
  std::size_t n = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k)
    if ((at(i + k) & 0xC0) != 0x80) return 0;
  const unsigned char d = at(i + 1);
  if (c == 0xE0 && d < 0xA0) return 0;                  // overlong
  if (c == 0xED && d >= 0xA0 && !surrogates) return 0;  // U+D800..DFFF
  if (c == 0xF0 && d < 0x90) return 0;                  // overlong
  if (c == 0xF4 && d >= 0x90) return 0;                 // past U+10FFFF
  return n;
}

class Parser {
 public:
  Parser(std::string_view text, bool allow_nonfinite) : s_(text), nonfinite_(allow_nonfinite) {}

  py::Result<py::Value> document() {
    auto v = value(0);
    if (!v) return v;
    skip_ws();
    if (i_ != s_.size()) return fail("Extra data");
    return v;
  }

 private:
  std::string_view s_;
  bool nonfinite_ = true;
  std::size_t i_ = 0;

  py::PyError fail(const std::string& what) const { return fail_at(what, i_); }
  static py::PyError fail_at(const std::string& what, std::size_t offset) {
    return {"JSONDecodeError", what + " at offset " + std::to_string(offset), ""};
  }
  py::PyError invalid_utf8(std::size_t offset) const {
    char byte[8];
    std::snprintf(byte, sizeof byte, "0x%02x", static_cast<unsigned char>(s_[offset]));
    return {"UnicodeDecodeError", std::string("'utf-8' codec can't decode byte ") + byte + " in position " +
                                      std::to_string(offset) + ": invalid UTF-8",
            ""};
  }
  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }

  py::Result<py::Value> value(int depth) {
    if (depth > 512) return fail("Nesting too deep");
    skip_ws();
    if (i_ >= s_.size()) return fail("Expecting value");
    char c = s_[i_];
    if (c == '{') return object(depth);
    if (c == '[') return array(depth);
    if (c == '"') {
      auto str = string();
      if (!str) return str.error();
      return py::Value(std::move(str).value());
    }
    if (literal("null")) return py::Value();
    if (literal("true")) return py::Value(true);
    if (literal("false")) return py::Value(false);
    if (!nonfinite_ && (s_.substr(i_, 3) == "NaN" || s_.substr(i_, 8) == "Infinity" || s_.substr(i_, 9) == "-Infinity"))
      return fail("Bare NaN/Infinity is not JSON");
    if (literal("NaN")) return py::Value(std::numeric_limits<double>::quiet_NaN());
    if (literal("Infinity")) return py::Value(std::numeric_limits<double>::infinity());
    if (literal("-Infinity")) return py::Value(-std::numeric_limits<double>::infinity());
    return number();
  }

  py::Result<py::Value> object(int depth) {
    ++i_;
    py::Dict d;
    skip_ws();
    if (i_ < s_.size() && s_[i_] == '}') { ++i_; return py::Value(std::move(d)); }
    for (;;) {
      skip_ws();
      if (i_ >= s_.size() || s_[i_] != '"') return fail("Expecting property name enclosed in double quotes");
      auto key = string();
      if (!key) return key.error();
      skip_ws();
      if (i_ >= s_.size() || s_[i_] != ':') return fail("Expecting ':' delimiter");
      ++i_;
      auto v = value(depth + 1);
      if (!v) return v;
      py::set(d, *key, std::move(v).value());
      skip_ws();
      if (i_ < s_.size() && s_[i_] == ',') { ++i_; continue; }
      if (i_ < s_.size() && s_[i_] == '}') { ++i_; return py::Value(std::move(d)); }
      return fail("Expecting ',' delimiter");
    }
  }

  py::Result<py::Value> array(int depth) {
    ++i_;
    py::List l;
    skip_ws();
    if (i_ < s_.size() && s_[i_] == ']') { ++i_; return py::Value(std::move(l)); }
    for (;;) {
      auto v = value(depth + 1);
      if (!v) return v;
      l.push_back(std::move(v).value());
      skip_ws();
      if (i_ < s_.size() && s_[i_] == ',') { ++i_; continue; }
      if (i_ < s_.size() && s_[i_] == ']') { ++i_; return py::Value(std::move(l)); }
      return fail("Expecting ',' delimiter");
    }
  }

  static void put_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) out += static_cast<char>(cp);
    else if (cp < 0x800) { out += static_cast<char>(0xC0 | (cp >> 6)); out += static_cast<char>(0x80 | (cp & 0x3F)); }
    else if (cp < 0x10000) { out += static_cast<char>(0xE0 | (cp >> 12)); out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F)); out += static_cast<char>(0x80 | (cp & 0x3F)); }
    else { out += static_cast<char>(0xF0 | (cp >> 18)); out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F)); out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F)); out += static_cast<char>(0x80 | (cp & 0x3F)); }
  }

  // Offsets follow CPython's scanner: a bad \u escape is reported at the 'u'.
  py::Result<std::uint32_t> hex4() {
    std::size_t at = i_ - 1;
    if (i_ + 4 > s_.size()) return fail_at("Invalid \\uXXXX escape", at);
    std::uint32_t cp = 0;
    auto [p, ec] = std::from_chars(s_.data() + i_, s_.data() + i_ + 4, cp, 16);
    if (ec != std::errc() || p != s_.data() + i_ + 4) return fail_at("Invalid \\uXXXX escape", at);
    i_ += 4;
    return cp;
  }

  // Offsets follow CPython's scanner: the opening quote for an unterminated
  // string, the character itself for a control character, the backslash for
  // an unknown escape.
  py::Result<std::string> string() {
    std::size_t begin = i_++;
    std::string out;
    while (i_ < s_.size()) {
      char c = s_[i_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) return fail_at("Invalid control character", i_ - 1);
      if (static_cast<unsigned char>(c) >= 0x80) {  // Python decodes the text as UTF-8 first
        const std::size_t n = utf8_length(s_, i_ - 1);
        if (n == 0) return invalid_utf8(i_ - 1);
        out.append(s_.substr(i_ - 1, n));
        i_ += n - 1;
        continue;
      }
      if (c != '\\') { out += c; continue; }
      if (i_ >= s_.size()) break;
      char e = s_[i_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          auto cp = hex4();
          if (!cp) return cp.error();
          std::uint32_t code = *cp;
          if (code >= 0xD800 && code < 0xDC00 && s_.substr(i_, 2) == "\\u") {
            i_ += 2;
            auto low = hex4();
            if (!low) return low.error();
            if (*low >= 0xDC00 && *low < 0xE000) code = 0x10000 + ((code - 0xD800) << 10) + (*low - 0xDC00);
            else { put_utf8(out, code); code = *low; }
          }
          put_utf8(out, code);
          break;
        }
        default: return fail_at("Invalid \\escape", i_ - 2);
      }
    }
    return fail_at("Unterminated string starting", begin);
  }

  py::Result<py::Value> number() {
    std::size_t start = i_;
    if (i_ < s_.size() && s_[i_] == '-') ++i_;
    bool is_float = false;
    auto digits = [&] {
      std::size_t b = i_;
      while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
      return i_ > b;
    };
    // JSON's number grammar, as Python's scanner applies it: a leading 0
    // stands alone, and a '.' or exponent without digits ends the number
    // before it (what follows is then "Extra data").
    if (i_ < s_.size() && s_[i_] == '0') ++i_;
    else if (!digits()) { i_ = start; return fail("Expecting value"); }
    if (i_ + 1 < s_.size() && s_[i_] == '.' && s_[i_ + 1] >= '0' && s_[i_ + 1] <= '9') {
      ++i_;
      is_float = true;
      digits();
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      std::size_t mark = i_++;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      if (digits()) is_float = true;
      else i_ = mark;
    }
    std::string_view text = s_.substr(start, i_ - start);
    if (!is_float) {
      std::int64_t n = 0;
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
      if (ec == std::errc() && p == text.data() + text.size()) return py::Value(n);
      // beyond int64: Python keeps a big int; we keep the nearest float
    }
    double d = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
    if (ec == std::errc::result_out_of_range) d = text.front() == '-' ? -HUGE_VAL : HUGE_VAL;
    return py::Value(d);
  }
};

// Text that is not UTF-8 still prints as JSON: a lone surrogate (from a
// \u escape) as its escape, a stray byte as Python's surrogateescape
// spells it (\udcXX, what os.fsdecode makes of a non-UTF-8 file name).
void dump_string(std::string& out, std::string_view s) {
  out += '"';
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const std::size_t n = utf8_length(s, i, /*surrogates=*/true);
      char buf[8];
      if (n == 3 && c == 0xED && static_cast<unsigned char>(s[i + 1]) >= 0xA0) {
        const unsigned cp = 0xD000u | ((static_cast<unsigned char>(s[i + 1]) & 0x3Fu) << 6) |
                            (static_cast<unsigned char>(s[i + 2]) & 0x3Fu);
        std::snprintf(buf, sizeof buf, "\\u%04x", cp);
        out += buf;
      } else if (n > 0) {
        out.append(s.substr(i, n));
      } else {
        std::snprintf(buf, sizeof buf, "\\udc%02x", c);
        out += buf;
        continue;
      }
      i += n - 1;
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

void dump_to(std::string& out, const py::Value& v) {
  if (v.is_none()) out += "null";
  else if (v.is<bool>()) out += v.as<bool>() ? "true" : "false";
  else if (v.is<std::int64_t>()) out += std::to_string(v.as<std::int64_t>());
  else if (v.is<double>()) {
    double d = v.as<double>();
    if (std::isnan(d)) out += "\"NaN\"";
    else if (std::isinf(d)) out += d > 0 ? "\"Infinity\"" : "\"-Infinity\"";
    else out += py::float_repr(d);
  } else if (v.is<std::string>()) {
    dump_string(out, v.as<std::string>());
  } else if (v.is<py::List>()) {
    out += '[';
    bool first = true;
    for (const auto& x : v.as<py::List>()) {
      if (!first) out += ", ";
      first = false;
      dump_to(out, x);
    }
    out += ']';
  } else {
    out += '{';
    bool first = true;
    for (const auto& [k, x] : v.as<py::Dict>()) {
      if (!first) out += ", ";
      first = false;
      dump_string(out, k);
      out += ": ";
      dump_to(out, x);
    }
    out += '}';
  }
}

}  // namespace

py::Result<py::Value> parse(std::string_view text, bool allow_nonfinite) {
  return Parser(text, allow_nonfinite).document();
}

std::string dump(const py::Value& value) {
  std::string out;
  dump_to(out, value);
  return out;
}

}  // namespace ckpt::json
