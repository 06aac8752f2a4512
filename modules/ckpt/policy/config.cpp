// Bodies of ckpt.policy:config. The field tables are the single place that
// maps keyword names to fields.
module;
#include <ostream>
#include <string_view>
#include <utility>
module ckpt.policy;
import ckpt.py;

namespace ckpt {

namespace {

template <class Config>
struct Field {
  std::string_view name;
  Value Config::*member;
};

constexpr Field<HookConfig> hook_fields[] = {
    {"interval", &HookConfig::interval},
    {"by_epoch", &HookConfig::by_epoch},
    {"save_optimizer", &HookConfig::save_optimizer},
    {"save_param_scheduler", &HookConfig::save_param_scheduler},
    {"out_dir", &HookConfig::out_dir},
    {"max_keep_ckpts", &HookConfig::max_keep_ckpts},
    {"save_last", &HookConfig::save_last},
    {"save_best", &HookConfig::save_best},
    {"rule", &HookConfig::rule},
    {"greater_keys", &HookConfig::greater_keys},
    {"less_keys", &HookConfig::less_keys},
    {"file_client_args", &HookConfig::file_client_args},
    {"filename_tmpl", &HookConfig::filename_tmpl},
    {"backend_args", &HookConfig::backend_args},
    {"published_keys", &HookConfig::published_keys},
    {"save_begin", &HookConfig::save_begin},
};

constexpr Field<LegacyConfig> legacy_fields[] = {
    {"interval", &LegacyConfig::interval},
    {"by_epoch", &LegacyConfig::by_epoch},
    {"save_optimizer", &LegacyConfig::save_optimizer},
    {"out_dir", &LegacyConfig::out_dir},
    {"max_keep_ckpts", &LegacyConfig::max_keep_ckpts},
    {"save_last", &LegacyConfig::save_last},
    {"sync_buffer", &LegacyConfig::sync_buffer},
    {"file_client_args", &LegacyConfig::file_client_args},
};

template <class Config, std::size_t N>
Config from_kwargs(const py::Dict& kwargs, const Field<Config> (&fields)[N]) {
  Config config;
  for (const auto& [key, value] : kwargs) {
    bool named = false;
    for (const auto& field : fields)
      if (field.name == key) {
        config.*field.member = value;
        named = true;
      }
    if (!named) py::set(config.extra, key, value);
  }
  return config;
}

template <class Config, std::size_t N>
py::Dict kwargs_of(const Config& config, const Field<Config> (&fields)[N]) {
  py::Dict out;
  for (const auto& field : fields) out.emplace_back(std::string(field.name), config.*field.member);
  for (const auto& item : config.extra) out.push_back(item);
  return out;
}

}  // namespace

HookConfig hook_config_from_kwargs(const py::Dict& kwargs) { return from_kwargs(kwargs, hook_fields); }
LegacyConfig legacy_config_from_kwargs(const py::Dict& kwargs) { return from_kwargs(kwargs, legacy_fields); }
py::Dict to_kwargs(const HookConfig& config) { return kwargs_of(config, hook_fields); }
py::Dict to_kwargs(const LegacyConfig& config) { return kwargs_of(config, legacy_fields); }

std::ostream& operator<<(std::ostream& os, const HookConfig& config) {
  return os << "CheckpointHook(**" << Value(to_kwargs(config)) << ")";
}
std::ostream& operator<<(std::ostream& os, const LegacyConfig& config) {
  return os << "mmcv.CheckpointHook(**" << Value(to_kwargs(config)) << ")";
}

}  // namespace ckpt
