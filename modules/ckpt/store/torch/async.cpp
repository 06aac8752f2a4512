#include "async.hpp"

#include <ATen/ATen.h>
#include <sys/mman.h>

#include <atomic>
#include <cstring>
#include <exception>
#include <thread>
#include <utility>
#include <vector>

#include "copier.hpp"
#include "durable.hpp"
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
      if (p == MAP_FAILED) throw Error("cannot map " + std::to_string(length) + " bytes for a snapshot: " + std::strerror(errno));
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

}  // namespace

Destination durable_file() {
  return [](const std::string& path, const std::function<void(Sink&)>& write) {
    write_durably(parent_folder(path), [&](Sink& sink) {
      write(sink);
      return path;
    });
  };
}

struct AsyncSaver::Impl {
  AsyncSaveOptions options;
  Buffer buffer;
  std::thread writer;
  std::atomic<bool> done{true};
  std::exception_ptr error;

  // The snapshot the writer streams: the pickle and where each storage's
  // bytes sit in the buffer. No reference to the caller's tensors survives.
  std::string pickle_bytes;
  std::vector<StorageEntry> entries;
  std::vector<std::size_t> offsets;

  void join() {
    if (writer.joinable()) writer.join();
  }

  void rethrow() {
    if (!error) return;
    std::exception_ptr e = std::exchange(error, nullptr);
    std::rethrow_exception(e);
  }

  // The copies start while the pickler is still walking the tree, into the
  // buffer as the last save left it; if this checkpoint outgrows it (or
  // brings the first CUDA tensor), the buffer grows after pickling and
  // everything is copied then (a first save's cost).
  void snapshot(const Value& checkpoint) {
    std::vector<std::size_t> at;
    std::size_t total = 0;
    bool any_cuda = false, fits = true;
    Copier copier;
    Pickled pickled = pickle(checkpoint, [&](const StorageRecord& s) {
      at.push_back(total);
      total = align_up(total + s.tensor.nbytes(), alignment);
      any_cuda = any_cuda || s.tensor.is_cuda();
      fits = fits && total <= buffer.capacity() && (buffer.pinned() || !any_cuda);
      if (fits) copier.push(s.tensor, buffer.data() + at.back());
    });  // throws (for what save would refuse) before anything is written
    copier.finish();
    if (!fits) {
      buffer.ensure(total, any_cuda);
      for (std::size_t i = 0; i < at.size(); ++i) copy_out(pickled.storages[i].tensor, buffer.data() + at[i]);
    }
    entries.clear();
    for (const StorageRecord& s : pickled.storages) entries.emplace_back(s.key, s.tensor.nbytes());
    offsets = std::move(at);
    pickle_bytes = std::move(pickled.bytes);
  }

  void write(const std::string& path) {
    options.destination(path, [&](Sink& sink) {
      write_archive(sink, options.save, pickle_bytes, entries, [&](std::size_t i, ZipStream& zip) {
        if (entries[i].second > 0) zip.write(buffer.data() + offsets[i], entries[i].second);
      });
    });
  }
};

AsyncSaver::AsyncSaver(AsyncSaveOptions options) : impl_(std::make_unique<Impl>()) {
  check_archive_name(options.save);
  if (!options.destination) options.destination = durable_file();
  impl_->options = std::move(options);
}

AsyncSaver::~AsyncSaver() { impl_->join(); }

void AsyncSaver::reserve(std::size_t bytes) {
  impl_->join();  // the buffer may be in use
  impl_->buffer.ensure(bytes, false);
}

bool AsyncSaver::save(const Value& checkpoint, const std::string& path) {
  Impl& s = *impl_;
  if (!s.done.load(std::memory_order_acquire) && s.options.when_busy == AsyncSaveOptions::WhenBusy::refuse)
    return false;
  s.join();
  s.rethrow();
  try {
    s.snapshot(checkpoint);
  } catch (const c10::Error& e) {
    throw Error(path + ": " + e.what_without_backtrace());
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
  s.done.store(false, std::memory_order_release);
  s.writer = std::thread([&s, path] {
    try {
      s.write(path);
    } catch (const std::exception& e) {
      s.error = std::make_exception_ptr(Error(path + ": " + e.what()));
    } catch (...) {
      s.error = std::make_exception_ptr(Error(path + ": unknown failure while writing"));
    }
    s.done.store(true, std::memory_order_release);
  });
  return true;
}

void AsyncSaver::wait() {
  impl_->join();
  impl_->rethrow();
}

bool AsyncSaver::in_flight() const { return !impl_->done.load(std::memory_order_acquire); }

std::size_t AsyncSaver::capacity() const { return impl_->buffer.capacity(); }

}  // namespace ckpt::torch_store
