// Value helpers: lookup, equality (bitwise for tensors, so a round trip is
// checked exactly) and a Python-like printer for test failures.
#include <ATen/ATen.h>

#include <cstring>
#include <ostream>

#include "checkpoint.hpp"
#include "ckpt/internal/overload.hpp"

namespace ckpt::torch_store {
namespace {

bool same_bytes(const at::Tensor& a, const at::Tensor& b) {
  if (a.defined() != b.defined()) return false;
  if (!a.defined()) return true;
  if (a.scalar_type() != b.scalar_type() || a.sizes() != b.sizes()) return false;
  const at::Tensor x = a.cpu().resolve_conj().resolve_neg().contiguous();
  const at::Tensor y = b.cpu().resolve_conj().resolve_neg().contiguous();
  return x.nbytes() == 0 || std::memcmp(x.data_ptr(), y.data_ptr(), x.nbytes()) == 0;
}

template <class Pairs>
bool same_pairs(const Pairs& a, const Pairs& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].first != b[i].first || a[i].second != b[i].second) return false;
  return true;
}

bool same_items(const std::vector<Value>& a, const std::vector<Value>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i]) return false;
  return true;
}

void print_str(std::ostream& os, const std::string& s) {
  os << '\'';
  for (char c : s) {
    if (c == '\'' || c == '\\') os << '\\';
    os << c;
  }
  os << '\'';
}

template <class Pairs>
void print_pairs(std::ostream& os, const Pairs& items) {
  os << '{';
  for (std::size_t i = 0; i < items.size(); ++i) os << (i ? ", " : "") << items[i].first << ": " << items[i].second;
  os << '}';
}

}  // namespace

Dict::Dict() = default;
Dict::Dict(Items items_, bool ordered_, Items attributes_)
    : items(std::move(items_)), ordered(ordered_), attributes(std::move(attributes_)) {}

const Value* Dict::find(std::string_view key) const {
  for (const auto& [k, v] : items)
    if (k.is<std::string>() && k.as<std::string>() == key) return &v;
  return nullptr;
}

Value* Dict::find(std::string_view key) { return const_cast<Value*>(static_cast<const Dict*>(this)->find(key)); }

void Dict::set(std::string key, Value value) {
  if (Value* v = find(key))
    *v = std::move(value);
  else
    items.emplace_back(std::move(key), std::move(value));
}

bool operator==(const Value& a, const Value& b) {
  if (a.data.index() != b.data.index()) return false;
  return std::visit(
      internal::overload{
          [](None, None) { return true; },
          [](const List& x, const List& y) { return same_items(x.items, y.items); },
          [](const Tuple& x, const Tuple& y) { return same_items(x.items, y.items); },
          [](const Dict& x, const Dict& y) {
            return x.ordered == y.ordered && same_pairs(x.items, y.items) && same_pairs(x.attributes, y.attributes);
          },
          [](const at::Tensor& x, const at::Tensor& y) { return same_bytes(x, y); },
          [](const Unsupported& x, const Unsupported& y) {
            return x.class_name == y.class_name &&
                   (x.recipe == y.recipe || (x.recipe && y.recipe && *x.recipe == *y.recipe));
          },
          [](double x, double y) { return x == y || (x != x && y != y); },
          [](const auto& x, const auto& y) {
            if constexpr (std::is_same_v<decltype(x), decltype(y)>)
              return x == y;
            else
              return false;
          }},
      a.data, b.data);
}

bool operator==(const Recipe& a, const Recipe& b) {
  return a.kind == b.kind && a.module == b.module && a.name == b.name && a.callable == b.callable &&
         a.args == b.args && same_items(a.list_items, b.list_items) && same_pairs(a.dict_items, b.dict_items) &&
         a.state == b.state;
}

std::ostream& operator<<(std::ostream& os, const Value& v) {
  std::visit(ckpt::internal::overload{[&](None) { os << "None"; },
                      [&](bool b) { os << (b ? "True" : "False"); },
                      [&](std::int64_t i) { os << i; },
                      [&](double d) { os << d; },
                      [&](const std::string& s) { print_str(os, s); },
                      [&](const List& l) {
                        os << '[';
                        for (std::size_t i = 0; i < l.items.size(); ++i) os << (i ? ", " : "") << l.items[i];
                        os << ']';
                      },
                      [&](const Tuple& t) {
                        os << '(';
                        for (std::size_t i = 0; i < t.items.size(); ++i) os << (i ? ", " : "") << t.items[i];
                        os << (t.items.size() == 1 ? ",)" : ")");
                      },
                      [&](const Dict& d) {
                        if (d.ordered) os << "OrderedDict";
                        print_pairs(os, d.items);
                        if (!d.attributes.empty()) print_pairs(os << " with ", d.attributes);
                      },
                      [&](const at::Tensor& t) {
                        if (!t.defined()) {
                          os << "tensor(undefined)";
                          return;
                        }
                        os << "tensor(" << c10::toString(t.scalar_type()) << t.sizes() << ')';
                      },
                      [&](const Unsupported& u) { os << '<' << u.class_name << '>'; }},
             v.data);
  return os;
}

}  // namespace ckpt::torch_store
