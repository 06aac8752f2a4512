#include "converge.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <system_error>

namespace ckpt::checkpointer::converge {

namespace {

bool same_path(const std::string& a, const std::string& b) {
  return std::filesystem::path(a).lexically_normal() == std::filesystem::path(b).lexically_normal();
}

std::vector<std::string> regular_files(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(dir, ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec))
    if (it->is_regular_file(ec) && !it->is_symlink(ec)) out.push_back(it->path().filename().string());
  return out;
}

// Every run of digits in `name`, as the steps it might have been formatted from.
template <class Visit>
void digit_runs(const std::string& name, Visit visit) {
  for (std::size_t i = 0; i < name.size();) {
    if (!std::isdigit(static_cast<unsigned char>(name[i]))) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < name.size() && std::isdigit(static_cast<unsigned char>(name[j]))) ++j;
    if (j - i <= 18 && visit(std::stoll(name.substr(i, j - i)))) return;
    i = j;
  }
}

std::optional<std::string> formatted(const py::Value& tmpl, std::int64_t step) {
  auto name = checkpoint_name(tmpl, py::Value(static_cast<long long>(step)));
  if (!name) return std::nullopt;
  return *name;
}

std::optional<std::vector<std::int64_t>> int_list(const py::Value* v) {
  if (!v || !v->is<py::List>()) return std::nullopt;
  std::vector<std::int64_t> out;
  for (const auto& x : v->as<py::List>()) {
    if (!x.is<std::int64_t>()) return std::nullopt;
    out.push_back(x.as<std::int64_t>());
  }
  return out;
}

// The best path runtime info names for `key` (E15, E30).
std::optional<std::string> named_best(const py::Dict& info, const std::string& key, bool several) {
  const py::Value* v = py::find(info, several ? "best_ckpt_" + key : std::string("best_ckpt"));
  if (!v || !v->is<std::string>()) return std::nullopt;
  return v->as<std::string>();
}

// Every best file the runtime info keeps for `key`: E35's one, and the
// `ckpt` profile's kept list (X1: `best_kept[_<key>]`, [score, path] pairs).
std::vector<std::string> kept_best(const py::Dict& info, const std::string& key, bool several) {
  std::vector<std::string> out;
  if (auto one = named_best(info, key, several)) out.push_back(*one);
  const py::Value* kept = py::find(info, several ? "best_kept_" + key : std::string("best_kept"));
  if (kept && kept->is<py::List>())
    for (const auto& entry : kept->as<py::List>())
      if (entry.is<py::List>() && entry.as<py::List>().size() == 2 && entry.as<py::List>()[1].is<std::string>())
        out.push_back(entry.as<py::List>()[1].as<std::string>());
  return out;
}

bool kept(const py::Dict& info, const std::string& key, bool several, const std::string& path) {
  const auto named = kept_best(info, key, several);
  return std::any_of(named.begin(), named.end(), [&](const std::string& n) { return same_path(n, path); });
}

}  // namespace

std::optional<std::int64_t> step_of(const py::Value& tmpl, const std::string& name) {
  std::optional<std::int64_t> out;
  digit_runs(name, [&](std::int64_t k) {
    if (formatted(tmpl, k) == name) out = k;
    return out.has_value();
  });
  return out;
}

std::vector<std::pair<std::int64_t, std::string>> periodic_files(const std::string& dir, const py::Value& tmpl) {
  std::multimap<std::int64_t, std::string, std::greater<>> found;
  for (const auto& name : regular_files(dir))
    if (auto step = step_of(tmpl, name)) found.emplace(*step, py::path::join(dir, name));
  return {found.begin(), found.end()};
}

