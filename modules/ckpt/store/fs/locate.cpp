// Where a path lands. Containment is decided on the physical path: every
// existing parent is resolved through its symlinks (a symlinked directory
// pointing outside is outside), `..` is taken after resolution (as the
// kernel does), and only components that do not exist yet are taken
// lexically, since the store creates those as real directories.
module;
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <variant>
#include <vector>
#include <sys/stat.h>
module ckpt.store.fs;

namespace ckpt::store::fs::detail {

namespace {

std::vector<std::string> components(const std::string& path) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i <= path.size()) {
    auto j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) out.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

std::string join(const std::string& dir, const std::string& name) { return dir == "/" ? "/" + name : dir + "/" + name; }

std::string parent(const std::string& dir) {
  auto i = dir.rfind('/');
  return i == 0 || i == std::string::npos ? "/" : dir.substr(0, i);
}

std::string absolute(const std::string& path) {
  std::error_code ec;
  auto abs = std::filesystem::absolute(path, ec);
  return ec ? path : abs.string();
}

// The physical directory `dirs` names, starting at "/"; components at and
// after the first missing one are lexical.
std::variant<std::string, Unreachable, Error> resolve(const std::vector<std::string>& dirs, const std::string& shown) {
  std::string real = "/";
  for (const auto& c : dirs) {
    if (c == ".") continue;
    if (c == "..") {
      real = parent(real);  // `real` is physical here, so this is the kernel's `..`
      continue;
    }
    std::string candidate = join(real, c);
    struct stat st {};
    if (::lstat(candidate.c_str(), &st) != 0) {
      if (errno == ENOENT) {
        real = candidate;
        continue;
      }
      if (errno == ENOTDIR || errno == ELOOP || errno == ENAMETOOLONG) return Unreachable{errno};
      return io_error(errno, shown, "lstat '" + candidate + "'");
    }
    if (S_ISLNK(st.st_mode)) {
      char* target = ::realpath(candidate.c_str(), nullptr);
      if (!target) return Unreachable{errno};  // dangling or a loop: nothing can be made through it
      real = target;
      std::free(target);
      if (::stat(real.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return Unreachable{ENOTDIR};
    } else if (S_ISDIR(st.st_mode)) {
      real = candidate;
    } else {
      return Unreachable{ENOTDIR};
    }
  }
  return real;
}

// The longest root that `dir` is, or lies under.
const std::string* containing_root(const std::string& dir, const std::vector<std::string>& roots) {
  const std::string* best = nullptr;
  for (const auto& r : roots) {
    bool inside = dir == r || (dir.size() > r.size() && dir.compare(0, r.size(), r) == 0 &&
                               (r == "/" || dir[r.size()] == '/'));
    if (inside && (!best || r.size() > best->size())) best = &r;
  }
  return best;
}

Error outside(const std::string& shown, const std::string& real, const std::vector<std::string>& roots) {
  std::string where;
  for (const auto& r : roots) where += (where.empty() ? "'" : " and '") + r + "'";
  return {ErrorKind::containment, shown, "'" + shown + "' resolves to '" + real + "', outside " + where};
}

}  // namespace

std::string Location::directory() const {
  std::string out = root;
  for (const auto& d : dirs) out = join(out, d);
  return out;
}

std::variant<Location, Unreachable, Error> locate(const std::string& path, Intent intent,
                                                  const std::vector<std::string>& roots) {
  std::string abs = absolute(path);
  if (abs.empty()) return Unreachable{ENOENT};
  auto parts = components(abs);
  // `d/`, `d/.` and `d/..` name a directory, not an entry of one: no write
  // can land there; a removal takes the directory they resolve to.
  bool names_directory = abs.back() == '/' || parts.empty() || parts.back() == "." || parts.back() == "..";
  if (names_directory && intent == Intent::write) return Unreachable{EISDIR};
  std::string name;
  if (!names_directory) {
    name = parts.back();
    parts.pop_back();
  }
  auto resolved = resolve(parts, path);
  if (!std::holds_alternative<std::string>(resolved)) {
    if (auto* u = std::get_if<Unreachable>(&resolved)) return *u;
    return std::get<Error>(resolved);
  }
  std::string dir = std::get<std::string>(std::move(resolved));
  if (names_directory) {  // the resolved directory itself is removed: split it
    if (dir == "/") return outside(path, dir, roots);
    name = dir.substr(dir.rfind('/') + 1);
    dir = parent(dir);
  }
  const std::string* root = containing_root(dir, roots);
  if (!root) return outside(path, join(dir, name), roots);
  if (intent == Intent::remove && std::find(roots.begin(), roots.end(), join(dir, name)) != roots.end())
    return Error{ErrorKind::containment, path, "'" + path + "' is a root of the store; refusing to remove it"};
  Location at{*root, components(dir.substr(root->size())), name};
  return at;
}

std::variant<std::vector<std::string>, Error> canonical_roots(const std::vector<std::string>& roots) {
  std::vector<std::string> out;
  for (const auto& r : roots) {
    std::error_code ec;
    auto c = std::filesystem::weakly_canonical(r, ec);
    if (ec) return io_error(ec.value(), r, "resolving the root");
    std::string s = c.string();
    while (s.size() > 1 && s.back() == '/') s.pop_back();
    out.push_back(s);
  }
  return out;
}

std::string lexical_key(const std::string& path) {
  std::string s = std::filesystem::path(absolute(path)).lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace ckpt::store::fs::detail
