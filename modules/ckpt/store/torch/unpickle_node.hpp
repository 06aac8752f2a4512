// The unpickler's working objects. Pickle shares objects by reference (the
// memo) and fills containers after creating them, so unpickling works on
// shared, mutable nodes; the finished tree is then copied into a Value.
// Internal to unpickler.cpp and rebuild.cpp.
#pragma once
#include <ATen/core/Tensor.h>
#include <c10/core/Storage.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "checkpoint.hpp"
#include "unpickler.hpp"

namespace ckpt::torch_store::detail {

struct Node;
using Ref = std::shared_ptr<Node>;

struct Node {
  enum class Kind { none, boolean, integer, floating, str, list, tuple, dict, tensor, storage, object };
  Kind kind = Kind::none;
  bool boolean = false;
  std::int64_t integer = 0;
  double floating = 0;
  std::string str;                         // str
  std::vector<Ref> items;                  // list, tuple; object: appended items
  std::vector<std::pair<Ref, Ref>> pairs;  // dict; object: set items
  bool ordered = false;                    // dict
  std::vector<std::pair<Ref, Ref>> attributes;  // dict: BUILD state
  at::Tensor tensor;                       // tensor
  c10::Storage storage;                    // storage (a persistent id, loaded)
  c10::ScalarType dtype = c10::ScalarType::Byte;  // storage: its typed class's dtype
  // object: a global (module, name) or the result of REDUCE/NEWOBJ
  Recipe::Kind recipe = Recipe::Kind::global;
  std::string module, name, class_name;
  Ref callable, args, state;

  bool is_global(const char* m, const char* n) const {
    return kind == Kind::object && recipe == Recipe::Kind::global && module == m && name == n;
  }
};

inline Ref make(Node::Kind kind) {
  auto n = std::make_shared<Node>();
  n->kind = kind;
  return n;
}

Ref make_str(std::string s);
Ref make_int(std::int64_t i);
Ref make_tuple(std::vector<Ref> items);
/// A global named `module.name` (class_name as Python spells it in 3.x).
Ref make_global(std::string module, std::string name);

/// State shared by one unpickling: storages loaded so far, by key.
struct Context {
  const StorageLoader& load_storage;
  std::map<std::string, c10::Storage> storages;
};

/// BINPERSID: ('storage', torch.<Type>Storage, key, location, numel).
Ref persistent_load(const Ref& pid, Context& ctx);
/// REDUCE: `callable(*args)`, evaluated for the few callables we model
/// (tensors, OrderedDict), recorded as an object otherwise.
Ref reduce(const Ref& callable, const Ref& args);
/// NEWOBJ: `cls.__new__(cls, *args)`, always an object.
Ref newobj(const Ref& cls, const Ref& args);
/// Python 3's name for a pickled module (`__builtin__` -> `builtins`).
std::string python3_module(const std::string& module);

}  // namespace ckpt::torch_store::detail
