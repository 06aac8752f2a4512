// ckpt.py:ops — Python's operators over `Value`, with Python's exceptions.
//
// Only the operations the reference hooks apply to user-supplied values:
// truthiness, ==, ordering, - and %, len, repr/str. Numbers follow Python:
// bool is an int, int op float is float, % takes the divisor's sign.
module;
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
export module ckpt.py:ops;
import :value;

export namespace ckpt::py {

/// `type(x).__name__`.
std::string_view type_name(const Value& x);
/// `str(type(x))`, as messages show it: `<class 'int'>`.
std::string class_repr(const Value& x);
/// `bool(x)`.
bool truthy(const Value& x);
/// `x == y` (cross-type numeric equality, dicts compared as mappings).
bool eq(const Value& x, const Value& y);

enum class Cmp { lt, le, gt, ge };
/// `x < y` and friends; `TypeError` where Python has no ordering.
Result<bool> compare(const Value& x, Cmp op, const Value& y);

/// `x - y` and `x % y` for the types Python defines them on.
Result<Value> sub(const Value& x, const Value& y);
Result<Value> mod(const Value& x, const Value& y);

/// `len(x)`; strings count code points.
Result<std::int64_t> len(const Value& x);

/// `repr(x)` and `str(x)`.
std::string repr(const Value& x);
std::string str(const Value& x);
/// Python's repr of a float (shortest round trip, `1e+16`, `inf`, `nan`).
std::string float_repr(double d);
/// Python's repr of a str (quotes and escapes chosen as Python does).
std::string str_repr(std::string_view s);

/// True for int and bool (Python's `isinstance(x, int)`).
bool is_int(const Value& x);
/// True for int, bool and float.
bool is_number(const Value& x);
/// The integer value of an int or bool; precondition: is_int(x).
std::int64_t to_int(const Value& x);
/// The float value of a number; precondition: is_number(x).
double to_double(const Value& x);

std::ostream& operator<<(std::ostream& os, const Value& x);
std::ostream& operator<<(std::ostream& os, const PyError& e);
std::ostream& operator<<(std::ostream& os, None);

}  // namespace ckpt::py
