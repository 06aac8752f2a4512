// The storage reader (see parallel_read.hpp, read_plan.hpp). Tasks are
// handed out by an atomic index, so a large storage spreads over every
// thread and many small ones do not queue behind one; the first failure
// stops the rest.
#include "parallel_read.hpp"

#include <c10/core/CPUAllocator.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>

#include "crc32.hpp"
#include "read_plan.hpp"

namespace ckpt::torch_store::detail {
namespace {

[[noreturn]] void fail(const std::string& what) { throw Error(what); }

constexpr std::size_t huge_page = 2 << 20;
constexpr std::uint64_t bytes_per_thread = 1 << 20;  // less work than this is not worth a thread

// Reads [offset, offset + n) into p. False when O_DIRECT refuses the
// request (EINVAL: tmpfs before Linux 6.6, some FUSE, blocks over 4096),
// so that the caller can read it buffered instead.
bool read_exactly(int fd, char* p, std::uint64_t offset, std::uint64_t n, bool direct) {
  while (n > 0) {
    const ssize_t r = ::pread(fd, p, static_cast<std::size_t>(n), static_cast<off_t>(offset));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && direct && errno == EINVAL) return false;
    if (r < 0) fail(std::string("read failed: ") + std::strerror(errno));
    if (r == 0) fail("unexpected end of file (truncated?)");
    p += r, offset += static_cast<std::uint64_t>(r), n -= static_cast<std::uint64_t>(r);
  }
  return true;
}

// Faults in the whole pages of [p, p + n) with one call instead of a trap
// per page (faults were ~40% of a many-small load's CPU time here); only a
// hint, ignored before Linux 5.14. O_DIRECT reads need none: they pin
// their pages in one go already.
void prefault(char* p, std::size_t n) {
#ifdef MADV_POPULATE_WRITE
  const std::uint64_t lo = align_up(reinterpret_cast<std::uintptr_t>(p)), hi = align_down(reinterpret_cast<std::uintptr_t>(p) + n);
  if (lo < hi) ::madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_POPULATE_WRITE);
#else
  (void)p, (void)n;
#endif
}

// O_DIRECT's alignment for this file, as the file system reports it
// (statx, Linux 6.1+); the page size where it does not say.
DirectAlign direct_alignment(int fd) {
#ifdef STATX_DIOALIGN
  struct statx st;
  if (::statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &st) == 0 && (st.stx_mask & STATX_DIOALIGN)) {
    const std::uint64_t memory = st.stx_dio_mem_align, offset = st.stx_dio_offset_align;
    const auto power_of_two = [](std::uint64_t x) { return x > 0 && (x & (x - 1)) == 0; };
    if (power_of_two(memory) && power_of_two(offset) && memory <= page && offset <= page)
      return {std::max(memory, offset), memory};
  }
#else
  (void)fd;
#endif
  return {};
}

// Whether more than half the pages of [begin, end) are in the page cache;
// mincore over a mapping that is never touched, so nothing is read.
bool mostly_cached(int fd, std::uint64_t begin, std::uint64_t end) {
  const std::uint64_t start = align_down(begin);
  const auto length = static_cast<std::size_t>(end - start);
  void* map = ::mmap(nullptr, length, PROT_READ, MAP_SHARED, fd, static_cast<off_t>(start));
  if (map == MAP_FAILED) return true;  // cannot tell: the page cache is the safe choice
  std::vector<unsigned char> resident((length + page - 1) / page);
  const bool known = ::mincore(map, length, resident.data()) == 0;
  ::munmap(map, length);
  if (!known) return true;
  const auto cached = std::count_if(resident.begin(), resident.end(), [](unsigned char r) { return r & 1; });
  return static_cast<std::size_t>(cached) * 2 > resident.size();
}

// The same open file again with O_DIRECT (through /proc, not the path, so a
// file renamed over it meanwhile is not read); -1 where that is refused.
int reopen_direct(int fd, const Plan& plan, LoadOptions::DirectIo mode) {
  if (mode == LoadOptions::DirectIo::off) return -1;
  std::uint64_t begin = UINT64_MAX, end = 0;
  for (const Task& t : plan.tasks)
    if (t.direct) begin = std::min(begin, t.begin), end = std::max(end, t.end);
  if (begin >= end) return -1;
  if (mode == LoadOptions::DirectIo::automatic && mostly_cached(fd, begin, end)) return -1;
  return ::open(("/proc/self/fd/" + std::to_string(fd)).c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC);
}

struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// A thread's page-aligned buffer: runs read with O_DIRECT, pieces whose
// destination is misaligned or absent (verify only wants their CRC).
class Bounce {
 public:
  char* get(std::size_t n) {
    if (n > size_) {
      void* p = nullptr;
      if (::posix_memalign(&p, page, n) != 0) fail("cannot allocate a read buffer");
      memory_.reset(static_cast<char*>(p));
      size_ = n;
    }
    return memory_.get();
  }

