// Store::sweep_temporaries: what a process killed mid-write leaves. The
// durable write names its temporary entries `.ckpt-tmp.<pid>.<n>` (files,
// and links for C56), so a resumed run can tell its predecessors' leftovers
// from anything else: only those, only of processes that are gone, only
// directly in the directories it is given, are removed.
module;
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <string>
#include <variant>
#include <vector>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "ckpt/internal/durable.hpp"
module ckpt.store.fs;

namespace ckpt::store::fs {

namespace {

using namespace detail;

// `.ckpt-tmp.<pid>.<n>` of a process that no longer runs (a live one may be
// writing it now: another run in the same directory, or this one).
bool stray_temporary(const std::string& name) {
  const std::string prefix = internal::temp_prefix;
  if (name.compare(0, prefix.size(), prefix) != 0) return false;
  const auto dot = name.find('.', prefix.size());
  if (dot == std::string::npos || dot == prefix.size() || dot - prefix.size() > 9) return false;
  const std::string digits = name.substr(prefix.size(), dot - prefix.size());
  if (digits.find_first_not_of("0123456789") != std::string::npos) return false;
  const auto pid = static_cast<pid_t>(std::atol(digits.c_str()));
  if (pid <= 0 || pid == ::getpid()) return false;
  return ::kill(pid, 0) != 0 && errno == ESRCH;
}

}  // namespace

std::variant<std::vector<std::string>, Error> Store::sweep_temporaries(const std::vector<std::string>& dirs) const {
  auto roots = canonical_roots(roots_);
  if (auto* e = std::get_if<Error>(&roots)) return *e;
  const auto& canonical = std::get<std::vector<std::string>>(roots);
  std::vector<std::string> removed;
  for (const auto& dir : dirs) {
    if (dir.empty() || has_nul(dir)) continue;
    auto located = locate(py::path::join(dir, "x"), Intent::write, canonical);  // a place to write in
    if (auto* e = std::get_if<Error>(&located)) return *e;
    if (std::holds_alternative<Unreachable>(located)) continue;
    auto opened = open_directory(std::get<Location>(located), /*create=*/false);
    if (auto* err = std::get_if<int>(&opened)) {
      if (*err == ENOENT || *err == ENOTDIR) continue;
      return io_error(*err, dir, "opening the directory");
    }
    const Fd& fd = std::get<Fd>(opened);
    auto names = list_directory(fd.get());
    if (auto* err = std::get_if<int>(&names)) return io_error(*err, dir, "readdir");
    for (const auto& name : std::get<std::vector<std::string>>(names)) {
      if (!stray_temporary(name)) continue;
      struct stat st {};
      if (::fstatat(fd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
          !(S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)))
        continue;
      const std::string path = py::path::join(dir, name);
      if (auto e = unlink_entry(fd.get(), name, path)) return *e;
      removed.push_back(path);
    }
  }
  return removed;
}

}  // namespace ckpt::store::fs
