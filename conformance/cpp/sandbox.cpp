// The sandbox directory and the effects the adapter applies to it. Errors
// are raised as the Python reference would raise them (FileNotFoundError...).
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>
#include "adapter.hpp"

namespace adapter {

namespace fs = std::filesystem;
namespace py = ckpt::py;

namespace {

Raised os_error(const std::error_code& ec, const std::string& path) {
  std::string type = "OSError";
  if (ec == std::errc::no_such_file_or_directory) type = "FileNotFoundError";
  else if (ec == std::errc::is_a_directory) type = "IsADirectoryError";
  else if (ec == std::errc::not_a_directory) type = "NotADirectoryError";
  else if (ec == std::errc::file_exists) type = "FileExistsError";
  else if (ec == std::errc::permission_denied) type = "PermissionError";
  return {type, "[Errno " + std::to_string(ec.value()) + "] " + ec.message() + ": '" + path + "'"};
}

void write_file(const std::string& path, const std::string& data) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw os_error(std::make_error_code(std::errc::is_a_directory), path);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw os_error(std::error_code(errno, std::generic_category()), path);
  out << data;
  if (!out.flush()) throw os_error(std::error_code(errno, std::generic_category()), path);
}

}  // namespace

Sandbox::Sandbox(fs::path root) : root_(fs::absolute(root).lexically_normal().string()) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

std::string Sandbox::join(const std::string& rel) const { return py::path::join(root_, rel); }

std::string Sandbox::relative(const std::string& s) const {
  if (s == root_) return "";
  if (s.size() > root_.size() && s.compare(0, root_.size(), root_) == 0 && s[root_.size()] == '/')
    return s.substr(root_.size() + 1);
  return s;
}

py::Value Sandbox::relative(const py::Value& v) const {
  if (v.is<std::string>()) return py::Value(relative(v.as<std::string>()));
  if (v.is<py::List>()) {
    py::List out;
    for (const auto& x : v.as<py::List>()) out.push_back(relative(x));
    return py::Value(std::move(out));
  }
  if (v.is<py::Dict>()) {
    py::Dict out;
    for (const auto& [k, x] : v.as<py::Dict>()) out.emplace_back(k, relative(x));
    return py::Value(std::move(out));
  }
  return v;
}

void Sandbox::make_dirs(const std::string& abs) {
  if (abs.empty()) return;
  std::error_code ec;
  fs::create_directories(abs, ec);
  if (ec) throw os_error(ec, abs);
}

void Sandbox::create_entry(const std::string& rel) {
  std::string abs = join(rel);
  if (rel.back() == '/') {
    make_dirs(abs);
  } else {
    make_dirs(py::path::dirname(abs));
    write_file(abs, "");
  }
}

// mmengine: isfile -> remove, isdir -> rmtree, else nothing (E16, E24, E35).
void Sandbox::remove_checkpoint(const ckpt::RemoveCheckpoint& effect) {
  const std::string& path = effect.path;
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) {
    if (!fs::remove(path, ec)) throw os_error(ec, path);
    removed.push_back(relative(path));
  } else if (fs::is_directory(path, ec)) {
    if (!effect.can_remove_tree) throw Raised{"AttributeError", "'FileClient' object has no attribute 'rmtree'"};
    if (fs::is_symlink(fs::symlink_status(path, ec)))
      throw Raised{"OSError", "Cannot call rmtree on a symbolic link"};
    fs::remove_all(path, ec);
    if (ec) throw os_error(ec, path);
    removed.push_back(relative(path));
  }
}

// mmcv (C52): remove while the next is a regular file.
void Sandbox::remove_until_gap(const ckpt::RemoveUntilGap& series) {
  for (std::int64_t step = series.start; series.step < 0 ? step > 0 : step < 0; step += series.step) {
    std::string path = ckpt::series_path(series, step);
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) break;
    if (!fs::remove(path, ec)) throw os_error(ec, path);
    removed.push_back(relative(path));
  }
}

// The C++ adapter's stand-in checkpoint: its top-level keys, as JSON. The
// protocol never compares contents; publishing needs the keys.
void Sandbox::write_checkpoint(const std::string& path, const py::Dict& content) {
  make_dirs(py::path::dirname(path));
  write_file(path, ckpt::json::dump(py::Value(content)));
}

void Sandbox::write_text(const std::string& path, const std::string& content) {
  std::error_code ec;
  if (!fs::is_directory(py::path::dirname(path), ec))
    throw os_error(std::make_error_code(std::errc::no_such_file_or_directory), path);
  write_file(path, content);
  text[relative(path)] = relative(content);
}

// E42: load, keep the published keys, write `<stem>-<sha8>.pth`.
void Sandbox::publish(const ckpt::Publish& p) {
  std::error_code ec;
  if (!fs::is_regular_file(p.source, ec)) throw Raised{"FileNotFoundError", p.source + " can not be found."};
  std::ifstream in(p.source, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  if (buf.str().empty()) throw Raised{"EOFError", "Ran out of input"};
  auto parsed = ckpt::json::parse(buf.str());
  if (!parsed || !parsed->is<py::Dict>()) throw Raised{"UnpicklingError", "not a checkpoint: " + p.source};
  py::Dict kept;
  for (const auto& [k, v] : parsed->as<py::Dict>())
    if (std::find(p.keys.begin(), p.keys.end(), k) != p.keys.end()) kept.emplace_back(k, v);
  std::string data = ckpt::json::dump(py::Value(kept));
  std::string target = ckpt::published_name(p.source, sha256_hex(data));
  make_dirs(py::path::dirname(target));
  write_file(target, data);
}

// mmcv.symlink: replace whatever is at `link`.
void Sandbox::symlink(const std::string& link, const std::string& target) {
  std::error_code ec;
  if (fs::exists(fs::symlink_status(link, ec))) fs::remove(link, ec);
  fs::create_symlink(target, link, ec);
  if (ec) throw os_error(ec, link);
}

std::vector<std::string> Sandbox::list_files() const {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root_, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    const auto status = it->symlink_status();
    if (fs::is_symlink(status)) continue;
    std::string rel = relative(it->path().string());
    if (fs::is_directory(status)) out.push_back(rel + "/");
    else out.push_back(rel);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::map<std::string, std::string> Sandbox::list_links() const {
  std::map<std::string, std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root_, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec))
    if (fs::is_symlink(it->symlink_status())) out[relative(it->path().string())] = relative(fs::read_symlink(it->path()).string());
  return out;
}

}  // namespace adapter
