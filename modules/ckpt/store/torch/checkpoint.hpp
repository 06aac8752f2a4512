// ckpt_torch_store: a checkpoint as mmengine's runner saves it (E29: a dict
// of meta, state_dict, message_hub, optimizer, param_schedulers), stored in
// PyTorch's zip serialization format so that Python's torch.load reads our
// files and we read theirs. This is the imperative shell: files, LibTorch.
// C++17, because LibTorch 1.13's headers do not compile as C++20; C++20
// code uses narrow.hpp, which has no torch types.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "verify.hpp"

namespace ckpt::internal {
class Sink;  // ckpt/internal/sink.hpp: the byte sinks both stores share
}  // namespace ckpt::internal

namespace ckpt::torch_store {

struct Value;
struct Recipe;
using internal::Sink;

struct None {};
struct List {
  std::vector<Value> items;
};
struct Tuple {
  std::vector<Value> items;
};

/// A Python dict: insertion-ordered, keys of any value type (an optimizer's
/// state is keyed by int).
struct Dict {
  using Items = std::vector<std::pair<Value, Value>>;
  Dict();
  Dict(Items items, bool ordered = false, Items attributes = {});

  Items items;
  /// collections.OrderedDict (a state_dict is one) rather than dict.
  bool ordered = false;
  /// An OrderedDict's instance attributes: a state_dict's `_metadata`
  /// (per-module versions that load_state_dict consults) lives here.
  Items attributes;

  /// The value under a str key, or null.
  const Value* find(std::string_view key) const;
  Value* find(std::string_view key);
  /// Replaces the value under a str key in place, or appends it.
  void set(std::string key, Value value);
};

/// A Python object this store does not model (mmengine's HistoryBuffer, a
/// numpy array, a Counter, ...). Loading never fails on one: it becomes
/// this leaf, and the recipe that rebuilds it lets save write it back.
struct Unsupported {
  /// "module.QualName" of the object's class, e.g. "numpy.ndarray".
  std::string class_name;
  /// How pickle rebuilds it; null for a leaf made in C++ (which save refuses).
  std::shared_ptr<const Recipe> recipe;
};

/// One node of a checkpoint: None, bool, int, float, str, list, tuple,
/// dict, a tensor, or an unsupported object. Ints beyond 64 bits load as
/// unsupported `builtins.int` leaves.
struct Value {
  using Variant =
      std::variant<None, bool, std::int64_t, double, std::string, List, Tuple, Dict, at::Tensor, Unsupported>;
  Variant data;

  Value() = default;
  Value(None) {}
  Value(bool b) : data(b) {}
  template <class I, std::enable_if_t<std::is_integral_v<I> && !std::is_same_v<I, bool>, int> = 0>
  Value(I i) : data(static_cast<std::int64_t>(i)) {}
  Value(double d) : data(d) {}
  Value(const char* s) : data(std::string(s)) {}
  Value(std::string s) : data(std::move(s)) {}
  Value(List l) : data(std::move(l)) {}
  Value(Tuple t) : data(std::move(t)) {}
  Value(Dict d) : data(std::move(d)) {}
  Value(at::Tensor t) : data(std::move(t)) {}
  Value(Unsupported u) : data(std::move(u)) {}