 private:
  struct Free {
    void operator()(char* p) const { std::free(p); }
  };
  std::unique_ptr<char, Free> memory_;
  std::size_t size_ = 0;
};

class Reader {
 public:
  Reader(int fd, int direct_fd, const std::vector<ReadJob>& jobs, Plan plan, bool crc)
      : fd_(fd), direct_fd_(direct_fd), direct_ok_(direct_fd >= 0), crc_(crc), jobs_(jobs), plan_(std::move(plan)),
        results_(jobs.size()), piece_crcs_(plan_.tasks.size()) {}

  void run(int threads) {
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) {
      try {
        pool.emplace_back([this] { work(); });
      } catch (const std::system_error&) {
        break;  // fewer threads, same result
      }
    }
    work();
    for (std::thread& t : pool) t.join();
    if (error_) std::rethrow_exception(error_);
  }

  // Runs' jobs have their CRCs; a large job's is its pieces', in order, combined.
  std::vector<ReadResult> results() {
    for (std::size_t i = 0; crc_ && i < plan_.tasks.size(); ++i) {
      const Task& t = plan_.tasks[i];
      if (t.run) continue;
      std::uint32_t& crc = results_[plan_.order[t.first]].crc;
      crc = static_cast<std::uint32_t>(::crc32_combine(crc, piece_crcs_[i], static_cast<z_off_t>(t.end - t.begin)));
    }
    return std::move(results_);
  }

 private:
  // Takes tasks until none are left or a thread has failed.
  void work() {
    try {
      Bounce bounce;
      for (std::size_t i; !stop_.load(std::memory_order_relaxed) && (i = next_.fetch_add(1)) < plan_.tasks.size();)
        plan_.tasks[i].run ? read_run(plan_.tasks[i], bounce) : read_piece(i, bounce);
    } catch (...) {
      const std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = std::current_exception();
      stop_ = true;
    }
  }

  // Checks job j's local header, read through `read_at`; true (and the job
  // left unread) when it puts the data somewhere other than expected.
  bool moved(std::size_t j, const zip::ReadAt& read_at) {
    const ReadJob& job = jobs_[j];
    if (!job.entry) return false;
    const std::uint64_t at = zip::data_offset(*job.entry, read_at);
    if (at != job.offset) results_[j].moved_to = at;
    return at != job.offset;
  }

  bool moved_buffered(std::size_t j) {
    return moved(j, [&](std::uint64_t offset, std::size_t n) {
      std::string s(n, '\0');
      read_exactly(fd_, s.data(), offset, n, false);
      return s;
    });
  }

  void read_run(const Task& t, Bounce& bounce) {
    if (t.direct && direct_ok_.load(std::memory_order_relaxed)) {
      const std::uint64_t block = plan_.align.block, a = align_down(t.begin, block), b = align_up(t.end, block);
      char* span = bounce.get(b - a);
      if (read_exactly(direct_fd_, span, a, b - a, true)) {
        const zip::ReadAt from_span = [&](std::uint64_t offset, std::size_t n) {
          return offset < a || offset > b ? std::string() : std::string(span + (offset - a), std::min<std::uint64_t>(n, b - offset));
        };
        for (std::size_t i = t.first; i < t.last; ++i) {
          const std::size_t j = plan_.order[i];
          if (moved(j, from_span)) continue;
          const ReadJob& job = jobs_[j];
          const char* bytes = span + (job.offset - a);
          if (job.dest) {
            prefault(job.dest, job.n);
            if (job.n > 0) std::memcpy(job.dest, bytes, job.n);
          }
          if (crc_) results_[j].crc = torch_store::crc32(0, bytes, job.n);
        }
        return;
      }
      direct_ok_ = false;
    }
    for (std::size_t i = t.first; i < t.last; ++i) {
      const std::size_t j = plan_.order[i];
      if (moved_buffered(j)) continue;
      const ReadJob& job = jobs_[j];
      char* dest = job.dest ? job.dest : bounce.get(job.n);
      prefault(job.dest, job.n);
      read_exactly(fd_, dest, job.offset, job.n, false);
      if (crc_) results_[j].crc = torch_store::crc32(0, dest, job.n);
    }
  }

  void read_piece(std::size_t i, Bounce& bounce) {
    const Task& t = plan_.tasks[i];
    const std::size_t j = plan_.order[t.first];
    if (t.header && moved_buffered(j)) return;
    const ReadJob& job = jobs_[j];
    // Through the buffer only while O_DIRECT is on: a buffered read goes
    // straight into place at no extra cost.
    if (!job.dest || (t.bounce && direct_ok_.load(std::memory_order_relaxed))) {
      read_bounced(i, job, bounce);
      return;
    }
    char* dest = job.dest + (t.begin - job.offset);
    const auto at = [&](std::uint64_t offset) { return dest + (offset - t.begin); };
    if (t.direct && !t.bounce && direct_ok_.load(std::memory_order_relaxed)) {
      const std::uint64_t lo = align_up(t.begin, plan_.align.block), hi = align_down(t.end, plan_.align.block);
      read_exactly(fd_, dest, t.begin, lo - t.begin, false);
      if (!read_exactly(direct_fd_, at(lo), lo, hi - lo, true)) {
        direct_ok_ = false;
        read_exactly(fd_, at(lo), lo, hi - lo, false);
      }
      read_exactly(fd_, at(hi), hi, t.end - hi, false);
    } else {
      prefault(dest, static_cast<std::size_t>(t.end - t.begin));
      read_exactly(fd_, dest, t.begin, t.end - t.begin, false);
    }
    if (crc_) piece_crcs_[i] = torch_store::crc32(0, dest, static_cast<std::size_t>(t.end - t.begin));
  }

  // A piece that cannot go O_DIRECT into place: its block-aligned span
  // [lo, hi) goes O_DIRECT into the thread's buffer (the bytes before the
  // piece are read and dropped), its ragged tail buffered after it; then one
  // copy to the destination while the bytes are hot. Measured against
  // buffered reads straight into place: see docs/perf.md.
  void read_bounced(std::size_t i, const ReadJob& job, Bounce& bounce) {
    const Task& t = plan_.tasks[i];
    const std::uint64_t block = plan_.align.block, lo = align_down(t.begin, block), hi = align_down(t.end, block);
    const auto n = static_cast<std::size_t>(t.end - t.begin);
    char* span = bounce.get(static_cast<std::size_t>(t.end - lo));
    char* piece = span + (t.begin - lo);
    bool read = false;
    if (t.direct && direct_ok_.load(std::memory_order_relaxed)) {
      read = read_exactly(direct_fd_, span, lo, hi - lo, true);
      if (read) read_exactly(fd_, span + (hi - lo), hi, t.end - hi, false);
      else direct_ok_ = false;
    }
    if (!read) read_exactly(fd_, piece, t.begin, n, false);
    if (job.dest) std::memcpy(job.dest + (t.begin - job.offset), piece, n);
    if (crc_) piece_crcs_[i] = torch_store::crc32(0, piece, n);
  }

  int fd_, direct_fd_;
  std::atomic<bool> direct_ok_;
  bool crc_;
  const std::vector<ReadJob>& jobs_;
  const Plan plan_;
  std::vector<ReadResult> results_;     // a job's: written by the one task that reads or checks it
  std::vector<std::uint32_t> piece_crcs_;  // by task
  std::atomic<std::size_t> next_{0};
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::exception_ptr error_;
};

}  // namespace

