// libFuzzer: checkpoint verification and loading (the zip structure,
// data.pkl, every CRC-32: what resume and tools/inspect --verify run) over
// any file. The bytes go to an in-memory file (memfd), read both ways
// (pread and mmap). Never a crash or a leak; memory stays bounded by the
// file's size (libFuzzer's -malloc_limit_mb catches an allocation that is
// not); a refusal is one line.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>

#include "ckpt/store/torch/checkpoint.hpp"
#include "fuzz.support.hpp"
#include "verify.hpp"

namespace ts = ckpt::torch_store;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const int fd = ::memfd_create("ckpt-fuzz-verify", 0);
  if (fd < 0) fuzz::broken("memfd_create");
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) fuzz::broken("pwrite");
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  const auto verified = ckpt::inspect::verify(path);
  if (!verified.ok() && verified.error.find('\n') != std::string::npos) fuzz::broken("a reason of several lines");
  ts::LoadOptions mapped;
  mapped.mmap = true;
  mapped.io_threads = 1;
  try {
    (void)ts::load(path, mapped);
    if (!verified.ok()) fuzz::broken("loads mapped but does not verify");
  } catch (const std::exception&) {
  }
  return 0;
}
