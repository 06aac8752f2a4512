// The streaming writer (the layout is writer.hpp's): a storage's bytes go
// from the tensor's memory to the sink; CUDA tensors pass through one
// reusable pinned host buffer, so the host never holds more than a slice of
// a device tensor.
#include <ATen/ATen.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "checkpoint.hpp"
#include "pickler.hpp"
#include "sink.hpp"
#include "writer.hpp"

namespace ckpt::torch_store {
namespace {

constexpr std::int64_t staging_bytes = std::int64_t{64} << 20;

class Staging {
 public:
  // A page-locked buffer makes device-to-host copies run at full speed.
  void* get() {
    if (!buffer_.defined())
      buffer_ = at::empty({staging_bytes}, at::TensorOptions().dtype(at::kByte).pinned_memory(true));
    return buffer_.data_ptr();
  }

 private:
  at::Tensor buffer_;
};

void write_cuda(ZipStream& zip, const at::Tensor& t, Staging& staging) {
  const at::Tensor flat = t.contiguous().view({-1});
  const auto itemsize = static_cast<std::int64_t>(t.element_size());
  const std::int64_t per_slice = staging_bytes / itemsize;
  for (std::int64_t start = 0; start < flat.numel(); start += per_slice) {
    const std::int64_t n = std::min(per_slice, flat.numel() - start);
    at::Tensor host = at::from_blob(staging.get(), {n}, at::TensorOptions().dtype(t.scalar_type()));
    host.copy_(flat.narrow(0, start, n), /*non_blocking=*/false);
    zip.write(host.data_ptr(), static_cast<std::size_t>(n * itemsize));
  }
}

void write_tensor(ZipStream& zip, const at::Tensor& tensor, Staging& staging) {
  if (tensor.is_cuda()) {
    write_cuda(zip, tensor, staging);
  } else {
    // CPU (or another device, copied over first): contiguous bytes, as is.
    const at::Tensor t = tensor.is_cpu() ? tensor.contiguous() : tensor.to(at::kCPU).contiguous();
    if (t.nbytes() > 0) zip.write(t.data_ptr(), t.nbytes());
  }
}

template <class F>
void with_context(const std::string& where, F&& f) {
  try {
    f();
  } catch (const Error& e) {
    throw Error(where + ": " + e.what());
  } catch (const std::exception& e) {
    throw Error(where + ": " + e.what());
  }
}

}  // namespace

void check_archive_name(const SaveOptions& options) {
  if (options.archive_name.empty() || options.archive_name.find('/') != std::string::npos)
    throw Error("archive name must be one non-empty path segment: '" + options.archive_name + "'");
}

void write_archive(Sink& sink, const SaveOptions& options, const std::string& pickle,
                   const std::vector<StorageEntry>& storages,
                   const std::function<void(std::size_t, ZipStream&)>& write_bytes) {
  check_archive_name(options);
  const std::string prefix = options.archive_name + "/";
  ZipStream zip(sink);
  zip.add(prefix + "data.pkl", pickle);
  for (std::size_t i = 0; i < storages.size(); ++i) {
    zip.begin(prefix + "data/" + storages[i].first, storages[i].second);
    write_bytes(i, zip);
    zip.end();
  }
  zip.add(prefix + "version", "3\n");
  zip.finish();
}

void save(const Value& checkpoint, Sink& sink, const SaveOptions& options) {
  check_archive_name(options);
  const Pickled pickled = pickle(checkpoint);
  std::vector<StorageEntry> entries;
  entries.reserve(pickled.storages.size());
  for (const StorageRecord& s : pickled.storages) entries.emplace_back(s.key, s.tensor.nbytes());
  Staging staging;
  write_archive(sink, options, pickled.bytes, entries,
                [&](std::size_t i, ZipStream& zip) { write_tensor(zip, pickled.storages[i].tensor, staging); });
}

void save(const Value& checkpoint, int fd, const SaveOptions& options) {
  with_context("fd " + std::to_string(fd), [&] {
    FdSink sink(fd);
    save(checkpoint, sink, options);
  });
}

void save(const Value& checkpoint, const std::string& path, const SaveOptions& options) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) throw Error(path + ": cannot open for writing: " + std::strerror(errno));
  bool closed = false;
  try {
    with_context(path, [&] {
      FdSink sink(fd);
      save(checkpoint, sink, options);
      closed = true;  // even a failing close(2) releases the descriptor
      if (::close(fd) != 0) throw Error(std::string("close failed: ") + std::strerror(errno));
    });
  } catch (...) {
    // A half-written checkpoint is worse than none: loaders would trust it.
    if (!closed) ::close(fd);
    ::unlink(path.c_str());
    throw;
  }
}

}  // namespace ckpt::torch_store
