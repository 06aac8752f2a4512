// Routing storages to the caller's tensors (see into.hpp). What each route
// costs:
// - direct: nothing beyond the read: the bytes land in the destination
//   (through a per-thread buffer and one copy when its address does not line
//   up with the file for O_DIRECT, see parallel_read.cpp).
// - host (a storage shared by several tensors, tied weights or views; a view
//   or non-contiguous tensor in the file; a non-contiguous destination): the
//   storage is allocated and read as without `into`, then copy_'d into each
//   destination: one storage-sized allocation (page zeroing) and one copy.
//   A CUDA destination whose storage also has a CPU user (a tensor without
//   destination, or with a CPU one) takes this route too: its copy goes
//   from pageable host memory, synchronously.
// - device, a CUDA destination taking a whole storage: the record streams
//   through the bounded pinned buffer into the destination's memory.
//   device, CUDA destinations sharing a storage or viewing part of it: the
//   same into a temporary device buffer of the storage's size, then one
//   device copy per destination.
#include "into.hpp"

#include <ATen/ATen.h>

#include <sstream>
#include <unordered_map>

#include "storage_types.hpp"
#include "walk.hpp"

namespace ckpt::torch_store::detail {
namespace {

[[noreturn]] void fail(const std::string& what) { throw Error(what); }

using StorageIndex = std::unordered_map<const c10::StorageImpl*, std::size_t>;

const c10::StorageImpl* storage_of(const at::Tensor& t) { return t.storage().unsafeGetStorageImpl(); }

std::string key_path(const std::vector<Value>& keys) {
  std::ostringstream out;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (i) out << '.';
    if (keys[i].is<std::string>()) out << keys[i].as<std::string>();
    else if (keys[i].is<std::int64_t>()) out << keys[i].as<std::int64_t>();
    else out << keys[i];
  }
  return out.str();
}

std::string describe(const at::Tensor& t) {
  const char* dtype = python_dtype(t.scalar_type());
  std::ostringstream out;
  out << (dtype ? dtype : c10::toString(t.scalar_type())) << " [";
  for (std::int64_t i = 0; i < t.dim(); ++i) out << (i ? ", " : "") << t.size(i);
  out << "]";
  return out.str();
}

class Binder {
 public:
  Binder(const std::vector<Described>& described, const Into& into) : into_(into) {
    for (std::size_t i = 0; i < described.size(); ++i) index_.emplace(described[i].storage.unsafeGetStorageImpl(), i);
  }

  // The tensors reached through dict, list and tuple items, with the keys
  // leading to each.
  void visit(Value& v, std::vector<Value>& keys) {
    if (v.is<at::Tensor>()) {
      assign(v, keys);
    } else if (v.is<List>() || v.is<Tuple>()) {
      auto& items = v.is<List>() ? v.as<List>().items : v.as<Tuple>().items;
      for (std::size_t i = 0; i < items.size(); ++i) {
        keys.emplace_back(i);
        visit(items[i], keys);
        keys.pop_back();
      }
    } else if (v.is<Dict>()) {
      for (auto& [k, i] : v.as<Dict>().items) {
        keys.push_back(k);
        visit(i, keys);
        keys.pop_back();
      }
    }
  }

  const StorageIndex& index() const { return index_; }
  std::vector<Assignment>& assignments() { return assignments_; }

 private:
  void assign(Value& slot, const std::vector<Value>& keys) {
    const at::Tensor& t = slot.as<at::Tensor>();
    if (!t.defined()) return;
    const auto storage = index_.find(storage_of(t));
    if (storage == index_.end()) return;  // not from a storage of this file: nothing to read
    at::Tensor dest = into_(keys, t);
    // The described tensor itself, or a view of it, has no memory to give.
    if (!dest.defined() || index_.count(storage_of(dest))) return;
    const std::string where = "into: '" + key_path(keys) + "' ";
    if (!dest.is_cpu() && !dest.is_cuda())
      fail(where + "gets a destination on " + dest.device().str() + "; only CPU and CUDA tensors can receive data");
    if (dest.scalar_type() != t.scalar_type() || dest.sizes() != t.sizes())
      fail(where + "is " + describe(t) + " in the file, the destination is " + describe(dest) + "; nothing was read");
    assignments_.push_back({&slot, std::move(dest), storage->second, true});
  }