Plan pending_eviction(const std::string& out_dir, const py::Value& tmpl, std::int64_t max_keep_ckpts,
                      const py::Dict& runtime_info, const KeepIdsOf& keep_ids_of) {
  const auto keep = int_list(py::find(runtime_info, "keep_ckpt_ids"));
  const auto m = static_cast<std::size_t>(max_keep_ckpts);
  if (max_keep_ckpts <= 0 || !keep || keep->size() != m) return {};  // nothing was evicted yet (or E16 trims)
  std::vector<std::string> kept;
  for (auto id : *keep)
    if (auto name = formatted(tmpl, id)) kept.push_back(py::path::join(out_dir, *name));
  std::optional<std::int64_t> evicted;
  if (m >= 2) {
    // The list the file before the newest recorded: [evicted, keep[0], ..., keep[m-2]].
    const auto before = kept.size() == m ? keep_ids_of(kept[m - 2]) : std::nullopt;
    if (before && before->size() == m && std::equal(before->begin() + 1, before->end(), keep->begin()))
      evicted = before->front();
  } else {
    // One kept: the evicted file recorded itself alone, and is the newest older one.
    for (const auto& [step, path] : periodic_files(out_dir, tmpl))
      if (step < keep->front()) {
        if (keep_ids_of(path) == std::vector<std::int64_t>{step}) evicted = step;
        break;
      }
  }
  if (!evicted || std::find(keep->begin(), keep->end(), *evicted) != keep->end()) return {};
  auto name = formatted(tmpl, *evicted);
  if (!name) return {};
  const std::string path = py::path::join(out_dir, *name);
  for (const auto& k : kept)
    if (same_path(k, path)) return {};  // B61: one name for every step
  std::error_code ec;
  if (!std::filesystem::is_regular_file(std::filesystem::symlink_status(path, ec))) return {};
  return {RemoveCheckpoint{path, false}};
}

Plan pending_legacy_retention(const std::string& out_dir, const py::Value& tmpl, std::int64_t step,
                              const py::Value& max_keep_ckpts, const py::Value& interval) {
  auto series = legacy_retention(out_dir, tmpl, step, max_keep_ckpts, interval);
  if (!series || !*series) return {};
  return {**series};
}

std::vector<std::string> best_keys(const std::vector<std::string>& save_best, const py::Value& tmpl,
                                   const py::Dict& runtime_info) {
  std::vector<std::string> out;
  for (const auto& key : save_best) {
    if (key != "auto") {
      out.push_back(key);
      continue;
    }
    // E34: auto became the first metric's key; the named best file says which.
    auto named = named_best(runtime_info, key, false);
    if (!named) continue;
    const std::string name = py::path::basename(*named);
    digit_runs(name, [&](std::int64_t k) {
      auto f = formatted(tmpl, k);
      if (!f) return false;
      const std::string tail = best_name("", *f).substr(std::string("best_").size());  // "_" + filename, '/' -> '_'
      if (name.size() > 5 + tail.size() && name.compare(0, 5, "best_") == 0 &&
          name.compare(name.size() - tail.size(), tail.size(), tail) == 0) {
        out.push_back(name.substr(5, name.size() - 5 - tail.size()));
        return true;
      }
      return false;
    });
  }
  return out;
}

Plan orphaned_best(const std::string& out_dir, const py::Value& tmpl, const std::vector<std::string>& keys,
                   const py::Dict& runtime_info) {
  Plan out;
  const bool several = keys.size() > 1;
  for (const auto& name : regular_files(out_dir)) {
    for (const auto& key : keys) {
      bool is_best = false;
      digit_runs(name, [&](std::int64_t k) {
        auto f = formatted(tmpl, k);
        is_best = f && best_name(key, *f) == name;
        return is_best;
      });
      if (!is_best) continue;
      const std::string path = py::path::join(out_dir, name);
      if (!kept(runtime_info, key, several, path)) out.push_back(RemoveCheckpoint{path, false});
      break;
    }
  }
  return out;
}

bool validation_recorded(const std::string& out_dir, const py::Value& tmpl, const std::vector<std::string>& keys,
                         const py::Dict& runtime_info, std::int64_t step) {
  auto f = formatted(tmpl, step);
  if (!f) return false;
  for (const auto& key : keys)
    if (kept(runtime_info, key, keys.size() > 1, py::path::join(out_dir, best_name(key, *f)))) return true;
  return false;
}

}  // namespace ckpt::checkpointer::converge
