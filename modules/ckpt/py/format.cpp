// Bodies of ckpt.py:format: the replacement-field parser of `str.format`
// and the format-spec mini-language for int, bool, float, str and None.
module;
#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <span>
#include <string>
#include <string_view>
module ckpt.py;

namespace ckpt::py {

namespace {

// ---- format spec: [[fill]align][sign][z][#][0][width][grouping][.precision][type]

struct Spec {
  std::string fill = " ";
  char align = 0;  // 0: type default
  char sign = 0;
  bool z = false;
  bool alternate = false;
  long long width = -1;
  char grouping = 0;
  long long precision = -1;
  char type = 0;
  bool fill_given = false;
  bool align_from_zero = false;  // '=' came from the '0' flag, not the user
};

// Widths and precisions whose output grows with them stop here: Python
// would build the string (a width of 10**9 is a 1-4 GB string, and as a
// checkpoint name it then fails at open with OSError [Errno 36]); ckpt
// raises MemoryError instead of allocating it (fuzzing found snprintf
// asking for 4 GB). 'g' and a bare precision are exempt: their output
// stops at a double's last digit, so any precision gives a short string.
constexpr long long kLongestFormatted = 1'000'000;
// A double's exact decimal expansion has at most 767 significant digits:
// beyond this many, a 'g' precision only adds zeros that are stripped.
constexpr int kSignificantDigitsCap = 800;

PyError memory_error(std::string_view what, long long n) {
  return PyError{.type = "MemoryError",
                 .message = "format spec " + std::string(what) + " " + std::to_string(n) +
                            " would build a string of that many characters; ckpt formats at most " +
                            std::to_string(kLongestFormatted) +
                            " (the reference builds it, and cannot open a file by that name)"};
}

// snprintf into a string of the length it needs (precisions reach
// kLongestFormatted, far past any fixed buffer).
template <class... A>
std::string printf_string(const char* format, A... args) {
  int n = std::snprintf(nullptr, 0, format, args...);
  if (n <= 0) return {};
  std::string out(static_cast<std::size_t>(n) + 1, '\0');
  std::snprintf(out.data(), out.size(), format, args...);
  out.pop_back();
  return out;
}

bool is_align(char c) { return c == '<' || c == '>' || c == '=' || c == '^'; }

std::size_t utf8_len(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead >> 5) == 0x6) return 2;
  if ((lead >> 4) == 0xE) return 3;
  return 4;
}

std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

std::string type_word(const Value& v) { return std::string(type_name(v)); }

Result<Spec> parse_spec(std::string_view s, const Value& v) {
  Spec spec;
  std::size_t i = 0;
  std::size_t first = s.empty() ? 0 : utf8_len(static_cast<unsigned char>(s[0]));
  if (s.size() > first && is_align(s[first])) {
    spec.fill = std::string(s.substr(0, first));
    spec.fill_given = true;
    spec.align = s[first];
    i = first + 1;
  } else if (!s.empty() && is_align(s[0])) {
    spec.align = s[0];
    i = 1;
  }
  if (i < s.size() && (s[i] == '+' || s[i] == '-' || s[i] == ' ')) spec.sign = s[i++];
  if (i < s.size() && s[i] == 'z') { spec.z = true; ++i; }
  if (i < s.size() && s[i] == '#') { spec.alternate = true; ++i; }
  if (i < s.size() && s[i] == '0') {
    if (!spec.fill_given) { spec.fill = "0"; }
    if (!spec.align) {
      spec.align = '=';
      spec.align_from_zero = true;
    }
    ++i;
  }
  // Python reads the digits as a Py_ssize_t: more than that is ValueError;
  // the value is kept up to INT_MAX + 1, past every limit checked below.
  bool too_many_digits = false;
  auto digits = [&](long long& out) {
    std::size_t start = i;
    long long n = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      int d = s[i] - '0';
      if (n > (LLONG_MAX - d) / 10) too_many_digits = true;
      else n = n * 10 + d;
      ++i;
    }
    if (i > start) out = n > static_cast<long long>(INT_MAX) ? static_cast<long long>(INT_MAX) + 1 : n;
    return i > start;
  };
  if (digits(spec.width) && too_many_digits) return value_error("Too many decimal digits in format string");
  if (i < s.size() && (s[i] == ',' || s[i] == '_')) {
    spec.grouping = s[i++];
    if (i < s.size() && (s[i] == ',' || s[i] == '_')) {
      if (s[i] == spec.grouping)
        return value_error(std::string("Cannot specify '") + s[i] + "' with '" + s[i] + "'.");
      return value_error("Cannot specify both ',' and '_'.");
    }
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits(spec.precision)) return value_error("Format specifier missing precision");
    if (too_many_digits) return value_error("Too many decimal digits in format string");
  }
  if (s.size() - i > 1)
    return value_error("Invalid format specifier '" + std::string(s) + "' for object of type '" + type_word(v) + "'");
  if (i < s.size()) spec.type = s[i];
  if (spec.grouping) {
    std::string_view ok = spec.grouping == ',' ? std::string_view("\0deEfFgG%", 9) : std::string_view("\0deEfFgG%boxX", 13);
    if (ok.find(spec.type) == std::string_view::npos)
      return value_error(std::string("Cannot specify '") + spec.grouping + "' with '" + spec.type + "'.");
  }
  return spec;
}

