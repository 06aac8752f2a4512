#include "values.hpp"

#include <string>
#include <utility>
#include <variant>

#include "ckpt/internal/overload.hpp"

namespace ckpt::checkpointer {

namespace ts = torch_store;
using internal::overload;

ts::Value to_torch(const Tree& tree) {
  return std::visit(overload{
                        [](const std::monostate&) { return ts::Value(ts::None{}); },
                        [](bool b) { return ts::Value(b); },
                        [](std::int64_t i) { return ts::Value(i); },
                        [](double d) { return ts::Value(d); },
                        [](const std::string& s) { return ts::Value(s); },
                        [](const Tree::List& l) {
                          ts::List out;
                          for (const auto& x : l) out.items.push_back(to_torch(x));
                          return ts::Value(std::move(out));
                        },
                        [](const Tree::Dict& d) { return ts::Value(to_torch(d)); },
                    },
                    tree.v);
}

ts::Dict to_torch(const Tree::Dict& dict) {
  ts::Dict out;
  for (const auto& [k, x] : dict) out.items.emplace_back(ts::Value(k), to_torch(x));
  return out;
}

std::optional<Tree> to_plain(const ts::Value& value) {
  auto items = [](const std::vector<ts::Value>& xs) -> std::optional<Tree> {
    Tree::List out;
    for (const auto& x : xs) {
      auto p = to_plain(x);
      if (!p) return std::nullopt;
      out.push_back(std::move(*p));
    }
    return Tree(std::move(out));
  };
  return std::visit(overload{
                        [](const ts::None&) -> std::optional<Tree> { return Tree(); },
                        [](bool b) -> std::optional<Tree> { return Tree(b); },
                        [](std::int64_t i) -> std::optional<Tree> { return Tree(i); },
                        [](double d) -> std::optional<Tree> { return Tree(d); },
                        [](const std::string& s) -> std::optional<Tree> { return Tree(s); },
                        [&](const ts::List& l) { return items(l.items); },
                        [&](const ts::Tuple& t) { return items(t.items); },
                        [](const ts::Dict& d) -> std::optional<Tree> {
                          Tree::Dict out;
                          for (const auto& [k, x] : d.items) {
                            auto p = to_plain(x);
                            if (!k.is<std::string>() || !p) return std::nullopt;
                            out.emplace_back(k.as<std::string>(), std::move(*p));
                          }
                          return Tree(std::move(out));
                        },
                        [](const auto&) -> std::optional<Tree> { return std::nullopt; },
                    },
                    value.data);
}

}  // namespace ckpt::checkpointer
