// Free space before a save (safe ordering). The reference evicts first, so
// on a nearly full disk its evictions make the room the new checkpoint
// needs; the safe ordering writes first, so it must know that the new files
// fit before it starts: otherwise the write fails half-way (ENOSPC) and the
// run stops where the reference would have carried on. The check refuses
// the plan up front, saying how much is needed; Options::evict_first_if_short
// trades the safety back for the space.
module;
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <variant>
#include <sys/stat.h>
module ckpt.store.fs;

namespace ckpt::store::fs::detail {

namespace {

std::optional<std::uint64_t> size_of(const std::string& path) {
  struct stat st {};
  if (path.empty() || has_nul(path) || ::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return static_cast<std::uint64_t>(st.st_size);
}

// The last checkpoint's size stands for the next one's: the file this save
// replaces, else the one runtime info names (mmengine, E25), else the
// target of latest.pth (mmcv, C56).
std::optional<std::uint64_t> estimate(const Effect& e, const py::Dict& runtime_info) {
  if (auto p = written_path(e))
    if (auto n = size_of(*p)) return n;
  if (std::holds_alternative<SaveCheckpoint>(e))
    if (const auto* last = py::find(runtime_info, "last_ckpt"); last && last->is<std::string>())
      return size_of(last->as<std::string>());
  if (const auto* legacy = std::get_if<LegacySaveCheckpoint>(&e))
    return size_of(py::path::join(legacy->out_dir, "latest.pth"));
  return std::nullopt;
}

std::string bytes_text(std::uint64_t n) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f MiB (%llu bytes)", static_cast<double>(n) / (1024.0 * 1024.0),
                static_cast<unsigned long long>(n));
  return buf;
}

}  // namespace

bool evicts(const Plan& plan) {
  for (const auto& e : plan)
    if (std::holds_alternative<RemoveCheckpoint>(e) || std::holds_alternative<RemoveUntilGap>(e)) return true;
  return false;
}

std::variant<std::optional<Shortfall>, Error> shortfall(const Plan& plan, const py::Dict& runtime_info,
                                                        const SizeHint& expected_size) {
  std::optional<Shortfall> s;
  for (std::size_t i = 0; i < plan.size(); ++i) {
    const Effect& e = plan[i];
    if (!std::holds_alternative<SaveCheckpoint>(e) && !std::holds_alternative<LegacySaveCheckpoint>(e)) continue;
    const std::string path = *written_path(e);
    if (has_nul(path)) continue;  // refused at its effect, before anything is written
    std::optional<std::uint64_t> n = expected_size ? expected_size(e) : std::nullopt;
    if (!n) n = estimate(e, runtime_info);
    if (!s) s = Shortfall{py::path::dirname(path), 0, 0, i};
    s->needed += n.value_or(0);
  }
  if (!s || s->needed == 0) return std::optional<Shortfall>();
  auto free = free_bytes(s->dir);
  if (auto* err = std::get_if<int>(&free)) return io_error(*err, s->dir, "statvfs");
  s->free = std::get<std::uint64_t>(free);
  if (s->free >= s->needed) return std::optional<Shortfall>();
  return s;
}

Error space_error(const Shortfall& s) {
  return {ErrorKind::io, s.dir,
          "the new checkpoint needs about " + bytes_text(s.needed) + ", " + bytes_text(s.free) +
              " are free: nothing was written or removed (the safe ordering writes before it evicts). Free "
              "some space, or set evict_first_if_short to evict first as mmengine does (a crash or a failed "
              "save then loses the evicted checkpoint)",
          ENOSPC};
}

}  // namespace ckpt::store::fs::detail