std::string repeat(const std::string& fill, std::size_t n) {
  std::string out;
  for (std::size_t k = 0; k < n; ++k) out += fill;
  return out;
}

// Pads `body` (already including sign and prefix) to the spec's width.
// `split` is where '=' alignment inserts the padding (after sign/prefix).
Result<std::string> pad(const std::string& body, std::size_t split, const Spec& spec, char default_align) {
  if (spec.width > kLongestFormatted) return memory_error("width", spec.width);
  std::size_t len = code_points(body);
  if (spec.width < 0 || len >= static_cast<std::size_t>(spec.width)) return body;
  std::size_t n = static_cast<std::size_t>(spec.width) - len;
  switch (spec.align ? spec.align : default_align) {
    case '<': return body + repeat(spec.fill, n);
    case '^': return repeat(spec.fill, n / 2) + body + repeat(spec.fill, n - n / 2);
    case '=': return body.substr(0, split) + repeat(spec.fill, n) + body.substr(split);
    default: return repeat(spec.fill, n) + body;
  }
}

// Inserts `sep` every `group` digits from the right; with zero padding,
// extends with zeros (and separators) until `min_width` is reached, as
// CPython's _PyUnicode_InsertThousandsGrouping does.
std::string group_digits(const std::string& digits, char sep, std::size_t group, std::size_t min_width) {
  std::string out;  // built from the right, reversed at the end (linear in min_width)
  std::size_t count = 0;
  std::size_t k = digits.size();
  for (;;) {
    bool have = k > 0;
    bool need = out.size() < min_width;
    if (!have && !need) break;
    if (count == group) {
      out.push_back(sep);
      count = 0;
      // padding that ends on a separator gets one more zero: never lead with it
      if (!have && out.size() >= min_width) {
        out.push_back('0');
        break;
      }
      continue;
    }
    out.push_back(have ? digits[--k] : '0');
    ++count;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

std::string sign_text(bool negative, char sign) {
  if (negative) return "-";
  if (sign == '+') return "+";
  if (sign == ' ') return " ";
  return "";
}

Result<std::string> format_float(double d, const Spec& spec_in, const Value& original);

// Python's float format with no type but a precision: like 'g', but
// scientific from exponent p-1 on, and fixed notation keeps a digit after
// the point ('{:.3}'.format(1.0) == '1.0', '{:.1}'.format(1.5) == '2e+00').
std::string general_with_point(double mag, int prec, bool alternate) {
  int p = prec == 0 ? 1 : prec;
  std::string sci = printf_string("%.*e", p - 1, mag);
  int exp10 = std::stoi(sci.substr(sci.find('e') + 1));
  auto strip = [&](std::string x, bool keep_one) {
    if (alternate) {
      if (x.find('.') == std::string::npos) x += '.';
      return x;
    }
    if (x.find('.') == std::string::npos) return keep_one ? x + ".0" : x;
    while (x.back() == '0') x.pop_back();
    if (x.back() == '.') {
      if (keep_one) x += '0';
      else x.pop_back();
    }
    return x;
  };
  if (exp10 < -4 || exp10 >= p - 1) {
    auto e = sci.find('e');
    return strip(sci.substr(0, e), false) + sci.substr(e);
  }
  return strip(printf_string("%.*f", p - 1 - exp10, mag), true);
}

Result<std::string> format_int(std::int64_t n, const Spec& spec, const Value& original) {
  char t = spec.type;
  if (t == 'e' || t == 'E' || t == 'f' || t == 'F' || t == 'g' || t == 'G' || t == '%')
    return format_float(static_cast<double>(n), spec, original);
  if (!(t == 0 || t == 'd' || t == 'n' || t == 'b' || t == 'o' || t == 'x' || t == 'X' || t == 'c'))
    return value_error(std::string("Unknown format code '") + t + "' for object of type '" + type_word(original) + "'");
  if (spec.precision >= 0) return value_error("Precision not allowed in integer format specifier");
  if (spec.z) return value_error("Negative zero coercion (z) not allowed in integer format specifier");
  if (t == 'c') {
    if (spec.sign) return value_error("Sign not allowed with integer format specifier 'c'");
    if (spec.alternate) return value_error("Alternate form (#) not allowed with integer format specifier 'c'");
    if (n < 0 || n > 0x10FFFF) return PyError{"OverflowError", "%c arg not in range(0x110000)", ""};
    std::string ch;
    auto c = static_cast<std::uint32_t>(n);
    if (c < 0x80) ch += static_cast<char>(c);
    else if (c < 0x800) { ch += static_cast<char>(0xC0 | (c >> 6)); ch += static_cast<char>(0x80 | (c & 0x3F)); }
    else if (c < 0x10000) { ch += static_cast<char>(0xE0 | (c >> 12)); ch += static_cast<char>(0x80 | ((c >> 6) & 0x3F)); ch += static_cast<char>(0x80 | (c & 0x3F)); }
    else { ch += static_cast<char>(0xF0 | (c >> 18)); ch += static_cast<char>(0x80 | ((c >> 12) & 0x3F)); ch += static_cast<char>(0x80 | ((c >> 6) & 0x3F)); ch += static_cast<char>(0x80 | (c & 0x3F)); }
    return pad(ch, 0, spec, '<');
  }
  bool negative = n < 0;
  unsigned __int128 mag = negative ? static_cast<unsigned __int128>(-(static_cast<__int128>(n))) : static_cast<unsigned __int128>(n);
  unsigned base = t == 'b' ? 2 : t == 'o' ? 8 : (t == 'x' || t == 'X') ? 16 : 10;
  const char* digit_chars = t == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string digits;
  do {
    digits.insert(digits.begin(), digit_chars[static_cast<unsigned>(mag % base)]);
    mag /= base;
  } while (mag);
  std::string prefix;
  if (spec.alternate && base != 10) prefix = std::string("0") + (t == 'X' ? 'X' : t);
  std::string sign = sign_text(negative, spec.sign);
  std::size_t group = base == 10 ? 3 : 4;
  bool zero_fill = spec.fill == "0" && spec.align == '=';
  if (spec.grouping) {
    if (spec.width > kLongestFormatted) return memory_error("width", spec.width);  // before the zeros it implies
    std::size_t min_width = 0;
    if (zero_fill && spec.width > 0) {
      auto used = sign.size() + prefix.size();
      if (static_cast<std::size_t>(spec.width) > used) min_width = static_cast<std::size_t>(spec.width) - used;
    }
    digits = group_digits(digits, spec.grouping, group, min_width);
  }
  std::string head = sign + prefix;
  return pad(head + digits, head.size(), spec, '>');
}

// Python's float formatting for the presentation types; `repr` for none.
Result<std::string> format_float(double d, const Spec& spec, const Value& original) {
  char t = spec.type;
  if (!(t == 0 || t == 'e' || t == 'E' || t == 'f' || t == 'F' || t == 'g' || t == 'G' || t == 'n' || t == '%'))
    return value_error(std::string("Unknown format code '") + t + "' for object of type '" + type_word(original) + "'");
  bool negative = std::signbit(d);
  double mag = std::fabs(d);
  std::string body;
  bool upper = t == 'E' || t == 'F' || t == 'G';
  if (std::isnan(d) || std::isinf(d)) {
    body = std::isnan(d) ? "nan" : "inf";
    if (upper) for (auto& c : body) c = static_cast<char>(c - 32);
    if (t == '%') body += "%";
    if (std::isnan(d)) negative = false;
  } else {
    if (spec.precision > INT_MAX) return value_error("precision too big");
    bool stripped = (t == 0 || t == 'g' || t == 'G' || t == 'n') && !spec.alternate;
    if (!stripped && spec.precision > kLongestFormatted) return memory_error("precision", spec.precision);
    int prec = static_cast<int>(stripped ? std::min<long long>(spec.precision, kSignificantDigitsCap) : spec.precision);
    if (t == 0 && prec < 0) {
      body = float_repr(mag);
      if (spec.alternate && body.find('.') == std::string::npos) {  // '#' keeps the point: 1.e-05
        auto e = body.find('e');
        body.insert(e == std::string::npos ? body.size() : e, ".");
      }
    } else if (t == 0) {
      body = general_with_point(mag, prec, spec.alternate);
    } else if (t == 'f' || t == 'F' || t == '%') {
      double x = t == '%' ? mag * 100 : mag;
      body = printf_string(spec.alternate ? "%#.*f" : "%.*f", prec < 0 ? 6 : prec, x);
      if (t == '%') body += "%";
    } else if (t == 'e' || t == 'E') {
      body = printf_string(spec.alternate ? "%#.*e" : "%.*e", prec < 0 ? 6 : prec, mag);
    } else {  // g, G, n
      int p = prec < 0 ? 6 : (prec == 0 ? 1 : prec);
      body = printf_string(spec.alternate ? "%#.*g" : "%.*g", p, mag);
    }
    if (upper) for (auto& c : body) if (c == 'e') c = 'E';
    if (spec.z && negative) {
      bool all_zero = body.find_first_of("123456789") == std::string::npos;
      if (all_zero) negative = false;
    }
  }
  if (spec.grouping && std::isfinite(d)) {  // nan and inf are never grouped
    if (spec.width > kLongestFormatted) return memory_error("width", spec.width);
    auto end = body.find_first_not_of("0123456789");
    std::string int_part = body.substr(0, end);
    std::string rest = end == std::string::npos ? "" : body.substr(end);
    bool zero_fill = spec.fill == "0" && spec.align == '=';
    std::size_t min_width = 0;
    std::string sign = sign_text(negative, spec.sign);
    if (zero_fill && spec.width > 0 && static_cast<std::size_t>(spec.width) > sign.size() + rest.size())
      min_width = static_cast<std::size_t>(spec.width) - sign.size() - rest.size();
    body = group_digits(int_part, spec.grouping, 3, min_width) + rest;
  }
  std::string sign = sign_text(negative, spec.sign);
  return pad(sign + body, sign.size(), spec, '>');
}

Result<std::string> format_str(const std::string& s, const Spec& spec, const Value& original) {
  if (spec.type && spec.type != 's')
    return value_error(std::string("Unknown format code '") + spec.type + "' for object of type '" + type_word(original) + "'");
  if (spec.sign) return value_error("Sign not allowed in string format specifier");
  if (spec.alternate) return value_error("Alternate form (#) not allowed in string format specifier");
  if (spec.align == '=' && !spec.align_from_zero)
    return value_error("'=' alignment not allowed in string format specifier");
  if (spec.grouping) return value_error(std::string("Cannot specify '") + spec.grouping + "' with 's'.");
  Spec padded = spec;
  if (padded.align_from_zero) padded.align = 0;  // '{:04}'.format('ab') == 'ab00'

  std::string body = s;
  if (spec.precision >= 0) {
    std::size_t keep = static_cast<std::size_t>(spec.precision), cps = 0, i = 0;
    for (; i < body.size(); ++i) {
      if ((static_cast<unsigned char>(body[i]) & 0xC0) != 0x80) {
        if (cps == keep) break;
        ++cps;
      }
    }
    body.resize(i);
  }
  return pad(body, 0, padded, '<');
}

// ---- replacement fields

// `ascii()`: non-ASCII code points become \xNN, \uNNNN or \UNNNNNNNN.
std::string ascii(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    auto lead = static_cast<unsigned char>(s[i]);
    std::size_t n = utf8_len(lead);
    if (n == 1) {
      out += s[i++];
      continue;
    }
    std::uint32_t cp = lead & (0xFF >> (n + 1));
    for (std::size_t k = 1; k < n && i + k < s.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    char buf[16];
    if (cp < 0x100) std::snprintf(buf, sizeof buf, "\\x%02x", cp);
    else if (cp < 0x10000) std::snprintf(buf, sizeof buf, "\\u%04x", cp);
    else std::snprintf(buf, sizeof buf, "\\U%08x", cp);
    out += buf;
    i += n;
  }
  return out;
}

struct Counter {
  enum Mode { unknown, automatic, manual } mode = unknown;
  std::size_t next = 0;
};

Result<Value> lookup(std::string_view field, std::span<const Value> args, Counter& counter) {
  std::size_t end = field.find_first_of(".[");
  std::string_view first = field.substr(0, end);
  Value obj;
  if (first.empty()) {
    if (counter.mode == Counter::manual)
      return value_error("cannot switch from manual field specification to automatic field numbering");
    counter.mode = Counter::automatic;
    std::size_t index = counter.next++;
    if (index >= args.size())
      return index_error("Replacement index " + std::to_string(index) + " out of range for positional args tuple", "B61");
    obj = args[index];
  } else if (first.find_first_not_of("0123456789") == std::string_view::npos) {
    if (counter.mode == Counter::automatic)
      return value_error("cannot switch from automatic field numbering to manual field specification");
    counter.mode = Counter::manual;
    std::size_t index = std::stoul(std::string(first.substr(0, 18)));
    if (index >= args.size())
      return index_error("Replacement index " + std::to_string(index) + " out of range for positional args tuple", "B61");
    obj = args[index];
  } else {
    return key_error(str_repr(first), "B61");
  }
  std::size_t i = end;
  while (i != std::string_view::npos && i < field.size()) {
    if (field[i] == '.') {
      std::size_t next = field.find_first_of(".[", i + 1);
      std::string name(field.substr(i + 1, next == std::string_view::npos ? std::string_view::npos : next - i - 1));
      if (name.empty()) return value_error("Empty attribute in format string");
      if (is_int(obj) && (name == "real" || name == "numerator")) obj = Value(to_int(obj));
      else if (is_int(obj) && name == "imag") obj = Value(0);
      else if (is_int(obj) && name == "denominator") obj = Value(1);
      else return attribute_error("'" + type_word(obj) + "' object has no attribute " + str_repr(name));
      i = next;
    } else {  // '['
      std::size_t close = field.find(']', i);
      if (close == std::string_view::npos) return value_error("Missing ']' in format string");
      std::string key(field.substr(i + 1, close - i - 1));
      if (key.empty()) return value_error("Empty attribute in format string");
      bool numeric = key.find_first_not_of("0123456789") == std::string::npos;
      if (obj.is<List>() || obj.is<std::string>()) {
        if (!numeric)
          return type_error(std::string(obj.is<List>() ? "list" : "string") + " indices must be integers" +
                            (obj.is<List>() ? " or slices, not str" : ""));
        std::size_t k = std::stoul(key.substr(0, 18));
        if (obj.is<List>()) {
          if (k >= obj.as<List>().size()) return index_error("list index out of range");
          obj = Value(obj.as<List>()[k]);
        } else {
          if (k >= obj.as<std::string>().size()) return index_error("string index out of range");
          obj = Value(std::string(1, obj.as<std::string>()[k]));
        }
      } else if (obj.is<Dict>()) {
        if (numeric) return key_error(key);
        const Value* found = find(obj.as<Dict>(), key);
        if (!found) return key_error(str_repr(key));
        obj = Value(*found);
      } else {
        return type_error("'" + type_word(obj) + "' object is not subscriptable");
      }
      i = close + 1;
      if (i < field.size() && field[i] != '.' && field[i] != '[')
        return value_error("Only '.' or '[' may follow ']' in format field specifier");
    }
  }
  return obj;
}

Result<std::string> render(std::string_view tmpl, std::span<const Value> args, Counter& counter, int depth);

Result<std::string> replace_field(std::string_view field, std::span<const Value> args, Counter& counter, int depth) {
  // field_name [! conversion] [: format_spec]; ':' and '!' inside [] belong to the name.
  std::size_t i = 0;
  while (i < field.size() && field[i] != ':' && field[i] != '!') {
    if (field[i] == '[') {
      while (i < field.size() && field[i] != ']') ++i;
      if (i < field.size()) ++i;
    } else {
      ++i;
    }
  }
  std::string_view name = field.substr(0, i);
  char conversion = 0;
  std::string_view spec_text;
  if (i < field.size() && field[i] == '!') {
    if (i + 1 >= field.size()) return value_error("end of string while looking for conversion specifier");
    conversion = field[i + 1];
    i += 2;
    if (i < field.size() && field[i] != ':') return value_error("expected ':' after conversion specifier");
  }
  if (i < field.size() && field[i] == ':') spec_text = field.substr(i + 1);
  auto obj = lookup(name, args, counter);
  if (!obj) return obj.error();
  Value value = std::move(obj).value();
  if (conversion) {
    if (conversion == 'r') value = Value(repr(value));
    else if (conversion == 'a') value = Value(ascii(repr(value)));
    else if (conversion == 's') value = Value(str(value));
    else return value_error(std::string("Unknown conversion specifier ") + conversion);
  }
  std::string spec(spec_text);
  if (spec.find('{') != std::string::npos) {
    if (depth >= 1) return value_error("Max string recursion exceeded");
    auto expanded = render(spec, args, counter, depth + 1);
    if (!expanded) return expanded.error();
    spec = expanded.value();
  }
  return format_one(value, spec);
}

Result<std::string> render(std::string_view tmpl, std::span<const Value> args, Counter& counter, int depth) {
  std::string out;
  std::size_t i = 0;
  while (i < tmpl.size()) {
    char c = tmpl[i];
    if (c == '}') {
      if (i + 1 < tmpl.size() && tmpl[i + 1] == '}') { out += '}'; i += 2; continue; }
      return value_error("Single '}' encountered in format string");
    }
    if (c != '{') { out += c; ++i; continue; }
    if (i + 1 < tmpl.size() && tmpl[i + 1] == '{') { out += '{'; i += 2; continue; }
    if (i + 1 >= tmpl.size()) return value_error("Single '{' encountered in format string");
    // find the matching '}' (nested braces belong to the format spec)
    int level = 1;
    std::size_t j = i + 1;
    for (; j < tmpl.size(); ++j) {
      if (tmpl[j] == '{') ++level;
      else if (tmpl[j] == '}' && --level == 0) break;
    }
    if (j >= tmpl.size()) return value_error("expected '}' before end of string");
    auto piece = replace_field(tmpl.substr(i + 1, j - i - 1), args, counter, depth);
    if (!piece) return piece.error();
    out += piece.value();
    i = j + 1;
  }
  return out;
}

}  // namespace

Result<std::string> format_one(const Value& value, std::string_view spec_text) {
  if (value.is<bool>() && spec_text.empty()) return std::string(value.as<bool>() ? "True" : "False");
  if (!(is_number(value) || value.is<std::string>())) {
    if (!spec_text.empty())
      return type_error("unsupported format string passed to " + type_word(value) + ".__format__");
    return str(value);
  }
  auto spec = parse_spec(spec_text, value);
  if (!spec) return spec.error();
  if (is_int(value)) return format_int(to_int(value), *spec, value);
  if (value.is<double>()) return format_float(value.as<double>(), *spec, value);
  return format_str(value.as<std::string>(), *spec, value);
}

Result<std::string> format(std::string_view tmpl, std::span<const Value> args) {
  Counter counter;
  return render(tmpl, args, counter, 0);
}

Result<std::string> format_value(const Value& tmpl, const Value& arg) {
  if (!tmpl.is<std::string>())
    return attribute_error("'" + type_word(tmpl) + "' object has no attribute 'format'", "B61");
  return format(tmpl.as<std::string>(), std::span<const Value>(&arg, 1));
}

}  // namespace ckpt::py
