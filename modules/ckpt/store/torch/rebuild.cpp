// What REDUCE, NEWOBJ and BINPERSID produce: tensors from torch's rebuild
// functions over loaded storages (bounds-checked: a corrupt file must not
// yield a tensor reading past its storage), ordered dicts, and for anything
// else an object node that names the class Python would have built.
#include <ATen/ATen.h>

#include <set>

#include "storage_types.hpp"
#include "unpickle_node.hpp"

namespace ckpt::torch_store::detail {
namespace {

[[noreturn]] void fail(const std::string& what) { throw Error(what); }

const std::vector<Ref>& arguments(const Ref& args, const std::string& what, std::size_t at_least) {
  if (!args || args->kind != Node::Kind::tuple) fail(what + ": arguments are not a tuple");
  if (args->items.size() < at_least)
    fail(what + ": expected " + std::to_string(at_least) + " arguments, got " + std::to_string(args->items.size()));
  return args->items;
}

std::int64_t as_int(const Ref& r, const std::string& what) {
  if (r->kind == Node::Kind::integer) return r->integer;
  if (r->kind == Node::Kind::boolean) return r->boolean;
  fail(what + " is not an int");
}

std::vector<std::int64_t> as_ints(const Ref& r, const std::string& what) {
  if (r->kind != Node::Kind::tuple && r->kind != Node::Kind::list) fail(what + " is not a tuple");
  std::vector<std::int64_t> out;
  for (const Ref& i : r->items) out.push_back(as_int(i, what));
  return out;
}

std::string qualified(const Node& global) { return python3_module(global.module) + "." + global.name; }

bool global_named(const Ref& r) { return r && r->kind == Node::Kind::object && r->recipe == Recipe::Kind::global; }

// `storage[offset:]` viewed with sizes/strides, refusing views that reach
// past the storage (which set_ would accept for some corrupt inputs).
Ref tensor_from(const Ref& storage, std::int64_t offset, const std::vector<std::int64_t>& sizes,
                const std::vector<std::int64_t>& strides, bool requires_grad) {
  if (storage->kind != Node::Kind::storage) fail("tensor rebuild: the storage argument is not a storage");
  if (sizes.size() != strides.size()) fail("tensor rebuild: sizes and strides differ in length");
  const auto itemsize = static_cast<std::int64_t>(c10::elementSize(storage->dtype));
  const auto elements = static_cast<std::int64_t>(storage->storage.nbytes()) / itemsize;
  bool empty = false;
  std::int64_t last = offset;
  if (offset < 0) fail("tensor rebuild: negative storage offset");
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    if (sizes[i] < 0 || strides[i] < 0) fail("tensor rebuild: negative size or stride");
    empty = empty || sizes[i] == 0;
  }
  for (std::size_t i = 0; i < sizes.size() && !empty; ++i) {
    std::int64_t reach;
    if (__builtin_mul_overflow(sizes[i] - 1, strides[i], &reach) || __builtin_add_overflow(last, reach, &last))
      fail("tensor rebuild: view size overflows");
  }
  if (!empty && last >= elements)
    fail("tensor rebuild: view reaches element " + std::to_string(last) + " of a storage of " +
         std::to_string(elements));
  at::Tensor t = at::empty({0}, at::TensorOptions().dtype(storage->dtype)).set_(storage->storage, offset, sizes, strides);
  if (requires_grad && (at::isFloatingType(t.scalar_type()) || at::isComplexType(t.scalar_type())))
    t.set_requires_grad(true);
  auto node = make(Node::Kind::tensor);
  node->tensor = std::move(t);
  return node;
}

Ref parameter(const Ref& data, bool requires_grad) {
  if (data->kind != Node::Kind::tensor) fail("parameter rebuild: data is not a tensor");
  auto node = make(Node::Kind::tensor);
  node->tensor = data->tensor.detach();
  if (requires_grad && at::isFloatingType(node->tensor.scalar_type())) node->tensor.set_requires_grad(true);
  return node;
}

// numpy scalars pickle as scalar(dtype('f8'), bytes): name the numpy type.
std::string numpy_scalar_name(const std::vector<Ref>& args) {
  static const std::map<std::string, std::string> types = {
      {"f8", "float64"}, {"f4", "float32"},   {"f2", "float16"}, {"i8", "int64"},      {"i4", "int32"},
      {"i2", "int16"},   {"i1", "int8"},      {"u8", "uint64"},  {"u4", "uint32"},     {"u2", "uint16"},
      {"u1", "uint8"},   {"b1", "bool_"},     {"c8", "complex64"}, {"c16", "complex128"}};
  if (!args.empty() && args[0]->kind == Node::Kind::object && args[0]->args && !args[0]->args->items.empty() &&
      args[0]->args->items[0]->kind == Node::Kind::str)
    if (auto it = types.find(args[0]->args->items[0]->str); it != types.end()) return "numpy." + it->second;
  return "numpy.generic";
}

// The class of `callable(*args)` as type(obj) would name it.
std::string class_of_reduce(const Ref& callable, const std::vector<Ref>& args) {
  if (!global_named(callable)) return callable->class_name;
  static const std::set<std::string> reconstructors = {
      "copyreg._reconstructor", "copyreg.__newobj__", "copyreg.__newobj_ex__",
      "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct"};
  const std::string q = qualified(*callable);
  if (reconstructors.count(q) && !args.empty() && global_named(args[0])) return qualified(*args[0]);
  if (q == "_codecs.encode") return "builtins.bytes";
  if (q == "numpy.core.multiarray.scalar" || q == "numpy._core.multiarray.scalar") return numpy_scalar_name(args);
  return q;
}

Ref object(Recipe::Kind kind, const Ref& callable, const Ref& args, std::string class_name) {
  auto node = make(Node::Kind::object);
  node->recipe = kind;
  node->callable = callable;
  node->args = args;
  node->class_name = std::move(class_name);
  return node;
}

}  // namespace

