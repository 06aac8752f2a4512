// ckpt.policy:retention — which periodic checkpoints to delete.
//
// mmengine (E16, E24): a bounded deque of step ids, evicting the oldest
// *before* the new save. mmcv (C52): arithmetic over the interval after the
// save, stopping at the first missing file. Best, published and latest.pth
// files are never in scope (B62).
module;
#include <cstdint>
#include <deque>
#include <optional>
#include <ostream>
#include <string>
#include <vector>
export module ckpt.policy:retention;
import ckpt.py;
import :effects;

export namespace ckpt {

/// The hook's `keep_ckpt_ids` deque and its bound.
struct KeepIds {
  std::deque<py::Value> ids;
  std::int64_t maxlen = 0;
  friend bool operator==(const KeepIds&, const KeepIds&) = default;
};

/// E16 on resume, first half: the stored ids (or a fresh empty list),
/// popped from the front while longer than `max_keep_ckpts` (> 0).
struct ResumeTrim {
  std::vector<py::Value> dropped;  // popped steps, oldest first: their files go
  py::Value stored_after;          // the runtime-info object after the pops (mutated in place)
  friend bool operator==(const ResumeTrim&, const ResumeTrim&) = default;
};
py::Result<ResumeTrim> trim_resumed(const py::Value* stored, const py::Value& max_keep_ckpts);

/// E16, second half: `deque(ids, max_keep_ckpts)`. Raises only after the
/// trim's files are gone, as the reference does (a float bound: TypeError).
py::Result<KeepIds> bounded_ids(const py::Value& ids, const py::Value& max_keep_ckpts);

/// E24 before a save at `step`: unchanged when the last id already is
/// `step`; else the oldest is evicted when full and `step` appended.
struct Retention {
  KeepIds keep;
  std::optional<py::Value> evicted;
  bool appended = false;
  friend bool operator==(const Retention&, const Retention&) = default;
};
py::Result<Retention> retain(KeepIds keep, const py::Value& max_keep_ckpts, const py::Value& step);

/// C52 after an mmcv save at `current`: `range(current - max_keep*interval,
/// 0, -interval)` as a RemoveUntilGap, or nothing when the range is empty.
py::Result<std::optional<RemoveUntilGap>> legacy_retention(const std::string& out_dir, const py::Value& filename_tmpl,
                                                           std::int64_t current, const py::Value& max_keep_ckpts,
                                                           const py::Value& interval);

/// The steps of a RemoveUntilGap, in the order they are tried.
std::vector<std::int64_t> series_steps(const RemoveUntilGap& series, std::size_t limit);
/// The path of one step of the series.
std::string series_path(const RemoveUntilGap& series, std::int64_t step);

std::ostream& operator<<(std::ostream& os, const KeepIds& keep);

}  // namespace ckpt
