// ckpt.policy:naming — file names, steps and directories (E12, E13, E23,
// E33, E35, E42, C47), as the reference's string operations produce them.
module;
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
export module ckpt.policy:naming;
import ckpt.py;

export namespace ckpt {

/// The step a save is named after and the meta the hook passes.
struct StepMeta {
  std::int64_t step = 0;
  py::Dict meta;
  friend bool operator==(const StepMeta&, const StepMeta&) = default;
};

/// E23: by epoch `epoch+1` with meta {epoch: epoch+1, iter}; by iteration
/// `iter+1` with meta {epoch, iter: iter+1}.
StepMeta periodic_step(bool by_epoch, std::int64_t epoch, std::int64_t iter);

/// E33: no +1 at validation: the counters already count completed steps.
StepMeta best_step(bool by_epoch, std::int64_t epoch, std::int64_t iter);

/// `filename_tmpl.format(step)` (E23, B61).
py::Result<std::string> checkpoint_name(const py::Value& filename_tmpl, const py::Value& step);

/// E35: `best_<key>_<filename>` with every '/' replaced by '_'.
std::string best_name(std::string_view key, std::string_view filename);

/// E12/E13/C47 once `out_dir` is known (None/falsy already replaced by
/// work_dir): a non-str raises `AssertionError` (the file backend's check);
/// a str not equal to `work_dir` gets `basename(work_dir.rstrip('/'))` joined.
py::Result<std::string> derive_out_dir(const py::Value& out_dir, std::string_view work_dir, const char* clause);

/// E12/C47: what `FileClient.infer_client(file_client_args, out_dir)` (both
/// references) accepts, for the local disk: None args need a str `out_dir`
/// (else `AssertionError`); args must be a mapping (`TypeError`) whose keys are
/// `backend` ("disk" or None) and a None `prefix`; other keys are the backend
/// constructor's `TypeError`; another backend is refused (`ValueError`: ckpt
/// stores on the local disk only; the reference would try to import it).
std::optional<py::PyError> check_file_client(const py::Value& file_client_args, const py::Value& out_dir,
                                             const char* clause);

/// E42: `splitext(source)[0] + '-' + sha256_hex[:8] + '.pth'`.
std::string published_name(std::string_view source, std::string_view sha256_hex);

std::ostream& operator<<(std::ostream& os, const StepMeta& s);

}  // namespace ckpt