Ref make_str(std::string s) {
  auto n = make(Node::Kind::str);
  n->str = std::move(s);
  return n;
}

Ref make_int(std::int64_t i) {
  auto n = make(Node::Kind::integer);
  n->integer = i;
  return n;
}

Ref make_tuple(std::vector<Ref> items) {
  auto n = make(Node::Kind::tuple);
  n->items = std::move(items);
  return n;
}

Ref make_global(std::string module, std::string name) {
  auto n = make(Node::Kind::object);
  n->module = std::move(module);
  n->name = std::move(name);
  n->class_name = qualified(*n);
  return n;
}

std::string python3_module(const std::string& module) {
  if (module == "__builtin__" || module == "exceptions") return "builtins";
  if (module == "copy_reg") return "copyreg";
  return module;
}

Ref persistent_load(const Ref& pid, Context& ctx) {
  if (pid->kind != Node::Kind::tuple || pid->items.size() != 5 || pid->items[0]->kind != Node::Kind::str ||
      pid->items[0]->str != "storage")
    fail("unsupported persistent id (expected ('storage', type, key, location, numel))");
  const auto& id = pid->items;
  const auto dtype = global_named(id[1]) ? storage_dtype(id[1]->module, id[1]->name) : std::nullopt;
  if (!dtype) fail("unknown storage type " + (global_named(id[1]) ? qualified(*id[1]) : std::string("(not a class)")));
  if (id[2]->kind != Node::Kind::str || id[3]->kind != Node::Kind::str) fail("storage key or location is not a str");
  const std::int64_t numel = as_int(id[4], "storage numel");
  std::size_t nbytes;
  if (numel < 0 || __builtin_mul_overflow(static_cast<std::size_t>(numel), c10::elementSize(*dtype), &nbytes))
    fail("storage '" + id[2]->str + "' has an impossible size");
  auto it = ctx.storages.find(id[2]->str);
  if (it == ctx.storages.end()) it = ctx.storages.emplace(id[2]->str, ctx.load_storage(id[2]->str, nbytes, id[3]->str)).first;
  if (it->second.nbytes() < nbytes) fail("storage '" + id[2]->str + "' is smaller than its persistent id says");
  auto node = make(Node::Kind::storage);
  node->storage = it->second;
  node->dtype = *dtype;
  return node;
}

Ref reduce(const Ref& callable, const Ref& args) {
  if (callable->kind != Node::Kind::object) fail("REDUCE: the callable is not a class or function");
  const auto& items = arguments(args, "REDUCE", 0);
  if (callable->is_global("torch._utils", "_rebuild_tensor_v2") || callable->is_global("torch._utils", "_rebuild_tensor")) {
    arguments(args, callable->name, 4);
    const bool requires_grad = items.size() > 4 && as_int(items[4], "requires_grad") != 0;
    return tensor_from(items[0], as_int(items[1], "storage offset"), as_ints(items[2], "size"),
                       as_ints(items[3], "stride"), requires_grad);
  }
  if (callable->is_global("torch._utils", "_rebuild_parameter") ||
      callable->is_global("torch._utils", "_rebuild_parameter_with_state")) {
    arguments(args, callable->name, 2);
    return parameter(items[0], as_int(items[1], "requires_grad") != 0);
  }
  if (callable->is_global("torch._tensor", "_rebuild_from_type_v2") ||
      callable->is_global("torch._tensor", "_rebuild_from_type")) {
    arguments(args, callable->name, 3);
    Ref rebuilt = reduce(items[0], items[2]);
    if (rebuilt->kind == Node::Kind::tensor) return rebuilt;
  }
  if (callable->is_global("collections", "OrderedDict") && items.empty()) {
    auto dict = make(Node::Kind::dict);
    dict->ordered = true;
    return dict;
  }
  return object(Recipe::Kind::reduce, callable, args, class_of_reduce(callable, items));
}

Ref newobj(const Ref& cls, const Ref& args) {
  arguments(args, "NEWOBJ", 0);
  return object(Recipe::Kind::newobj, cls, args, global_named(cls) ? qualified(*cls) : cls->class_name);
}

}  // namespace ckpt::torch_store::detail
