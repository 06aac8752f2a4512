// Reading a case: protocol section 2. Anything off-protocol is Malformed.
#include <cstdint>
#include <limits>
#include <string>
#include "adapter.hpp"

namespace adapter {

namespace py = ckpt::py;

namespace {

const py::Value* field(const py::Dict& d, const char* key) { return py::find(d, key); }

std::string need_string(const py::Dict& d, const char* key, const std::string& where) {
  const auto* v = field(d, key);
  if (!v || !v->is<std::string>()) throw Malformed{where + "." + key + " must be a string"};
  return v->as<std::string>();
}

// Present means an integer (or null where `null_ok`); absent is nullopt.
std::optional<std::int64_t> opt_int(const py::Dict& d, const char* key, const std::string& where,
                                    bool null_ok = false) {
  const auto* v = field(d, key);
  if (!v || (null_ok && v->is_none())) return std::nullopt;
  if (!v->is<std::int64_t>()) throw Malformed{where + "." + key + " must be an integer, got " + py::repr(*v)};
  return v->as<std::int64_t>();
}

// A sandbox-relative path: not absolute, no NUL, no `..` component.
void check_relative(const std::string& what, const std::string& path, bool empty_ok) {
  if (path.empty() && !empty_ok) throw Malformed{what + " must be a non-empty string"};
  if ((!path.empty() && path.front() == '/') || path.find('\0') != std::string::npos)
    throw Malformed{what + " must be relative to the sandbox: " + py::str_repr(path)};
  std::size_t start = 0;
  for (;;) {
    auto end = path.find('/', start);
    if (path.substr(start, end == std::string::npos ? std::string::npos : end - start) == "..")
      throw Malformed{what + " must stay inside the sandbox: " + py::str_repr(path)};
    if (end == std::string::npos) break;
    start = end + 1;
  }
}

const std::set<std::string> mmengine_hooks{"before_train", "after_train_iter", "after_train_epoch", "after_val_epoch",
                                           "after_train"};
const std::set<std::string> mmcv_hooks{"before_run", "after_train_iter", "after_train_epoch", "after_run"};
const std::set<std::string> ckpt_hooks{"before_train", "after_train_iter", "after_train_epoch", "after_val_epoch",
                                       "after_train", "preempt"};

// Protocol 2: non-finite floats travel as the strings NaN/Infinity/-Infinity.
std::optional<py::Value> non_finite(const py::Value& v) {
  if (!v.is<std::string>()) return std::nullopt;
  const auto& s = v.as<std::string>();
  if (s == "NaN") return py::Value(std::numeric_limits<double>::quiet_NaN());
  if (s == "Infinity") return py::Value(std::numeric_limits<double>::infinity());
  if (s == "-Infinity") return py::Value(-std::numeric_limits<double>::infinity());
  return std::nullopt;
}

py::Value decode_metric(const std::string& key, const py::Value& v) {
  if (v.is_none() || v.is<std::int64_t>() || v.is<double>()) return v;
  if (auto f = non_finite(v)) return *f;
  throw Malformed{"metric " + py::str_repr(key) + " must be a number, null, \"NaN\", \"Infinity\" or \"-Infinity\", got " +
                  py::repr(v)};
}

}  // namespace

Case parse_case(const py::Value& json) {
  if (!json.is<py::Dict>()) throw Malformed{"a case must be a JSON object"};
  const auto& d = json.as<py::Dict>();
  Case c;
  const auto* id = field(d, "id");
  if (id && !id->is_none() && !id->is<std::string>()) throw Malformed{"id must be a string"};
  c.id = id && id->is<std::string>() ? id->as<std::string>() : "";
  const auto* profile = field(d, "profile");
  c.profile = profile ? (profile->is<std::string>() ? profile->as<std::string>() : "?") : "mmengine";
  if (c.profile != "mmengine" && c.profile != "mmcv" && c.profile != "ckpt")
    throw Malformed{"profile must be \"mmengine\", \"mmcv\" or \"ckpt\""};
  if (const auto* hook = field(d, "hook"); hook && !hook->is_none()) {
    if (!hook->is<py::Dict>()) throw Malformed{"hook must be an object"};
    c.hook = hook->as<py::Dict>();
    if (const auto* out_dir = field(c.hook, "out_dir"); out_dir && out_dir->is<std::string>())
      check_relative("hook.out_dir", out_dir->as<std::string>(), true);
  }
  const auto* runner = field(d, "runner");
  if (!runner || !runner->is<py::Dict>()) throw Malformed{"runner must be an object"};
  const auto& r = runner->as<py::Dict>();
  c.work_dir = need_string(r, "work_dir", "runner");
  check_relative("runner.work_dir", c.work_dir, false);
  if (const auto* kind = field(r, "kind"); kind && !kind->is_none()) {
    if (!kind->is<std::string>() || (kind->as<std::string>() != "epoch" && kind->as<std::string>() != "iter"))
      throw Malformed{"runner.kind must be \"epoch\" or \"iter\""};
    c.runner_kind = kind->as<std::string>();
  }
  if (auto m = opt_int(r, "max_epochs", "runner", true)) { c.max_epochs = *m; c.has_max_epochs = true; }
  if (auto m = opt_int(r, "max_iters", "runner", true)) { c.max_iters = *m; c.has_max_iters = true; }
  if (const auto* meta = field(r, "meta")) c.runner_meta = *meta;
  if (const auto* info = field(d, "runtime_info"); info && !info->is_none()) {
    if (!info->is<py::Dict>()) throw Malformed{"runtime_info must be an object"};
    c.runtime_info = info->as<py::Dict>();
    for (auto& [key, value] : c.runtime_info)
      if (key == "best_score" || key.rfind("best_score_", 0) == 0)
        if (auto f = non_finite(value)) value = *f;  // an observation's spelling, read back
  }
  if (const auto* files = field(d, "files"); files && !files->is_none()) {
    if (!files->is<py::List>()) throw Malformed{"files must be a list"};
    for (const auto& f : files->as<py::List>()) {
      if (!f.is<std::string>()) throw Malformed{"files entries must be strings"};
      check_relative("files entry", f.as<std::string>(), false);
      c.files.push_back(f.as<std::string>());
    }
  }
  if (const auto* version = field(d, "mmcv_version"); version && !version->is_none()) {
    if (!version->is<std::string>() || version->as<std::string>().empty())
      throw Malformed{"mmcv_version must be a non-empty string, got " + py::repr(*version)};
    c.mmcv_version = version->as<std::string>();
  }
  const auto* events = field(d, "events");
  if (!events || !events->is<py::List>()) throw Malformed{"events must be a list"};
  const auto& allowed = c.profile == "mmcv" ? mmcv_hooks : c.profile == "ckpt" ? ckpt_hooks : mmengine_hooks;
  std::size_t n = 0;
  for (const auto& e : events->as<py::List>()) {
    std::string where = "events[" + std::to_string(n++) + "]";
    if (!e.is<py::Dict>()) throw Malformed{where + " must be an object"};
    const auto& ed = e.as<py::Dict>();
    EventSpec spec;
    spec.hook = need_string(ed, "hook", where);
    if (!allowed.count(spec.hook)) throw Malformed{where + ".hook '" + spec.hook + "' is not a " + c.profile + " call"};
    spec.epoch = opt_int(ed, "epoch", where);
    spec.iter = opt_int(ed, "iter", where);
    spec.batch_idx = opt_int(ed, "batch_idx", where);
    if (const auto* time = field(ed, "time"); time && !time->is_none()) {
      if (!time->is<std::int64_t>() && !time->is<double>())
        throw Malformed{where + ".time must be a number, got " + py::repr(*time)};
      spec.time = time->is<double>() ? time->as<double>() : static_cast<double>(time->as<std::int64_t>());
    }
    if (spec.hook == "after_val_epoch") {
      const auto* metrics = field(ed, "metrics");
      if (!metrics || !metrics->is<py::Dict>()) throw Malformed{where + ".metrics must be an object"};
      for (const auto& [k, v] : metrics->as<py::Dict>()) spec.metrics.emplace_back(k, decode_metric(k, v));
    }
    c.events.push_back(std::move(spec));
  }
  return c;
}

}  // namespace adapter
