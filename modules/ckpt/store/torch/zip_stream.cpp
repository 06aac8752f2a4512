#include "zip_stream.hpp"

#include <stdexcept>

#include "crc32.hpp"

namespace ckpt::torch_store {
namespace {
// CRC and write in slices that stay in cache between the two passes.
constexpr std::size_t slice = std::size_t{4} << 20;
}  // namespace

void ZipStream::emit(const void* data, std::size_t n) {
  sink_.write(data, n);
  offset_ += n;
}

void ZipStream::begin(std::string name, std::uint64_t size) {
  if (open_) throw std::logic_error("zip entry '" + entries_.back().name + "' is still open");
  if (name.size() > 0xFFFF) throw std::runtime_error("zip entry name too long");
  const std::string header = zip::local_header(name, size, offset_);
  entries_.push_back({std::move(name), size, 0, offset_, 0});
  emit(header.data(), header.size());
  open_ = true;
  written_ = 0;
  crc_ = 0;
}

void ZipStream::write(const void* data, std::size_t n) {
  if (!open_ || n > entries_.back().size - written_)
    throw std::logic_error("zip entry written past its declared size");
  const auto* p = static_cast<const char*>(data);
  for (std::size_t done = 0; done < n;) {
    const std::size_t k = n - done < slice ? n - done : slice;
    crc_ = crc32(crc_, p + done, k);
    emit(p + done, k);
    done += k;
  }
  written_ += n;
}

void ZipStream::end() {
  zip::Entry& e = entries_.back();
  if (!open_ || written_ != e.size)
    throw std::logic_error("zip entry '" + e.name + "' got " + std::to_string(written_) + " of " +
                           std::to_string(e.size) + " bytes");
  e.crc32 = crc_;
  const std::string descriptor = zip::data_descriptor(crc_, e.size);
  emit(descriptor.data(), descriptor.size());
  open_ = false;
}

void ZipStream::add(std::string name, std::string_view bytes) {
  begin(std::move(name), bytes.size());
  write(bytes.data(), bytes.size());
  end();
}

void ZipStream::finish() {
  if (open_) throw std::logic_error("zip entry '" + entries_.back().name + "' is still open");
  const std::string cd = zip::central_directory(entries_, offset_);
  emit(cd.data(), cd.size());
  sink_.flush();
}

}  // namespace ckpt::torch_store
