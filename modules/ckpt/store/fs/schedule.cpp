// The order of a plan's effects on disk. `safe` moves removals after the
// writes and runtime-info updates that follow them, which changes nothing
// on disk unless a later effect touches the removed path; those cases keep
// the reference's outcome (see `schedule` in fs.cppm). Paths compare by
// their lexical keys: within one plan they all derive from one out_dir.
module;
#include <cstddef>
#include <optional>
#include <string>
#include <variant>
#include <vector>
module ckpt.store.fs;

namespace ckpt::store::fs {

namespace detail {

namespace {

bool is_info(const Effect& e) {
  return std::holds_alternative<SetRuntimeInfo>(e) || std::holds_alternative<SetRunnerMeta>(e);
}
bool is_removal(const Effect& e) {
  return std::holds_alternative<RemoveCheckpoint>(e) || std::holds_alternative<RemoveUntilGap>(e);
}

bool under(const std::string& path, const std::string& dir) {
  return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && (dir == "/" || path[dir.size()] == '/');
}
bool overlap(const std::string& a, const std::string& b) { return a == b || under(a, b) || under(b, a); }

// The paths an effect reads or writes on disk, as keys (a pinned removal
// counts: it keeps its place, so what follows it must not move past it).
std::vector<std::string> touched(const Effect& e, bool pinned_removal) {
  if (auto p = written_path(e)) return {lexical_key(*p)};
  if (const auto* publish = std::get_if<Publish>(&e)) return {lexical_key(publish->source)};
  if (const auto* remove = std::get_if<RemoveCheckpoint>(&e); remove && pinned_removal)
    return {lexical_key(remove->path)};
  if (const auto* series = std::get_if<RemoveUntilGap>(&e); series && pinned_removal)
    return {lexical_key(series->out_dir)};
  return {};
}

}  // namespace

std::optional<std::string> written_path(const Effect& effect) {
  if (const auto* s = std::get_if<SaveCheckpoint>(&effect)) return py::path::join(s->out_dir, s->filename);
  if (const auto* s = std::get_if<LegacySaveCheckpoint>(&effect)) return s->filepath;
  if (const auto* t = std::get_if<WriteText>(&effect)) return t->path;
  if (const auto* l = std::get_if<Symlink>(&effect)) return l->link;
  return std::nullopt;
}

std::vector<Slot> order(const Plan& plan, Ordering ordering) {
  std::vector<Slot> out;
  if (ordering == Ordering::reference) {
    for (std::size_t i = 0; i < plan.size(); ++i) out.push_back({i, std::nullopt});
    return out;
  }
  // Decide each removal from the last one back, so that a pinned later
  // removal is known when an earlier one is decided.
  enum class Fate { moves, pinned, absorbed };
  std::vector<Fate> fate(plan.size(), Fate::moves);
  std::vector<std::optional<std::size_t>> absorbs(plan.size());
  for (std::size_t i = plan.size(); i-- > 0;) {
    if (!is_removal(plan[i])) continue;
    const auto* remove = std::get_if<RemoveCheckpoint>(&plan[i]);
    std::string key = lexical_key(remove ? remove->path : std::get<RemoveUntilGap>(plan[i]).out_dir);
    for (std::size_t j = i + 1; j < plan.size() && fate[i] == Fate::moves; ++j) {
      for (const auto& t : touched(plan[j], fate[j] == Fate::pinned)) {
        if (remove && t == key && written_path(plan[j])) {
          fate[i] = Fate::absorbed;  // B61: the write replaces it atomically
          if (!absorbs[j]) absorbs[j] = i;
        } else if (!remove || overlap(t, key)) {  // a RemoveUntilGap reads the disk: nothing may move past it
          fate[i] = Fate::pinned;
        }
        if (fate[i] != Fate::moves) break;
      }
    }
  }
  std::vector<Slot> info, removals;
  for (std::size_t i = 0; i < plan.size(); ++i) {
    if (is_info(plan[i])) info.push_back({i, std::nullopt});
    else if (fate[i] == Fate::moves && is_removal(plan[i])) removals.push_back({i, std::nullopt});
    else if (fate[i] != Fate::absorbed) out.push_back({i, absorbs[i]});
  }
  out.insert(out.end(), info.begin(), info.end());
  out.insert(out.end(), removals.begin(), removals.end());
  return out;
}

}  // namespace detail

Plan schedule(const Plan& plan, Ordering ordering) {
  Plan out;
  for (const auto& slot : detail::order(plan, ordering)) out.push_back(plan[slot.index]);
  return out;
}

}  // namespace ckpt::store::fs
