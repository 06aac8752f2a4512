// ckpt.py:value — the dynamic value the reference sees.
//
// The reference hooks take Python keyword arguments of any type and fail (or
// not) only where an operation meets a type it cannot handle. To reproduce
// that faithfully, configuration, runtime info and metrics are held as
// `Value`s, a JSON-shaped model of the Python objects involved. Pure data.
module;
#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>
export module ckpt.py:value;

export namespace ckpt::py {

struct None {
  friend bool operator==(None, None) = default;
};
inline constexpr None none{};

struct Value;
using List = std::vector<Value>;
/// A Python dict with string keys, in insertion order.
using Dict = std::vector<std::pair<std::string, Value>>;

/// A Python object as the reference sees it: None, bool, int, float, str,
/// list or dict. Equality here is structural (for tests); Python's `==` is
/// `py::eq`.
struct Value {
  using Variant = std::variant<None, bool, std::int64_t, double, std::string, List, Dict>;
  Variant v;

  Value() = default;
  Value(None) {}
  Value(bool b) : v(b) {}
  Value(int i) : v(std::int64_t{i}) {}
  Value(long i) : v(std::int64_t{i}) {}
  Value(long long i) : v(static_cast<std::int64_t>(i)) {}
  Value(double d) : v(d) {}
  Value(const char* s) : v(std::string(s)) {}
  Value(std::string s) : v(std::move(s)) {}
  Value(std::string_view s) : v(std::string(s)) {}
  Value(List l) : v(std::move(l)) {}
  Value(Dict d) : v(std::move(d)) {}

  static Value list(std::initializer_list<Value> items) { return Value(List(items)); }

  template <class T> bool is() const { return std::holds_alternative<T>(v); }
  template <class T> const T& as() const { return std::get<T>(v); }
  template <class T> T& as() { return std::get<T>(v); }
  bool is_none() const { return is<None>(); }

  friend bool operator==(const Value&, const Value&) = default;
};

/// Looks a key up in a dict; nullptr when absent.
inline const Value* find(const Dict& d, std::string_view key) {
  for (const auto& item : d)
    if (item.first == key) return &item.second;
  return nullptr;
}
inline Value* find(Dict& d, std::string_view key) {
  for (auto& item : d)
    if (item.first == key) return &item.second;
  return nullptr;
}
/// `d[key] = value`, keeping the position of an existing key (Python dicts do).
inline void set(Dict& d, std::string_view key, Value value) {
  if (auto* slot = find(d, key)) *slot = std::move(value);
  else d.push_back({std::string(key), std::move(value)});
}
inline bool erase(Dict& d, std::string_view key) {
  for (auto it = d.begin(); it != d.end(); ++it)
    if (it->first == key) { d.erase(it); return true; }
  return false;
}

/// A Python exception: the reference's class name, its message, and the spec
/// clause that makes it happen (empty where none does).
struct PyError {
  std::string type;
  std::string message;
  std::string clause;
  /// For configuration errors: the keyword argument at fault and its value
  /// as Python's repr shows it (the reference's message does not always say).
  std::string parameter = {};
  std::string value = {};
  friend bool operator==(const PyError&, const PyError&) = default;
};

/// Either a value or the exception the reference raises instead.
template <class T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(PyError error) : v_(std::move(error)) {}
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  const T& value() const& { return std::get<0>(v_); }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  const PyError& error() const { return std::get<1>(v_); }
  friend bool operator==(const Result&, const Result&) = default;

 private:
  std::variant<T, PyError> v_;
};

/// `e` with `clause` filled in where it names none yet.
inline PyError with_clause(PyError e, const char* clause) {
  if (e.clause.empty()) e.clause = clause;
  return e;
}

inline PyError type_error(std::string msg, std::string clause = {}) {
  return {"TypeError", std::move(msg), std::move(clause)};
}
inline PyError value_error(std::string msg, std::string clause = {}) {
  return {"ValueError", std::move(msg), std::move(clause)};
}
inline PyError key_error(std::string msg, std::string clause = {}) {
  return {"KeyError", std::move(msg), std::move(clause)};
}
inline PyError assertion_error(std::string msg, std::string clause = {}) {
  return {"AssertionError", std::move(msg), std::move(clause)};
}
inline PyError index_error(std::string msg, std::string clause = {}) {
  return {"IndexError", std::move(msg), std::move(clause)};
}
inline PyError attribute_error(std::string msg, std::string clause = {}) {
  return {"AttributeError", std::move(msg), std::move(clause)};
}

}  // namespace ckpt::py
