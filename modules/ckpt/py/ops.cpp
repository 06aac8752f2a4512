// Bodies of ckpt.py:ops.
module;
#include "ckpt/internal/overload.hpp"
#include <charconv>
#include <gsl/assert>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <ostream>
#include <string>
#include <string_view>
#include <variant>
module ckpt.py;

namespace ckpt::py {

namespace {

using internal::overload;

std::string binop_error(std::string_view op, const Value& x, const Value& y) {
  return "unsupported operand type(s) for " + std::string(op) + ": '" +
         std::string(type_name(x)) + "' and '" + std::string(type_name(y)) + "'";
}

std::string_view cmp_symbol(Cmp op) {
  switch (op) {
    case Cmp::lt: return "<";
    case Cmp::le: return "<=";
    case Cmp::gt: return ">";
    case Cmp::ge: return ">=";
  }
  return "?";
}

template <class T>
bool ordered(const T& a, Cmp op, const T& b) {
  switch (op) {
    case Cmp::lt: return a < b;
    case Cmp::le: return a <= b;
    case Cmp::gt: return a > b;
    case Cmp::ge: return a >= b;
  }
  return false;
}

// Python compares int with float exactly; a double compare is exact for
// every int64 this project meets (|n| < 2^53), which is all JSON gives us.
bool numeric_cmp(const Value& x, Cmp op, const Value& y) {
  if (x.is<double>() || y.is<double>()) return ordered(to_double(x), op, to_double(y));
  return ordered(to_int(x), op, to_int(y));
}

Value int_or_float(__int128 r) {
  if (r > std::numeric_limits<std::int64_t>::max() || r < std::numeric_limits<std::int64_t>::min())
    return Value(static_cast<double>(r));  // beyond int64: Python keeps a big int; we degrade to float
  return Value(static_cast<std::int64_t>(r));
}

}  // namespace

std::string_view type_name(const Value& x) {
  return std::visit(overload{
                        [](None) { return std::string_view("NoneType"); },
                        [](bool) { return std::string_view("bool"); },
                        [](std::int64_t) { return std::string_view("int"); },
                        [](double) { return std::string_view("float"); },
                        [](const std::string&) { return std::string_view("str"); },
                        [](const List&) { return std::string_view("list"); },
                        [](const Dict&) { return std::string_view("dict"); },
                    },
                    x.v);
}

std::string class_repr(const Value& x) { return "<class '" + std::string(type_name(x)) + "'>"; }

bool truthy(const Value& x) {
  return std::visit(overload{
                        [](None) { return false; },
                        [](bool b) { return b; },
                        [](std::int64_t i) { return i != 0; },
                        [](double d) { return d != 0.0; },
                        [](const std::string& s) { return !s.empty(); },
                        [](const List& l) { return !l.empty(); },
                        [](const Dict& d) { return !d.empty(); },
                    },
                    x.v);
}

bool is_int(const Value& x) { return x.is<std::int64_t>() || x.is<bool>(); }
bool is_number(const Value& x) { return is_int(x) || x.is<double>(); }
std::int64_t to_int(const Value& x) {
  Expects(is_int(x));
  return x.is<bool>() ? (x.as<bool>() ? 1 : 0) : x.as<std::int64_t>(); }
double to_double(const Value& x) {
  Expects(is_number(x));
  return x.is<double>() ? x.as<double>() : static_cast<double>(to_int(x)); }

bool eq(const Value& x, const Value& y) {
  if (is_number(x) && is_number(y)) {
    if (x.is<double>() || y.is<double>()) return to_double(x) == to_double(y);
    return to_int(x) == to_int(y);
  }
  if (x.v.index() != y.v.index()) return false;
  if (x.is<List>()) {
    const auto& a = x.as<List>();
    const auto& b = y.as<List>();
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (!eq(a[i], b[i])) return false;
    return true;
  }
  if (x.is<Dict>()) {
    const auto& a = x.as<Dict>();
    const auto& b = y.as<Dict>();
    if (a.size() != b.size()) return false;
    for (const auto& item : a) {
      const Value* other = find(b, item.first);
      if (!other || !eq(item.second, *other)) return false;
    }
    return true;
  }
  return x == y;  // None, str
}

Result<bool> compare(const Value& x, Cmp op, const Value& y) {
  if (is_number(x) && is_number(y)) return numeric_cmp(x, op, y);
  if (x.is<std::string>() && y.is<std::string>()) return ordered(x.as<std::string>(), op, y.as<std::string>());
  if (x.is<List>() && y.is<List>()) {
    const auto& a = x.as<List>();
    const auto& b = y.as<List>();
    for (std::size_t i = 0; i < a.size() && i < b.size(); ++i)
      if (!eq(a[i], b[i])) return compare(a[i], op, b[i]);
    return ordered(a.size(), op, b.size());
  }
  return type_error("'" + std::string(cmp_symbol(op)) + "' not supported between instances of '" +
                    std::string(type_name(x)) + "' and '" + std::string(type_name(y)) + "'");
}

Result<Value> sub(const Value& x, const Value& y) {
  if (is_number(x) && is_number(y)) {
    if (x.is<double>() || y.is<double>()) return Value(to_double(x) - to_double(y));
    return int_or_float(static_cast<__int128>(to_int(x)) - to_int(y));
  }
  return type_error(binop_error("-", x, y));
}

Result<Value> mod(const Value& x, const Value& y) {
  if (!(is_number(x) && is_number(y))) return type_error(binop_error("%", x, y));
  if (x.is<double>() || y.is<double>()) {
    double a = to_double(x), b = to_double(y);
    if (b == 0.0) return PyError{"ZeroDivisionError", "float modulo", ""};
    double r = std::fmod(a, b);
    if (r != 0.0 && ((r < 0) != (b < 0))) r += b;
    if (r == 0.0) r = std::copysign(0.0, b);
    return Value(r);
  }
  std::int64_t a = to_int(x), b = to_int(y);
  if (b == 0) return PyError{"ZeroDivisionError", "integer modulo by zero", ""};
  if (b == -1) return Value(std::int64_t{0});  // INT64_MIN % -1 traps in C++; every int % -1 is 0 in Python
  std::int64_t r = a % b;
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return Value(r);
}

Result<std::int64_t> len(const Value& x) {
  if (x.is<std::string>()) {
    std::int64_t n = 0;
    for (unsigned char c : x.as<std::string>())
      if ((c & 0xC0) != 0x80) ++n;
    return n;
  }
  if (x.is<List>()) return static_cast<std::int64_t>(x.as<List>().size());
  if (x.is<Dict>()) return static_cast<std::int64_t>(x.as<Dict>().size());
  return type_error("object of type '" + std::string(type_name(x)) + "' has no len()");
}

std::string float_repr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  // Shortest round-trip digits, then Python's layout: scientific when the
  // decimal exponent is < -4 or >= 16, else positional with a '.0' if integral.
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string sci(buf, end);  // like "1.2345e+02" or "5e-324"
  bool neg = sci[0] == '-';
  if (neg) sci.erase(0, 1);
  auto epos = sci.find('e');
  std::string mant = sci.substr(0, epos);
  int exp10 = std::stoi(sci.substr(epos + 1));
  std::string digits;
  for (char c : mant)
    if (c != '.') digits += c;
  std::string out;
  if (exp10 < -4 || exp10 >= 16) {
    out = digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char e[16];
    std::snprintf(e, sizeof e, "e%c%02d", exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
    out += e;
  } else if (exp10 < 0) {
    out = "0." + std::string(static_cast<std::size_t>(-exp10 - 1), '0') + digits;
  } else {
    auto point = static_cast<std::size_t>(exp10 + 1);
    if (digits.size() <= point) out = digits + std::string(point - digits.size(), '0') + ".0";
    else out = digits.substr(0, point) + "." + digits.substr(point);
  }
  return neg ? "-" + out : out;
}

std::string str_repr(std::string_view s) {
  bool has_single = s.find('\'') != std::string_view::npos;
  bool has_double = s.find('"') != std::string_view::npos;
  char q = (has_single && !has_double) ? '"' : '\'';
  std::string out(1, q);
  for (unsigned char c : s) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c == static_cast<unsigned char>(q)) {
          out += '\\';
          out += static_cast<char>(c);
        } else if (c < 0x20 || c == 0x7f) {
          char e[8];
          std::snprintf(e, sizeof e, "\\x%02x", c);
          out += e;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + q;
}

std::string repr(const Value& x) {
  return std::visit(overload{
                        [](None) { return std::string("None"); },
                        [](bool b) { return std::string(b ? "True" : "False"); },
                        [](std::int64_t i) { return std::to_string(i); },
                        [](double d) { return float_repr(d); },
                        [](const std::string& s) { return str_repr(s); },
                        [](const List& l) {
                          std::string out = "[";
                          for (std::size_t i = 0; i < l.size(); ++i) out += (i ? ", " : "") + repr(l[i]);
                          return out + "]";
                        },
                        [](const Dict& d) {
                          std::string out = "{";
                          for (std::size_t i = 0; i < d.size(); ++i)
                            out += (i ? ", " : "") + str_repr(d[i].first) + ": " + repr(d[i].second);
                          return out + "}";
                        },
                    },
                    x.v);
}

std::string str(const Value& x) { return x.is<std::string>() ? x.as<std::string>() : repr(x); }

std::ostream& operator<<(std::ostream& os, const Value& x) { return os << repr(x); }
std::ostream& operator<<(std::ostream& os, None) { return os << "None"; }
std::ostream& operator<<(std::ostream& os, const PyError& e) {
  os << e.type << "(" << str_repr(e.message) << ")";
  if (!e.parameter.empty()) os << " " << e.parameter << "=" << e.value;
  if (!e.clause.empty()) os << " [" << e.clause << "]";
  return os;
}

}  // namespace ckpt::py
