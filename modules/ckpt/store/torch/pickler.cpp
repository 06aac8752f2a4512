// The pickler: protocol 2 (torch.save's), memoizing only what is referenced
// again (globals, tensors), as Python's unpickler accepts any memo subset.
#include "pickler.hpp"
#include "ckpt/internal/overload.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <string_view>
#include <tuple>
#include <unordered_map>

#include "opcodes.hpp"
#include "storage_types.hpp"

namespace ckpt::torch_store {
namespace {

constexpr int max_depth = 1000;
constexpr std::size_t batch = 1000;  // Python's pickler batches APPENDS/SETITEMS likewise

class Pickler {
 public:
  explicit Pickler(const std::function<void(const StorageRecord&)>& on_storage) : on_storage_(on_storage) {}
  Pickled run(const Value& root) {
    out_ += op::PROTO;
    out_ += '\x02';
    value(root, 0);
    out_ += op::STOP;
    return {std::move(out_), std::move(storages_)};
  }

 private:
  template <class T>
  void le(T v, std::size_t bytes = sizeof(T)) {
    for (std::size_t i = 0; i < bytes; ++i) out_ += static_cast<char>((static_cast<std::uint64_t>(v) >> (8 * i)) & 0xFF);
  }

  std::uint32_t memo_put() {
    const std::uint32_t i = next_memo_++;
    if (i < 256) {
      out_ += op::BINPUT;
      le<std::uint8_t>(static_cast<std::uint8_t>(i));
    } else {
      out_ += op::LONG_BINPUT;
      le<std::uint32_t>(i);
    }
    return i;
  }

  void memo_get(std::uint32_t i) {
    if (i < 256) {
      out_ += op::BINGET;
      le<std::uint8_t>(static_cast<std::uint8_t>(i));
    } else {
      out_ += op::LONG_BINGET;
      le<std::uint32_t>(i);
    }
  }

  // Memoized: a tensor needs three globals, so the lookup must not allocate
  // (a few dozen distinct globals at most: a linear scan beats hashing).
  void global(std::string_view module, std::string_view name) {
    for (const auto& g : globals_)
      if (g.module == module && g.name == name) return memo_get(g.memo);
    out_ += op::GLOBAL;
    out_.append(module).append(1, '\n').append(name).append(1, '\n');
    globals_.push_back({std::string(module), std::string(name), memo_put()});
  }

  void integer(std::int64_t v) {
    if (v >= 0 && v < 256) {
      out_ += op::BININT1;
      le<std::uint8_t>(static_cast<std::uint8_t>(v));
    } else if (v >= 0 && v < 65536) {
      out_ += op::BININT2;
      le<std::uint16_t>(static_cast<std::uint16_t>(v));
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
      out_ += op::BININT;
      le<std::uint32_t>(static_cast<std::uint32_t>(v));
    } else {
      // LONG1: minimal little-endian two's complement, as pickle.encode_long.
      unsigned char b[8];
      for (int i = 0; i < 8; ++i) b[i] = static_cast<unsigned char>((static_cast<std::uint64_t>(v) >> (8 * i)) & 0xFF);
      int n = 8;
      while (n > 1 && ((b[n - 1] == 0x00 && !(b[n - 2] & 0x80)) || (b[n - 1] == 0xFF && (b[n - 2] & 0x80)))) --n;
      out_ += op::LONG1;
      out_ += static_cast<char>(n);
      out_.append(reinterpret_cast<const char*>(b), static_cast<std::size_t>(n));
    }
  }

  void floating(double d) {
    std::uint64_t bits;
    std::memcpy(&bits, &d, 8);
    out_ += op::BINFLOAT;
    for (int i = 7; i >= 0; --i) out_ += static_cast<char>((bits >> (8 * i)) & 0xFF);
  }

  void str(const std::string& s) {
    if (s.size() > 0xFFFFFFFFu) throw Error("a string longer than 4 GiB cannot be pickled with protocol 2");
    out_ += op::BINUNICODE;
    le<std::uint32_t>(static_cast<std::uint32_t>(s.size()));
    out_ += s;
  }

  void sequence(const std::vector<Value>& items, int depth) {
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i % batch == 0) out_ += op::MARK;
      value(items[i], depth + 1);
      if (i % batch == batch - 1 || i + 1 == items.size()) out_ += op::APPENDS;
    }
  }

