// ckpt.policy:config — the hooks' keyword arguments, with the reference's
// names and defaults (E1, C46). Values are `py::Value`s because the reference
// accepts any Python object and fails only where an operation meets it.
module;
#include <ostream>
#include <string>
export module ckpt.policy:config;
import ckpt.py;

export namespace ckpt {

using py::Value;

/// mmengine `CheckpointHook(...)` arguments (E1). Unknown keywords go to
/// `extra` and are forwarded to every periodic save (E1, E43).
struct HookConfig {
  Value interval = -1;
  Value by_epoch = true;
  Value save_optimizer = true;
  Value save_param_scheduler = true;
  Value out_dir = py::none;
  Value max_keep_ckpts = -1;
  Value save_last = true;
  Value save_best = py::none;
  Value rule = py::none;
  Value greater_keys = py::none;
  Value less_keys = py::none;
  Value file_client_args = py::none;
  Value filename_tmpl = py::none;
  Value backend_args = py::none;
  Value published_keys = py::none;
  Value save_begin = 0;
  py::Dict extra;
  friend bool operator==(const HookConfig&, const HookConfig&) = default;
};

/// mmcv 1.x `CheckpointHook(...)` arguments (C46). `extra` carries
/// `filename_tmpl`, `create_symlink`, `meta` and anything else to the
/// runner's `save_checkpoint`.
struct LegacyConfig {
  Value interval = -1;
  Value by_epoch = true;
  Value save_optimizer = true;
  Value out_dir = py::none;
  Value max_keep_ckpts = -1;
  Value save_last = true;
  Value sync_buffer = false;
  Value file_client_args = py::none;
  py::Dict extra;
  friend bool operator==(const LegacyConfig&, const LegacyConfig&) = default;
};

/// Builds a config from keyword arguments as Python binds them.
HookConfig hook_config_from_kwargs(const py::Dict& kwargs);
LegacyConfig legacy_config_from_kwargs(const py::Dict& kwargs);

/// The keyword arguments a config stands for (the inverse of the above).
py::Dict to_kwargs(const HookConfig& config);
py::Dict to_kwargs(const LegacyConfig& config);

std::ostream& operator<<(std::ostream& os, const HookConfig& config);
std::ostream& operator<<(std::ostream& os, const LegacyConfig& config);

}  // namespace ckpt
