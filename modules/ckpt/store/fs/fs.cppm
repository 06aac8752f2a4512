// ckpt.store.fs — applies plans to a real POSIX filesystem so that
// checkpoints survive crashes.
//
// Shell code: it does I/O, and reports failures as values (`Applied::error`),
// never as exceptions. Every file is written under a temporary name, fsync'ed,
// renamed over its final name and its directory fsync'ed, so a reader (or a
// restarted run) sees the old file or the whole new one. Nothing outside the
// two roots it is given is ever written or removed: paths are resolved
// physically (symlinks included) and the whole plan is checked before the
// first effect is applied. Two orderings leave the same files behind;
// `safe` also makes every new checkpoint durable before anything is evicted
// (spec section D, E28), and refuses a save that the free space cannot
// hold before it writes or removes anything. A path with a NUL byte is
// Python's `ValueError: embedded null byte` where the reference opens it,
// never a truncated name.
module;
#include "ckpt/internal/durable.hpp"
#include "ckpt/internal/sink.hpp"
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <variant>
#include <vector>
export module ckpt.store.fs;
export import ckpt.policy;

export namespace ckpt::store::fs {

/// The order in which a plan's effects reach the disk.
enum class Ordering {
  reference,  // the plan's own order: mmengine evicts before it saves (E24, E28)
  safe,       // writes first, then runtime info, then removals (see `schedule`)
};

struct Options {
  Ordering ordering = Ordering::safe;
  /// Rank 0. Elsewhere nothing touches the disk, saves included: mmengine's
  /// runner calls save_checkpoint on every rank but only rank 0 writes.
  bool main_process = true;
  /// Safe ordering only: when a plan's saves need more than the free space
  /// (statvfs) and the plan evicts, apply it in the reference's order so
  /// the evictions make room, as mmengine does (a crash or a failed write
  /// then loses the evicted checkpoint, E28). Off: refuse the plan before
  /// anything is written or removed, saying how much is needed.
  bool evict_first_if_short = false;
  friend bool operator==(const Options&, const Options&) = default;
};

/// Where a payload's bytes go (a temporary file, through a buffer; for
/// Publish also through a SHA-256, so that the name is the hash of exactly
/// the bytes written). Writes throw on failure, naming the errno.
using Sink = internal::Sink;

/// What a payload writer is asked to write: a SaveCheckpoint,
/// LegacySaveCheckpoint or Publish, and the runtime info as the reference
/// holds it at that effect (E25 sets `last_ckpt` before E26 saves), whatever
/// the ordering, so both orderings write the same bytes.
struct Payload {
  const Effect& effect;
  const py::Dict& runtime_info;
};

/// Writes a checkpoint's bytes into `out` (a new temporary file); returns an
/// error message on failure (or throws). For Publish it loads `source`
/// itself and writes the kept keys; the store names the result after the
/// SHA-256 of what was written (E42), hashed on the way to the file.
using PayloadWriter = std::function<std::optional<std::string>(const Payload& payload, Sink& out)>;

/// The bytes a save effect will write, for the free-space check (safe
/// ordering); nullopt: the store's estimate (the size of the file it
/// replaces, else of runtime info's `last_ckpt`, else of `latest.pth`'s
/// target; nothing known: no check).
using SizeHint = std::function<std::optional<std::uint64_t>(const Effect& effect)>;

enum class ErrorKind {
  containment,  // a path outside both roots: nothing of the plan was applied
  io,           // a system call failed; the message carries the errno text
  writer,       // the payload writer failed (or none was given)
  reference,    // the reference raises here too (rmtree on a symlink, no rmtree)
};

struct Error {
  ErrorKind kind = ErrorKind::io;
  std::string path;
  std::string message;
  int err = 0;  // errno, for io errors (and a writer's failed write)
  friend bool operator==(const Error&, const Error&) = default;
};

/// The exception a Python program meets for `error`: io errors as OSError's
/// subclass for the errno (FileNotFoundError, PermissionError, ...), the
/// reference's own (rmtree on a link: OSError; FileClient without rmtree:
/// AttributeError) as it raises them; a containment refusal, which the
/// reference has no counterpart for, as `ContainmentError`; a writer's
/// failure as the exception its message names ("EOFError: Ran out of
/// input"), else `OSError` when it carries an errno, else `RuntimeError`.
py::PyError python_exception(const Error& error);

/// What one `apply` did, in the order it did it; paths as the plan names them.
struct Applied {
  std::vector<std::string> written;  // checkpoints, texts, published files, links
  std::vector<std::string> removed;
  std::vector<WriteText> texts;
  /// Plan indices of the effects carried out, in the order they were (a
  /// runtime-info update counts when reached; other ranks carry out only
  /// those and the logs).
  std::vector<std::size_t> done;
  std::optional<Error> error;  // the first failure; later effects were not applied
  /// The plan index of the effect that failed.
  std::optional<std::size_t> failed_effect;
  /// Safe ordering, space short: the plan went in the reference's order
  /// (Options::evict_first_if_short).
  bool evicted_first = false;
  bool ok() const { return !error; }
  friend bool operator==(const Applied&, const Applied&) = default;
};

/// The runtime info after `applied`: `before` with the plan's carried-out
/// SetRuntimeInfo effects, in the order they were carried out. The store
/// keeps no copy: runtime info has one owner (the hook's state), and this
/// is what a caller that rolls back or reports a failed event derives.
py::Dict runtime_info_after(py::Dict before, const Plan& plan, const Applied& applied);
/// mmcv's `runner.meta` after `applied` (its carried-out SetRunnerMeta).
py::Value runner_meta_after(py::Value before, const Plan& plan, const Applied& applied);

/// The effects of `plan` in the order `apply` performs them. `reference`: the
/// plan. `safe`: writes (and logs) first, then runtime-info updates, then
/// removals, each in plan order, with two exceptions that keep the files
/// left behind identical to the reference's: a RemoveCheckpoint of a path a
/// later write replaces is dropped (B61: the reference deletes, then
/// rewrites; the write replaces it atomically instead), and a removal with a
/// later write landing inside it, or a RemoveUntilGap with any later write
/// (it reads the disk), keeps its place. The reducers emit neither of those.
Plan schedule(const Plan& plan, Ordering ordering);

/// The filesystem side of a run: checkpoints under `checkpoint_dir_root`,
/// `last_checkpoint` under `work_dir`. Holds no state of the run: the
/// runtime info a payload is written with comes from the caller.
class Store {
 public:
  Store(std::filesystem::path checkpoint_dir_root, std::filesystem::path work_dir, Options options = {});