  void pairs(const std::vector<std::pair<Value, Value>>& items, int depth) {
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i % batch == 0) out_ += op::MARK;
      value(items[i].first, depth + 1);
      value(items[i].second, depth + 1);
      if (i % batch == batch - 1 || i + 1 == items.size()) out_ += op::SETITEMS;
    }
  }

  void tuple(const std::vector<Value>& items, int depth) {
    if (items.empty()) {
      out_ += op::EMPTY_TUPLE;
      return;
    }
    if (items.size() > 3) out_ += op::MARK;
    for (const Value& v : items) value(v, depth + 1);
    static constexpr char small[] = {op::TUPLE1, op::TUPLE2, op::TUPLE3};
    out_ += items.size() > 3 ? op::TUPLE : small[items.size() - 1];
  }

  // As tuple() over ints, without building Values (once per dimension of every tensor).
  void int_tuple(at::IntArrayRef xs) {
    if (xs.empty()) {
      out_ += op::EMPTY_TUPLE;
      return;
    }
    if (xs.size() > 3) out_ += op::MARK;
    for (std::int64_t x : xs) integer(x);
    static constexpr char small[] = {op::TUPLE1, op::TUPLE2, op::TUPLE3};
    out_ += xs.size() > 3 ? op::TUPLE : small[xs.size() - 1];
  }

  // Row-major strides: the bytes written are the tensor made contiguous.
  static c10::SmallVector<std::int64_t, 8> contiguous_strides(at::IntArrayRef sizes) {
    c10::SmallVector<std::int64_t, 8> strides(sizes.size(), 1);
    for (std::size_t i = sizes.size(); i-- > 1;) strides[i - 1] = strides[i] * std::max<std::int64_t>(sizes[i], 1);
    return strides;
  }

  void dict(const Dict& d, int depth) {
    if (d.ordered) {
      global("collections", "OrderedDict");
      out_ += op::EMPTY_TUPLE;
      out_ += op::REDUCE;
    } else {
      out_ += op::EMPTY_DICT;
    }
    pairs(d.items, depth);
    if (!d.attributes.empty()) {
      out_ += op::EMPTY_DICT;
      pairs(d.attributes, depth);
      out_ += op::BUILD;
    }
  }

  // The key of the storage holding `t`'s bytes: shared by tensors that view
  // the same contiguous bytes, new otherwise.
  std::string storage_key(const at::Tensor& t) {
    using Region = std::tuple<const void*, std::int64_t, std::int64_t, int>;
    const bool shareable = t.is_contiguous() && t.numel() > 0;
    const Region region{t.storage().unsafeGetStorageImpl(), t.storage_offset(), t.numel(),
                        static_cast<int>(t.scalar_type())};
    if (shareable)
      if (auto it = regions_.find(region); it != regions_.end()) return it->second;
    std::string key = std::to_string(storages_.size());
    storages_.push_back({key, t});
    if (on_storage_) on_storage_(storages_.back());
    if (shareable) regions_[region] = key;
    return key;
  }

  void tensor(const at::Tensor& original) {
    if (!original.defined()) throw Error("cannot save an undefined tensor");
    const void* identity = original.unsafeGetTensorImpl();
    if (auto it = tensors_.find(identity); it != tensors_.end()) return memo_get(it->second);
    if (original.layout() != at::kStrided || original.is_quantized() || original.is_mkldnn())
      throw Error("cannot save a tensor with layout " + c10::str(original.layout()) + " (only dense tensors)");
    const char* type = storage_name(original.scalar_type());
    if (!type) throw Error(std::string("cannot save a tensor of dtype ") + c10::toString(original.scalar_type()));
    // The flag checks are free; resolve_* are dispatched operator calls.
    const at::Tensor t = original.is_conj() || original.is_neg() ? original.resolve_conj().resolve_neg() : original;
    const std::string key = storage_key(t);
    const std::string location = t.device().is_cpu() ? "cpu" : t.device().str();

    global("torch._utils", "_rebuild_tensor_v2");
    out_ += op::MARK;
    out_ += op::MARK;
    str("storage");
    global("torch", type);
    str(key);
    str(location);
    integer(t.numel());
    out_ += op::TUPLE;
    out_ += op::BINPERSID;
    integer(0);
    int_tuple(t.sizes());
    int_tuple(contiguous_strides(t.sizes()));
    out_ += original.requires_grad() ? op::NEWTRUE : op::NEWFALSE;
    global("collections", "OrderedDict");  // backward hooks: always empty
    out_ += op::EMPTY_TUPLE;
    out_ += op::REDUCE;
    out_ += op::TUPLE;
    out_ += op::REDUCE;
    tensors_[identity] = memo_put();
  }

  void recipe(const Unsupported& u, int depth) {
    if (!u.recipe) throw Error("cannot save the unsupported object '" + u.class_name + "': it was not loaded from a pickle");
    const Recipe& r = *u.recipe;
    if (r.kind == Recipe::Kind::global) return global(r.module, r.name);
    if (!r.args.is<Tuple>()) throw Error("the recipe of '" + u.class_name + "' has non-tuple arguments");
    value(r.callable, depth + 1);
    value(r.args, depth + 1);
    out_ += r.kind == Recipe::Kind::newobj ? op::NEWOBJ : op::REDUCE;
    sequence(r.list_items, depth);
    pairs(r.dict_items, depth);
    if (r.state) {
      value(*r.state, depth + 1);
      out_ += op::BUILD;
    }
  }

  void value(const Value& v, int depth) {
    if (depth > max_depth) throw Error("cannot save values nested deeper than " + std::to_string(max_depth) + " levels");
    std::visit(ckpt::internal::overload{[&](None) { out_ += op::NONE; },
                        [&](bool b) { out_ += b ? op::NEWTRUE : op::NEWFALSE; },
                        [&](std::int64_t i) { integer(i); },
                        [&](double d) { floating(d); },
                        [&](const std::string& s) { str(s); },
                        [&](const List& l) {
                          out_ += op::EMPTY_LIST;
                          sequence(l.items, depth);
                        },
                        [&](const Tuple& t) { tuple(t.items, depth); },
                        [&](const Dict& d) { dict(d, depth); },
                        [&](const at::Tensor& t) { tensor(t); },
                        [&](const Unsupported& u) { recipe(u, depth); }},
               v.data);
  }

  const std::function<void(const StorageRecord&)>& on_storage_;
  std::string out_;
  std::uint32_t next_memo_ = 0;
  struct Global {
    std::string module, name;
    std::uint32_t memo;
  };
  std::vector<Global> globals_;
  std::unordered_map<const void*, std::uint32_t> tensors_;
  std::map<std::tuple<const void*, std::int64_t, std::int64_t, int>, std::string> regions_;
  std::vector<StorageRecord> storages_;
};

}  // namespace

Pickled pickle(const Value& root, const std::function<void(const StorageRecord&)>& on_storage) {
  return Pickler(on_storage).run(root);
}

}  // namespace ckpt::torch_store
