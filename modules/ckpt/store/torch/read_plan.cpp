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
  const bool congruent = (reinterpret_cast<std::uintptr_t>(job.dest) - job.offset) % page == 0;
  const std::uint64_t end = end_of(job);
  for (std::uint64_t begin = job.offset; begin < end;) {
    const std::uint64_t next = std::min(end, align_down(begin) + piece_size);
    const bool direct = congruent && align_up(begin) < align_down(next);
    plan.tasks.push_back({begin, next, at, at + 1, false, direct, begin == job.offset && job.entry != nullptr});
    begin = next;
  }
}

}  // namespace

Plan plan_reads(const std::vector<ReadJob>& jobs, std::uint64_t file_size) {
  Plan plan;
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
    Task run{start_of(job), end_of(job), i, i + 1, true, false, false};
    for (++i; i < plan.order.size(); ++i) {
      const ReadJob& next = jobs[plan.order[i]];
      const std::uint64_t end = std::max(run.end, end_of(next));
      if (next.n >= small_storage || start_of(next) > run.end + max_gap || end - run.begin > piece_size) break;
      run.end = end;
      run.last = i + 1;
    }
    run.direct = align_up(run.end) <= file_size;  // whole pages, none past the end
    plan.tasks.push_back(run);
  }
  return plan;
}

}  // namespace ckpt::torch_store::detail
