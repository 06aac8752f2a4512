// ckpt.policy:extensions — the `ckpt` profile's opt-in keywords (X1–X5,
// docs/spec/extensions.md): mmengine's hook plus keep_best, keep_period,
// best_save_optimizer and interval_seconds. With every one at its default
// the profile is mmengine's hook exactly; the decisions here are pure (time
// arrives as a number, read by no clock).
module;
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>
export module ckpt.policy:extensions;
import ckpt.py;
import :config;
import :rules;

export namespace ckpt {

/// The extension keywords as given (X1–X4); the defaults change nothing.
struct Extensions {
  py::Value keep_best = 1;
  py::Value keep_period = py::none;
  py::Value best_save_optimizer = false;
  py::Value interval_seconds = py::none;
  friend bool operator==(const Extensions&, const Extensions&) = default;
};

/// The `ckpt` profile's keyword arguments: mmengine's plus the extensions.
struct CkptConfig {
  HookConfig hook;
  Extensions extensions;
  friend bool operator==(const CkptConfig&, const CkptConfig&) = default;
};

/// Binds keyword arguments as the `ckpt` profile does: the extension
/// keywords are its own; everything else is bound as mmengine binds it.
CkptConfig ckpt_config_from_kwargs(const py::Dict& kwargs);

/// What validation derives from the extension keywords.
struct ExtensionSettings {
  std::int64_t keep_best = 1;
  std::optional<std::int64_t> keep_period;
  bool best_save_optimizer = false;
  std::optional<double> interval_seconds;
  friend bool operator==(const ExtensionSettings&, const ExtensionSettings&) = default;
};

/// X1–X4: `keep_best` an int >= 1; `keep_period` None or an int >= 1;
/// `best_save_optimizer` a bool; `interval_seconds` None or a finite number
/// > 0. A wrong type is a TypeError, a wrong value a ValueError, naming the
/// keyword and its value.
py::Result<ExtensionSettings> validate_extensions(const Extensions& extensions);

/// X2: a periodic checkpoint at `step` that retention never deletes.
bool archival(const ExtensionSettings& settings, const py::Value& step);

/// X4: whether `interval_seconds` passed between the last periodic save and
/// `now` (false when either time is unknown).
bool time_due(const ExtensionSettings& settings, std::optional<double> last_save, std::optional<double> now);

/// X1: one kept best checkpoint of a key.
struct BestEntry {
  py::Value score;
  std::string path;
  friend bool operator==(const BestEntry&, const BestEntry&) = default;
};

/// X1: a key's kept best checkpoints after a score arrived.
struct BestUpdate {
  std::vector<BestEntry> kept;      // best first; at most keep_best
  std::vector<std::string> evicted; // paths to remove before the save, in order
  std::optional<std::size_t> rank;  // where the score entered (0: the new best); none: it did not
  friend bool operator==(const BestUpdate&, const BestUpdate&) = default;
};

/// X1: `score` enters when strictly better (E35's comparison) than the
/// worst kept one, or than the rule's initial best while fewer than
/// `keep_best` are kept; ties and NaN never enter. An entry already at
/// `path` is replaced (its file is rewritten); the worst beyond `keep_best`
/// is evicted.
py::Result<BestUpdate> keep_best(std::vector<BestEntry> kept, const py::Value& score, const std::string& path,
                                 Rule rule, std::int64_t keep_best);

/// X1: the kept list as runtime info stores it (`[[score, path], ...]`)
/// and back; anything else reads as empty.
py::Value kept_to_value(const std::vector<BestEntry>& kept);
std::vector<BestEntry> kept_from_value(const py::Value& value);

std::ostream& operator<<(std::ostream& os, const Extensions& extensions);
std::ostream& operator<<(std::ostream& os, const CkptConfig& config);
std::ostream& operator<<(std::ostream& os, const ExtensionSettings& settings);
std::ostream& operator<<(std::ostream& os, const BestEntry& entry);
std::ostream& operator<<(std::ostream& os, const BestUpdate& update);

}  // namespace ckpt
