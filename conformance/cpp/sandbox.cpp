// The sandbox directory: preparing it (protocol 2 `files`) and listing it.
// Effects never go through here: the store applies them.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
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
