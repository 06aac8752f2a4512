// The checkpoint file as the reader sees it: its size, positioned reads
// (with the CRC folded in while the bytes are hot), and, when asked, a
// copy-on-write mapping whose storages keep it alive. Internal to load.cpp.
#pragma once
#include <c10/core/Storage.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "checkpoint.hpp"
#include "crc32.hpp"

namespace ckpt::torch_store::detail {

struct Mapping {
  void* address = nullptr;
  std::size_t length = 0;
  ~Mapping() {
    if (address) ::munmap(address, length);
  }
};

class File {
 public:
  File(const std::string& path, bool map) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw Error(std::string("cannot open: ") + std::strerror(errno));
    struct stat st;
    if (::fstat(fd_, &st) != 0) throw Error(std::string("cannot stat: ") + std::strerror(errno));
    if (!S_ISREG(st.st_mode)) throw Error("not a regular file");
    size_ = static_cast<std::uint64_t>(st.st_size);
    if (map && size_ > 0) {
      mapping_ = std::make_shared<Mapping>();
      void* p = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd_, 0);
      if (p == MAP_FAILED) throw Error(std::string("cannot map: ") + std::strerror(errno));
      mapping_->address = p;
      mapping_->length = size_;
    }
  }
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  ~File() { ::close(fd_); }

  std::uint64_t size() const { return size_; }

  // Fills `out` with the bytes at [offset, offset + n); throws when the
  // file ends first. With `crc`, folds the bytes into it slice by slice,
  // while they are still in cache.
  void read_into(void* out, std::uint64_t offset, std::size_t n, std::uint32_t* crc = nullptr) const {
    if (offset > size_ || n > size_ - offset) throw Error("unexpected end of file (truncated?)");
    auto* p = static_cast<char*>(out);
    constexpr std::size_t slice = std::size_t{4} << 20;
    while (n > 0) {
      const ssize_t r = ::pread(fd_, p, n < slice ? n : slice, static_cast<off_t>(offset));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) throw Error(std::string("read failed: ") + std::strerror(errno));
      if (r == 0) throw Error("unexpected end of file (truncated?)");
      if (crc) *crc = crc32(*crc, p, static_cast<std::size_t>(r));
      p += r, offset += static_cast<std::uint64_t>(r), n -= static_cast<std::size_t>(r);
    }
  }

  // What the zip reader asks for: up to `n` bytes (fewer at the end).
  std::string read(std::uint64_t offset, std::size_t n) const {
    if (offset >= size_) return {};
    std::string s(std::min<std::uint64_t>(n, size_ - offset), '\0');
    read_into(s.data(), offset, s.size());
    return s;
  }

  int fd() const { return fd_; }
  bool mapped() const { return mapping_ != nullptr; }

  // A storage of `n` bytes at `offset`, a view of the mapping that keeps it
  // alive. `crc` as for read_into.
  c10::Storage mapped_storage(std::uint64_t offset, std::size_t n, std::uint32_t* crc) const {
    if (offset > size_ || n > size_ - offset) throw Error("unexpected end of file (truncated?)");
    if (crc) *crc = crc32(*crc, static_cast<char*>(mapping_->address) + offset, n);
    auto* keep = new std::shared_ptr<Mapping>(mapping_);
    c10::DataPtr ptr(static_cast<char*>(mapping_->address) + offset, keep,
                     [](void* ctx) { delete static_cast<std::shared_ptr<Mapping>*>(ctx); }, c10::Device(c10::kCPU));
    return c10::Storage(c10::Storage::use_byte_size_t(), n, std::move(ptr), nullptr, false);
  }

 private:
  int fd_ = -1;
  std::uint64_t size_ = 0;
  std::shared_ptr<Mapping> mapping_;
};

}  // namespace ckpt::torch_store::detail