  const Into& into_;
  StorageIndex index_;
  std::vector<Assignment> assignments_;
};

// A tensor that is its storage's bytes, all of them, in order.
bool whole(const at::Tensor& t, std::size_t n) {
  return t.is_contiguous() && t.storage_offset() == 0 && static_cast<std::size_t>(t.numel()) * t.element_size() == n;
}

at::Tensor bytes_of(const at::Tensor& contiguous) { return contiguous.reshape({-1}).view(at::kByte); }

}  // namespace

Binding bind(Value& root, const std::vector<Described>& described, const Into& into) {
  if (!into) return {std::vector<Placement>(described.size()), {}, false};
  Binder binder(described, into);
  std::vector<Value> keys;
  binder.visit(root, keys);
  // How many tensors use each storage, hidden ones too: a storage read
  // straight into one destination must have no other user.
  std::vector<std::size_t> users(described.size(), 0);
  for_each_tensor(root, [&](const at::Tensor& t) {
    auto it = binder.index().find(storage_of(t));
    if (it != binder.index().end()) ++users[it->second];
  });
  Binding b;
  b.placements.resize(described.size());
  b.assignments = std::move(binder.assignments());
  std::vector<std::vector<std::size_t>> per_storage(described.size());
  for (std::size_t a = 0; a < b.assignments.size(); ++a) per_storage[b.assignments[a].storage].push_back(a);
  for (std::size_t i = 0; i < described.size(); ++i) {
    const std::vector<std::size_t>& mine = per_storage[i];
    if (mine.empty()) continue;  // host
    Placement& p = b.placements[i];
    Assignment& first = b.assignments[mine.front()];
    const bool alone = users[i] == 1 && mine.size() == 1;
    if (alone && whole(first.slot->as<at::Tensor>(), described[i].n()) && first.destination.is_contiguous()) {
      first.copy = false;
      b.writes_destinations = true;
      if (first.destination.is_cpu()) {
        p.route = Route::direct;
        p.memory = static_cast<char*>(first.destination.data_ptr());
      } else {
        p.route = Route::device;
        p.device_bytes = bytes_of(first.destination);
      }
      continue;
    }
    // Every user a CUDA destination: the storage need not touch host memory.
    bool all_cuda = mine.size() == users[i];
    for (std::size_t a : mine) all_cuda = all_cuda && b.assignments[a].destination.is_cuda();
    if (all_cuda) {
      p.route = Route::device;
      p.device_bytes = at::empty({static_cast<std::int64_t>(described[i].n())},
                                 at::TensorOptions().dtype(at::kByte).device(first.destination.device()));
    }
  }
  return b;
}

void finish(const Binding& binding) {
  const at::NoGradGuard no_grad;  // destinations are often leaves that require grad
  for (const Assignment& a : binding.assignments) {
    const at::Tensor& loaded = a.slot->as<at::Tensor>();
    const Placement& p = binding.placements[a.storage];
    if (a.copy && p.route == Route::device) {
      const at::Tensor view = at::empty({0}, at::TensorOptions().dtype(loaded.scalar_type()).device(p.device_bytes.device()))
                                  .set_(p.device_bytes.storage(), loaded.storage_offset(), loaded.sizes(), loaded.strides());
      a.destination.copy_(view);
    } else if (a.copy) {
      a.destination.copy_(loaded);
    } else {
      // Written behind autograd's back: count it as the in-place write it
      // is, as copy_ would (inference tensors have no version to count).
      if (!a.destination.is_inference()) a.destination.unsafeGetTensorImpl()->bump_version();
    }
    *a.slot = a.destination;
  }
}

}  // namespace ckpt::torch_store::detail
