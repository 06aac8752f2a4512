// ckpt.py:path — posixpath's string functions, exactly as the reference's
// `os.path` computes them. Pure string manipulation; never touches a disk.
module;
#include <string>
#include <string_view>
#include <utility>
export module ckpt.py:path;

export namespace ckpt::py::path {

/// `os.path.join(a, b)`: an absolute `b` replaces `a`.
inline std::string join(std::string_view a, std::string_view b) {
  if (!b.empty() && b.front() == '/') return std::string(b);
  std::string out(a);
  if (!out.empty() && out.back() != '/') out += '/';
  out += b;
  return out;
}

/// `os.path.basename(p)`.
inline std::string basename(std::string_view p) {
  auto i = p.rfind('/');
  return std::string(i == std::string_view::npos ? p : p.substr(i + 1));
}

/// `os.path.dirname(p)`.
inline std::string dirname(std::string_view p) {
  auto i = p.rfind('/');
  if (i == std::string_view::npos) return {};
  std::string head(p.substr(0, i + 1));
  if (head.find_first_not_of('/') != std::string::npos)
    while (!head.empty() && head.back() == '/') head.pop_back();
  return head;
}

/// `os.path.splitext(p)`: leading dots of the file name are not an extension.
inline std::pair<std::string, std::string> splitext(std::string_view p) {
  auto sep = p.rfind('/');
  auto dot = p.rfind('.');
  auto sep_index = sep == std::string_view::npos ? -1L : static_cast<long>(sep);
  if (dot != std::string_view::npos && static_cast<long>(dot) > sep_index) {
    for (auto i = static_cast<std::size_t>(sep_index + 1); i < dot; ++i)
      if (p[i] != '.') return {std::string(p.substr(0, dot)), std::string(p.substr(dot))};
  }
  return {std::string(p), {}};
}

/// `s.rstrip(chars)`.
inline std::string rstrip(std::string_view s, std::string_view chars) {
  auto end = s.find_last_not_of(chars);
  return std::string(end == std::string_view::npos ? std::string_view{} : s.substr(0, end + 1));
}

}  // namespace ckpt::py::path
