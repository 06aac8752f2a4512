// Bodies of ckpt.policy:naming.
module;
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
module ckpt.policy;
import ckpt.py;

namespace ckpt {

StepMeta periodic_step(bool by_epoch, std::int64_t epoch, std::int64_t iter) {
  if (by_epoch) return {epoch + 1, {{"epoch", epoch + 1}, {"iter", iter}}};
  return {iter + 1, {{"epoch", epoch}, {"iter", iter + 1}}};
}

StepMeta best_step(bool by_epoch, std::int64_t epoch, std::int64_t iter) {
  return {by_epoch ? epoch : iter, {{"epoch", epoch}, {"iter", iter}}};
}

py::Result<std::string> checkpoint_name(const py::Value& filename_tmpl, const py::Value& step) {
  return py::format_value(filename_tmpl, step);
}

std::string best_name(std::string_view key, std::string_view filename) {
  std::string name = "best_" + std::string(key) + "_" + std::string(filename);
  for (auto& c : name)
    if (c == '/') c = '_';
  return name;
}

py::Result<std::string> derive_out_dir(const py::Value& out_dir, std::string_view work_dir, const char* clause) {
  if (!out_dir.is<std::string>()) return py::assertion_error("", clause);
  const auto& dir = out_dir.as<std::string>();
  if (dir == work_dir) return dir;
  return py::path::join(dir, py::path::basename(py::path::rstrip(work_dir, "/")));
}

std::optional<py::PyError> check_file_client(const py::Value& args, const py::Value& out_dir, const char* clause) {
  if (args.is_none()) {
    if (!out_dir.is<std::string>()) return py::assertion_error("", clause);
    return std::nullopt;
  }
  if (!args.is<py::Dict>())
    return py::type_error("argument after ** must be a mapping, not " + std::string(py::type_name(args)), clause);
  for (const auto& [key, value] : args.as<py::Dict>()) {
    if (key == "backend") {
      if (!(value.is_none() || (value.is<std::string>() && value.as<std::string>() == "disk")))
        return py::value_error("Backend " + py::str(value) + " is not supported by ckpt (local disk only).", clause);
    } else if (key != "prefix" || !value.is_none()) {
      return py::type_error("__init__() got an unexpected keyword argument '" + key + "'", clause);
    }
  }
  if (!out_dir.is<std::string>())
    return py::type_error("expected str, bytes or os.PathLike object, not " + std::string(py::type_name(out_dir)),
                          clause);
  return std::nullopt;
}

std::string published_name(std::string_view source, std::string_view sha256_hex) {
  return py::path::splitext(source).first + "-" + std::string(sha256_hex.substr(0, 8)) + ".pth";
}

std::ostream& operator<<(std::ostream& os, const StepMeta& s) {
  return os << "StepMeta(" << s.step << ", " << py::Value(s.meta) << ")";
}

}  // namespace ckpt
