// What a run killed at any moment leaves undone, found at resume from the
// files and the resumed runtime info, so that the resumed run ends as an
// uninterrupted one would (safe ordering). Plans of removals, applied by
// the caller through the store (containment, durable removal); only names
// the hook's own templates produce are ever considered. C++20, part of
// the engine (it imports the policy).
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

import ckpt;

namespace ckpt::checkpointer::converge {

/// The step `name` was formatted from by `tmpl` (B61 format specs too).
std::optional<std::int64_t> step_of(const py::Value& tmpl, const std::string& name);

/// The regular files in `dir` that `tmpl` names, newest step first.
std::vector<std::pair<std::int64_t, std::string>> periodic_files(const std::string& dir, const py::Value& tmpl);

/// A checkpoint's recorded keep_ckpt_ids, or nullopt when unreadable.
using KeepIdsOf = std::function<std::optional<std::vector<std::int64_t>>(const std::string& path)>;

/// E24 under the safe ordering evicts after the new save and its
/// runtime info are durable: a crash in between leaves the evicted file
/// with keep_ckpt_ids already past it. The file kept just before the
/// newest one records the list before that save, whose first id is the
/// one evicted: removed unless the runtime info still keeps its path.
Plan pending_eviction(const std::string& out_dir, const py::Value& tmpl, std::int64_t max_keep_ckpts,
                      const py::Dict& runtime_info, const KeepIdsOf& keep_ids_of);

/// C52 runs after the save: a crash before it leaves older files that the
/// resumed save's retention removes (idempotent: it stops at the first gap).
Plan pending_legacy_retention(const std::string& out_dir, const py::Value& tmpl, std::int64_t step,
                              const py::Value& max_keep_ckpts, const py::Value& interval);

/// The keys best files are named after: `save_best`, with `auto` taken
/// from the best file the runtime info names (unknown before the first win).
std::vector<std::string> best_keys(const std::vector<std::string>& save_best, const py::Value& tmpl,
                                   const py::Dict& runtime_info);

/// E35 files (`best_<key>_<tmpl.format(step)>`) in `out_dir` that the
/// runtime info does not name (neither as `best_ckpt[_<key>]` nor, for the
/// `ckpt` profile's keep_best, in `best_kept[_<key>]`): written by a win
/// whose periodic re-save (E37) never happened, or replaced by one whose
/// removal never did.
Plan orphaned_best(const std::string& out_dir, const py::Value& tmpl, const std::vector<std::string>& keys,
                   const py::Dict& runtime_info);

/// Whether the runtime info records the validation of `step` (a best file
/// of that step: its E37 re-save is what was resumed). When not, the
/// validation may never have run.
bool validation_recorded(const std::string& out_dir, const py::Value& tmpl, const std::vector<std::string>& keys,
                         const py::Dict& runtime_info, std::int64_t step);

}  // namespace ckpt::checkpointer::converge
