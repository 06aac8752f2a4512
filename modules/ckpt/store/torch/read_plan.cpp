// Planning the reads (see read_plan.hpp).
#include "read_plan.hpp"

#include <algorithm>
#include <numeric>

namespace ckpt::torch_store::detail {
namespace {

// Bytes between small jobs that a run reads and throws away rather than
// split: a data descriptor and the next local header are ~100.
constexpr std::uint64_t max_gap = 64 << 10;

std::uint64_t start_of(const ReadJob& job) { return job.entry ? std::min(job.entry->header_offset, job.offset) : job.offset; }
std::uint64_t end_of(const ReadJob& job) { return job.offset + job.n; }

void add_pieces(Plan& plan, const ReadJob& job, std::size_t at) {
  const std::uint64_t block = plan.align.block;
  // O_DIRECT straight into place needs the destination's addresses to line
  // up with the file's blocks: the loader's own storages are allocated so;
  // a caller's tensor (LoadOptions::into) is where it is.
  const bool congruent = job.dest && (reinterpret_cast<std::uintptr_t>(job.dest) - job.offset) % plan.align.memory == 0;
  const std::uint64_t end = end_of(job);
  for (std::uint64_t begin = job.offset; begin < end;) {
    const std::uint64_t next = std::min(end, align_down(begin, block) + piece_size);
    const bool middle = align_up(begin, block) < align_down(next, block);
    const bool bounce = !job.dest || (!congruent && middle);
    plan.tasks.push_back({begin, next, at, at + 1, false, middle, begin == job.offset && job.entry != nullptr, bounce});
    begin = next;
  }
}

}  // namespace

Plan plan_reads(const std::vector<ReadJob>& jobs, std::uint64_t file_size, DirectAlign align) {
  Plan plan;
  plan.align = align;
  plan.order.resize(jobs.size());
  std::iota(plan.order.begin(), plan.order.end(), std::size_t{0});
  std::sort(plan.order.begin(), plan.order.end(), [&](std::size_t a, std::size_t b) {
    const std::uint64_t x = start_of(jobs[a]), y = start_of(jobs[b]);
    return x < y || (x == y && a < b);
  });
  for (std::size_t i = 0; i < plan.order.size();) {
    const ReadJob& job = jobs[plan.order[i]];
    if (job.n >= small_storage) {
      add_pieces(plan, job, i++);
      continue;
    }
    Task run{start_of(job), end_of(job), i, i + 1, true, false, false, false};
    for (++i; i < plan.order.size(); ++i) {
      const ReadJob& next = jobs[plan.order[i]];
      const std::uint64_t end = std::max(run.end, end_of(next));
      if (next.n >= small_storage || start_of(next) > run.end + max_gap || end - run.begin > piece_size) break;
      run.end = end;
      run.last = i + 1;
    }
    run.direct = align_up(run.end, align.block) <= file_size;  // whole blocks, none past the end
    plan.tasks.push_back(run);
  }
  return plan;
}

}  // namespace ckpt::torch_store::detail