  template <class T>
  bool is() const { return std::holds_alternative<T>(data); }
  template <class T>
  const T& as() const { return std::get<T>(data); }
  template <class T>
  T& as() { return std::get<T>(data); }
};

/// Pickle's reconstruction of an unsupported object: a global (a class or
/// function named by module and name), `callable(*args)` (REDUCE) or
/// `cls.__new__(cls, *args)` (NEWOBJ), then items appended or set, then
/// `__setstate__(state)` (BUILD).
struct Recipe {
  enum class Kind { global, reduce, newobj };
  Kind kind = Kind::global;
  std::string module, name;  // global
  Value callable;            // reduce: the callable; newobj: the class
  Value args;                // a Tuple
  std::vector<Value> list_items;
  std::vector<std::pair<Value, Value>> dict_items;
  std::optional<Value> state;
};

/// Deep equality; tensors compare by dtype, shape and bytes (NaN equals an
/// identical NaN), not by storage layout or device.
bool operator==(const Value& a, const Value& b);
inline bool operator!=(const Value& a, const Value& b) { return !(a == b); }
bool operator==(const Recipe& a, const Recipe& b);
/// Python-repr-like, tensors as `tensor(float32[2, 3])`.
std::ostream& operator<<(std::ostream& os, const Value& v);

/// JSON text in Python json.dumps's conventions (NaN, Infinity; keys that
/// are int, float, bool or None become strings), except that UTF-8 stays
/// as is, a tensor is {"__tensor__": {"dtype": "float32", "shape": [2, 3]}}
/// and an unsupported object {"__object__": "<class name>"}.
std::string to_json(const Value& v);

/// What went wrong, naming the file (when there is one) and the problem.
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct SaveOptions {
  /// The folder inside the zip; torch.save to a file object (what mmengine
  /// does) writes "archive".
  std::string archive_name = "archive";
};

/// Writes `checkpoint` in torch's zip format. Streams: tensor bytes go from
/// the tensor's memory to the sink, and CUDA tensors through a pinned host
/// buffer; nothing seeks, so `fd` may be a pipe. Throws `Error`.
void save(const Value& checkpoint, Sink& sink, const SaveOptions& options = {});
void save(const Value& checkpoint, int fd, const SaveOptions& options = {});
/// Creates or truncates `path`.
void save(const Value& checkpoint, const std::string& path, const SaveOptions& options = {});

/// Where a tensor of the file lands when loading into existing state. Called
/// once per tensor reached in the tree, after data.pkl is parsed and before
/// any storage is read, with the keys leading to it from the root (dict keys
/// as they are in the file: str or int; list/tuple positions as int) and the
/// tensor as the file describes it (dtype, shape; its data is not read yet
/// and must not be touched). Return a tensor (CPU or CUDA) to receive the
/// data — the returned tree then holds that very tensor — or an undefined
/// tensor to let the loader allocate as usual.
using Into = std::function<at::Tensor(const std::vector<Value>& keys, const at::Tensor& described)>;

struct LoadOptions {
  /// Check the CRC-32 of every tensor storage (torch 1.13's reader does
  /// not: a flipped bit loads silently there); about 0.1 s of CPU per GiB
  /// here, spread over the reading threads.
  /// data.pkl and the small records are checked regardless.
  bool verify_crc = true;
  /// Map the file copy-on-write instead of reading it: tensors are paged in
  /// on first touch (cheap summaries); the file must not shrink meanwhile.
  bool mmap = false;
  /// Threads that read tensor storages (without `mmap`), in ~4 MiB pieces
  /// once data.pkl is parsed; a cold file needs several requests in flight
  /// to reach the disk's speed. 1 reads them in the calling thread.
  int io_threads = 8;
  /// Whether storages bypass the page cache (see DirectIo, verify.hpp).
  using DirectIo = torch_store::DirectIo;
  DirectIo direct_io = DirectIo::automatic;
  /// Load into existing tensors (a trainer resuming: its parameters and
  /// optimizer state are allocated already): the file's bytes go straight
  /// into each destination's memory, with no fresh allocation, where it is
  /// a contiguous CPU tensor that alone receives a whole, contiguous
  /// storage of the file; other destinations (tied weights, views,
  /// non-contiguous or CUDA tensors) are filled correctly, at the price of
  /// reading that storage first (CUDA: through a bounded pinned buffer).
  /// A destination whose dtype or shape differs from the file's is an
  /// Error before any storage is read. Empty: load allocates, as without.
  /// Does not combine with `mmap`.
  Into into{};
};

/// Reads a file written by torch.save (zip format, torch >= 1.6) or by
/// `save`. Tensors land on the CPU (or in `LoadOptions::into`'s tensors).
/// Throws `Error` naming the file and the problem for a missing, truncated
/// or corrupt file; once destination tensors were being written, the
/// message says they may have been partly overwritten.
Value load(const std::string& path, const LoadOptions& options = {});

}  // namespace ckpt::torch_store