  /// Applies one event's plan. Checks every path first (containment), then
  /// applies `schedule(plan, ordering)`, stopping at the first failure.
  /// `runtime_info` is the message hub's before the event: each payload
  /// sees it as the reference holds it at that effect.
  /// Under the safe ordering the saves' expected sizes (`expected_size`)
  /// must fit in the free space first (see Options::evict_first_if_short).
  Applied apply(const Plan& plan, const PayloadWriter& writer = {}, const py::Dict& runtime_info = {},
                const SizeHint& expected_size = {}) const;

  /// Removes what a process killed mid-write leaves behind: entries named
  /// as this project's durable write names its temporary files
  /// (`.ckpt-tmp.<pid>.<n>`, files or links) whose process is no longer
  /// running, directly in each of `dirs` (which must lie inside the roots;
  /// a missing one is skipped). Nothing else is touched. Returns the paths
  /// removed, or the first failure.
  std::variant<std::vector<std::string>, Error> sweep_temporaries(const std::vector<std::string>& dirs) const;

  const Options& options() const { return options_; }
  /// The two roots, absolute and lexically normal.
  const std::vector<std::string>& roots() const { return roots_; }

 private:
  std::vector<std::string> roots_;  // absolute, lexically normal
  Options options_;
};

std::ostream& operator<<(std::ostream& os, Ordering ordering);
std::ostream& operator<<(std::ostream& os, ErrorKind kind);
std::ostream& operator<<(std::ostream& os, const Error& error);
std::ostream& operator<<(std::ostream& os, const Applied& applied);

}  // namespace ckpt::store::fs

