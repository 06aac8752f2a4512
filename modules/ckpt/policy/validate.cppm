// ckpt.policy:validate — what mmengine's constructor checks and derives
// (E2–E10), in the reference's order, so the first error is the same one.
module;
#include <optional>
#include <ostream>
#include <string>
#include <vector>
export module ckpt.policy:validate;
import ckpt.py;
import :config;
import :rules;

export namespace ckpt {

/// What construction derives from a `HookConfig`.
struct Settings {
  py::Value filename_tmpl;                                  // E2
  std::optional<std::vector<std::string>> save_best;        // E4 (a str becomes a list)
  KeyRules key_rules;                                        // E9, E10 (when save_best is set)
  std::vector<std::string> greater_keys;                     // E7
  std::vector<std::string> less_keys;                        // E7
  std::optional<std::vector<std::string>> published_keys;    // E8
  bool file_client_args_deprecated = false;                  // E3's warning
  friend bool operator==(const Settings&, const Settings&) = default;
};

/// E3–E10: the constructor's checks; the error names the reference's
/// exception type and the clause.
py::Result<Settings> validate(const HookConfig& config);

std::ostream& operator<<(std::ostream& os, const Settings& settings);

}  // namespace ckpt
