#include "values.hpp"

#include <set>
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

namespace {

void add_storages(const ts::Value& v, std::set<const void*>& seen, std::uint64_t& bytes, std::uint64_t& records) {
  if (v.is<at::Tensor>()) {
    const at::Tensor& t = v.as<at::Tensor>();
    if (t.defined() && seen.insert(t.storage().unsafeGetStorageImpl()).second) {
      bytes += t.storage().nbytes();
      ++records;
    }
  } else if (v.is<ts::List>()) {
    for (const auto& x : v.as<ts::List>().items) add_storages(x, seen, bytes, records);
  } else if (v.is<ts::Tuple>()) {
    for (const auto& x : v.as<ts::Tuple>().items) add_storages(x, seen, bytes, records);
  } else if (v.is<ts::Dict>()) {
    for (const auto& [k, x] : v.as<ts::Dict>().items) add_storages(x, seen, bytes, records);
  }
}

}  // namespace

std::uint64_t expected_file_size(const ts::Value& value) {
  std::set<const void*> seen;
  std::uint64_t bytes = 0, records = 0;
  add_storages(value, seen, bytes, records);
  // per record: a local header, its 64-byte alignment, a descriptor, a
  // central entry and the pickle's share; plus the small records
  return bytes + records * 512 + 4096;
}

}  // namespace ckpt::checkpointer
