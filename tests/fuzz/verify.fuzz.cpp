// libFuzzer: checkpoint verification (torch_store::verify: the zip structure,
// data.pkl, every CRC-32: what resume and tools/inspect --verify run) and loading over
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

namespace ts = ckpt::torch_store;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const int fd = ::memfd_create("ckpt-fuzz-verify", 0);
  if (fd < 0) fuzz::broken("memfd_create");
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) fuzz::broken("pwrite");
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  ts::VerifyOptions one_thread;
  one_thread.io_threads = 1;
  const ts::Verified verified = ts::verify(path, one_thread);
  if (verified.error.find('\n') != std::string::npos) fuzz::broken("a reason of several lines");
  ts::LoadOptions mapped;
  mapped.mmap = true;
  mapped.io_threads = 1;
  try {
    (void)ts::load(path, mapped);
  } catch (const std::exception&) {
    // what verify accepts, resume loads: a file that verifies and then fails is a finding
    if (verified.error.empty()) fuzz::broken("verifies but does not load");
  }
  return 0;
}