// Internals shared by the implementation units; not exported.
namespace ckpt::store::fs::detail {

using internal::Fd;
using internal::TempFile;

// --- locate.cpp: where a path lands -------------------------------------

/// A name in a directory below one of the roots; `dirs` are physical (no
/// symlink, no dot entries), the missing ones to be created by writes.
struct Location {
  std::string root;
  std::vector<std::string> dirs;
  std::string name;
  std::string directory() const;
};

/// The path cannot name anything: a parent is a file, a dangling symlink, a
/// loop (errno), or a write names a directory (EISDIR).
struct Unreachable {
  int err = 0;
};

enum class Intent { write, remove };

/// Resolves `path` (relative to the working directory when relative) against
/// the canonical `roots`: a containment Error when it lands outside all of
/// them (or, for a removal, on a root itself).
std::variant<Location, Unreachable, Error> locate(const std::string& path, Intent intent,
                                                  const std::vector<std::string>& roots);

/// The roots with their existing prefixes resolved physically.
std::variant<std::vector<std::string>, Error> canonical_roots(const std::vector<std::string>& roots);

/// `path` made absolute and lexically normal: the key under which plans
/// compare paths (B61: the evicted path and the saved one are the same).
std::string lexical_key(const std::string& path);

// --- durable.cpp: the system calls ----------------------------------------

Error io_error(int err, const std::string& path, const std::string& what);

/// Opens the Location's directory from its root without following symlinks
/// (a symlink swapped in after `locate` gives ELOOP); `create` makes missing
/// directories, the root included, fsync'ing each parent. errno on failure.
std::variant<Fd, int> open_directory(const Location& at, bool create);

/// An Error for a failed call of the shared durable write.
Error io_error(const internal::IoFailure& failure, const std::string& path);

/// Python's refusal of a path with a NUL byte (open, os.symlink, torch.load).
Error embedded_null(const std::string& path);
bool has_nul(const std::string& path);

/// Free bytes for an unprivileged writer (statvfs f_bavail) on the file
/// system holding `dir` (or its nearest existing parent); errno on failure.
std::variant<std::uint64_t, int> free_bytes(const std::string& dir);

/// The names in directory `dir` (no dot entries); errno on failure.
std::variant<std::vector<std::string>, int> list_directory(int dir);

/// `name` becomes a symlink to `target`, replaced atomically.
std::optional<Error> replace_symlink(int dir, const std::string& name, const std::string& target,
                                     const std::string& shown);

/// The reference's `isfile(p)`: a regular file, or a symlink to one.
bool is_regular_file(int dir, const std::string& name);

/// mmengine's removal (E16, E24, E35): a file (or a link to one) is
/// unlinked, a directory removed as a tree without following any symlink in
/// it, anything else skipped. True when something was removed.
std::variant<bool, Error> remove_entry(int dir, const std::string& name, bool can_remove_tree,
                                       const std::string& shown);

/// Unlinks one entry (a file or a link) and fsyncs the directory.
std::optional<Error> unlink_entry(int dir, const std::string& name, const std::string& shown);

// --- space.cpp: will the saves fit? -----------------------------------------

struct Shortfall {
  std::string dir;            // where the first save goes
  std::uint64_t needed = 0;   // what the plan's saves are expected to write
  std::uint64_t free = 0;
  std::size_t effect = 0;     // the first save's plan index
};

/// Under the safe ordering: the plan's saves against the free space where
/// the first one goes; nullopt when they fit or nothing is known about
/// their size; an Error when statvfs fails.
std::variant<std::optional<Shortfall>, Error> shortfall(const Plan& plan, const py::Dict& runtime_info,
                                                        const SizeHint& expected_size);
Error space_error(const Shortfall& s);
bool evicts(const Plan& plan);

// --- schedule.cpp ------------------------------------------------------------

/// One step of a schedule: a plan index, and for a write the index of the
/// dropped removal it absorbs (safe ordering, B61).
struct Slot {
  std::size_t index = 0;
  std::optional<std::size_t> absorbs;
};
std::vector<Slot> order(const Plan& plan, Ordering ordering);

/// The path an effect writes (Publish: none, its name depends on its bytes).
std::optional<std::string> written_path(const Effect& effect);

}  // namespace ckpt::store::fs::detail
