// The C++ conformance adapter (protocol 1.1): reads cases, drives ckpt.hook
// or ckpt.legacy, applies each plan to a real sandbox directory through the
// project's one plan interpreter (ckpt.store.fs, reference ordering, the
// sandbox as both roots), and prints observations. Shell code: all policy
// lives in the modules, all disk effects in the store.
#pragma once
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>
import ckpt;

namespace adapter {

/// A case that does not follow the protocol (exit status 2, not an observation).
struct Malformed {
  std::string reason;
};

struct EventSpec {
  std::string hook;
  std::optional<std::int64_t> epoch, iter, batch_idx;
  std::optional<double> time;  // wall-clock seconds (the ckpt profile's interval_seconds, X4)
  ckpt::py::Dict metrics;
};

struct Case {
  std::string id;
  std::string profile;  // "mmengine", "mmcv" or "ckpt" (mmengine plus the extensions X1–X5)
  ckpt::py::Dict hook;
  std::string work_dir;
  std::string runner_kind = "epoch";
  std::int64_t max_epochs = 0, max_iters = 0;
  bool has_max_epochs = false, has_max_iters = false;
  ckpt::py::Value runner_meta;
  ckpt::py::Dict runtime_info;
  std::vector<std::string> files;
  std::vector<EventSpec> events;
  /// mmcv profile: the mmcv release imitated (the `mmcv_version` written
  /// into meta), from the case's optional `mmcv_version` or --mmcv-version.
  std::optional<std::string> mmcv_version;
};

/// Reads a parsed JSON case; throws Malformed.
Case parse_case(const ckpt::py::Value& json);

/// An exception the implementation under test raised, as the protocol reports it.
struct Raised {
  std::string type;
  std::string message;
};

/// The sandbox: a real directory the case runs in, and what is in it.
class Sandbox {
 public:
  explicit Sandbox(std::filesystem::path root);
  const std::string& root() const { return root_; }
  /// `os.path.join(root, rel)`.
  std::string join(const std::string& rel) const;
  /// Drops the sandbox prefix from a path-like string.
  std::string relative(const std::string& s) const;
  ckpt::py::Value relative(const ckpt::py::Value& v) const;

  void create_entry(const std::string& rel);  // protocol 2 `files`; throws Raised
  void make_dirs(const std::string& abs);     // throws Raised

  std::vector<std::string> list_files() const;
  std::map<std::string, std::string> list_links() const;

 private:
  std::string root_;
};

/// Runs one case in `sandbox_root` and returns the observation.
ckpt::py::Value run_case(const Case& c, const std::filesystem::path& sandbox_root);

/// Protocol section 4: the first difference between two observations
/// ("path: a != b"), or nullopt when they agree.
std::optional<std::string> first_difference(const ckpt::py::Value& base, const ckpt::py::Value& obs);

/// A child process spoken to one line at a time (an adapter's `serve`).
class ServeProcess {
 public:
  explicit ServeProcess(const std::vector<std::string>& argv);
  ~ServeProcess();
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;
  /// Sends one line, returns the reply line (nullopt when the child is gone).
  std::optional<std::string> ask(const std::string& line);

 private:
  int pid_ = -1;
  std::FILE* in_ = nullptr;
  std::FILE* out_ = nullptr;
};

}  // namespace adapter
