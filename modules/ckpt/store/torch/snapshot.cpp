#include "snapshot.hpp"

#include <ATen/ATen.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <tuple>
#include <utility>

#include "copier.hpp"
#include "pickler.hpp"
#include "writer.hpp"

namespace ckpt::torch_store {
namespace {

constexpr std::size_t alignment = 64;  // what torch's CPU allocator gives
constexpr std::size_t page = 4096;

std::size_t align_up(std::size_t n, std::size_t a) { return (n + a - 1) / a * a; }

// The snapshot's memory. Host memory is mapped with transparent huge pages
// and touched once up front: faulting in 1 GiB of 4 KiB pages costs several
// times the copy itself. Page-locked (pinned) memory once a CUDA tensor is
// saved, because device-to-host copies into pageable memory go through a
// driver bounce buffer at a fraction of the bus speed.
class Buffer {
 public:
  Buffer() = default;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer() { release(); }

  char* data() const { return data_; }
  bool pinned() const { return pinned_; }
  std::size_t capacity() const { return capacity_; }

  void ensure(std::size_t bytes, bool pinned) {
    if (bytes <= capacity_ && (pinned_ || !pinned)) return;
    release();
    if (bytes == 0) return;
    if (pinned) {
      pinned_tensor_ = at::empty({static_cast<std::int64_t>(bytes)},
                                 at::TensorOptions().dtype(at::kByte).pinned_memory(true));
      data_ = static_cast<char*>(pinned_tensor_.data_ptr());
    } else {
      const std::size_t length = align_up(bytes, page);
      void* p = ::mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED)
        throw Error("cannot map " + std::to_string(length) + " bytes for a snapshot: " + std::strerror(errno));
      ::madvise(p, length, MADV_HUGEPAGE);  // advice only: 4 KiB pages still work
      data_ = static_cast<char*>(p);
      mapped_ = length;
      for (std::size_t at = 0; at < length; at += page) data_[at] = 0;
    }
    capacity_ = bytes;
    pinned_ = pinned;
  }

 private:
  void release() {
    if (mapped_) ::munmap(data_, mapped_);
    pinned_tensor_ = at::Tensor();
    data_ = nullptr;
    capacity_ = mapped_ = 0;
    pinned_ = false;
  }

  char* data_ = nullptr;
  std::size_t capacity_ = 0;
  std::size_t mapped_ = 0;
  bool pinned_ = false;
  at::Tensor pinned_tensor_;
};

// Two storage records hold the same bytes when they are the same memory of
// the same length on the same device (the pickler makes every record its
// own contiguous tensor; tensors of one model reached from two trees are
// the very same memory).
using Identity = std::tuple<const void*, std::size_t, int, int>;
Identity identity(const at::Tensor& t) {
  return {t.data_ptr(), t.nbytes(), static_cast<int>(t.device().type()), static_cast<int>(t.device().index())};
}

}  // namespace

void Snapshot::write(std::size_t i, Sink& sink) const {
  const Archive& a = archives_.at(i);
  write_archive(sink, options_, a.pickle, a.entries, [&](std::size_t k, ZipStream& zip) {
    if (a.entries[k].second > 0) zip.write(buffer_ + a.offsets[k], a.entries[k].second);
  });
}

struct Snapshotter::Impl {
  SaveOptions options;
  Buffer buffer;
  Snapshot snapshot;
};

Snapshotter::Snapshotter(SaveOptions options) : impl_(std::make_unique<Impl>()) {
  check_archive_name(options);
  impl_->options = std::move(options);
}

Snapshotter::~Snapshotter() = default;

void Snapshotter::reserve(std::size_t bytes) { impl_->buffer.ensure(bytes, impl_->buffer.pinned()); }

std::size_t Snapshotter::capacity() const { return impl_->buffer.capacity(); }

// The copies start while the pickler is still walking the trees, into the
// buffer as the last snapshot left it; if these trees outgrow it (or bring
// the first CUDA tensor), the buffer grows after pickling and everything is
// copied then (a first save's cost).
const Snapshot& Snapshotter::take(const std::vector<const Value*>& trees) {
  Buffer& buffer = impl_->buffer;
  Snapshot next;
  next.options_ = impl_->options;
  std::map<Identity, std::size_t> placed;              // bytes already given a place
  std::vector<std::pair<at::Tensor, std::size_t>> copies;  // distinct storages, where they go
  std::size_t total = 0;
  bool any_cuda = false, fits = true;
  {
    Copier copier;
    for (const Value* tree : trees) {
      Snapshot::Archive archive;
      Pickled pickled = pickle(*tree, [&](const StorageRecord& s) {
        auto [it, fresh] = placed.emplace(identity(s.tensor), total);
        archive.offsets.push_back(it->second);
        if (!fresh) return;
        copies.emplace_back(s.tensor, total);
        total = align_up(total + s.tensor.nbytes(), alignment);
        any_cuda = any_cuda || s.tensor.is_cuda();
        fits = fits && total <= buffer.capacity() && (buffer.pinned() || !any_cuda);
        if (fits) copier.push(s.tensor, buffer.data() + copies.back().second);
      });  // throws (for what save would refuse) before this archive is kept
      archive.pickle = std::move(pickled.bytes);
      for (const StorageRecord& s : pickled.storages) archive.entries.emplace_back(s.key, s.tensor.nbytes());
      next.archives_.push_back(std::move(archive));
    }
    copier.finish();
  }
  if (!fits) {
    buffer.ensure(total, any_cuda);
    for (const auto& [tensor, at] : copies) copy_out(tensor, buffer.data() + at);
  }
  next.tensor_bytes_ = 0;
  for (const auto& c : copies) next.tensor_bytes_ += c.first.nbytes();
  next.buffer_ = buffer.data();
  impl_->snapshot = std::move(next);
  return impl_->snapshot;
}

}  // namespace ckpt::torch_store
