// py::Value <-> Tree: the policy's values as the torch side receives them.
// Both are plain trees of the same shape, so the conversion is exact.
#include <cstdint>
#include <string>
#include <utility>
#include <variant>

#include "ckpt/internal/overload.hpp"
#include "engine.hpp"
#include "tree.hpp"
import ckpt;

namespace ckpt::checkpointer {

using internal::overload;

Tree to_tree(const py::Value& v) {
  return std::visit(overload{
                        [](const py::None&) { return Tree(); },
                        [](bool b) { return Tree(b); },
                        [](std::int64_t i) { return Tree(i); },
                        [](double d) { return Tree(d); },
                        [](const std::string& s) { return Tree(s); },
                        [](const py::List& l) {
                          Tree::List out;
                          for (const auto& x : l) out.push_back(to_tree(x));
                          return Tree(std::move(out));
                        },
                        [](const py::Dict& d) { return Tree(to_tree(d)); },
                    },
                    v.v);
}

Tree::Dict to_tree(const py::Dict& d) {
  Tree::Dict out;
  for (const auto& [k, x] : d) out.emplace_back(k, to_tree(x));
  return out;
}

py::Value to_value(const Tree& t) {
  return std::visit(overload{
                        [](const std::monostate&) { return py::Value(); },
                        [](bool b) { return py::Value(b); },
                        [](std::int64_t i) { return py::Value(static_cast<long long>(i)); },
                        [](double d) { return py::Value(d); },
                        [](const std::string& s) { return py::Value(s); },
                        [](const Tree::List& l) {
                          py::List out;
                          for (const auto& x : l) out.push_back(to_value(x));
                          return py::Value(std::move(out));
                        },
                        [](const Tree::Dict& d) { return py::Value(to_dict(d)); },
                    },
                    t.v);
}

py::Dict to_dict(const Tree::Dict& d) {
  py::Dict out;
  for (const auto& [k, x] : d) out.emplace_back(k, to_value(x));
  return out;
}

}  // namespace ckpt::checkpointer