c10::DataPtr memory_for_read(std::uint64_t offset, std::size_t n) {
  if (n < small_storage) return c10::GetCPUAllocator()->allocate(n);  // read through a buffer anyway: no page of padding
  // From 2 MiB on, a storage starts on a huge page so that THP (madvise
  // mode) can back its whole 2 MiB ranges; the advice ends where the
  // storage does, so its tail gets small pages, not a mostly unused huge one.
  const std::size_t alignment = n >= huge_page ? huge_page : page;
  void* base = nullptr;
  if (n > SIZE_MAX - page || ::posix_memalign(&base, alignment, n + page) != 0)
    fail("cannot allocate " + std::to_string(n) + " bytes for a storage");
  if (alignment == huge_page) ::madvise(base, n + page, MADV_HUGEPAGE);  // a hint; failure is harmless
  return c10::DataPtr(static_cast<char*>(base) + offset % page, base, [](void* b) { std::free(b); },
                      c10::Device(c10::kCPU));
}

std::vector<ReadResult> read_jobs(int fd, const std::vector<ReadJob>& jobs, const ReadSettings& settings) {
  struct stat st;
  if (::fstat(fd, &st) != 0) fail(std::string("cannot stat: ") + std::strerror(errno));
  Plan plan = plan_reads(jobs, static_cast<std::uint64_t>(st.st_size), direct_alignment(fd));
  std::uint64_t total = 0;
  for (const ReadJob& job : jobs) total += job.n;
  const Fd direct{reopen_direct(fd, plan, settings.direct_io)};
  const auto threads = static_cast<int>(std::max<std::uint64_t>(
      1, std::min<std::uint64_t>({static_cast<std::uint64_t>(std::max(settings.threads, 1)), plan.tasks.size(),
                                  total / bytes_per_thread})));
  Reader reader(fd, direct.fd, jobs, std::move(plan), settings.crc);
  reader.run(threads);
  return reader.results();
}

}  // namespace ckpt::torch_store::detail
