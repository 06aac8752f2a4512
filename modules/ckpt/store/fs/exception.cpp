// Store errors as the Python exceptions a program using the reference would
// meet (the conformance adapter reports them; the Checkpointer throws them).
module;
#include <cctype>
#include <cerrno>
#include <optional>
#include <cstring>
#include <string>
#include <utility>
module ckpt.store.fs;

namespace ckpt::store::fs {

namespace {

py::PyError raised(std::string type, std::string message) { return {std::move(type), std::move(message), ""}; }

const char* os_error_class(int err) {
  switch (err) {
    case ENOENT: return "FileNotFoundError";
    case EACCES:
    case EPERM: return "PermissionError";
    case EEXIST: return "FileExistsError";
    case EISDIR: return "IsADirectoryError";
    case ENOTDIR: return "NotADirectoryError";
    default: return "OSError";
  }
}

// "ValueError: text" -> {"ValueError", "text"}: how the reference's own
// exceptions and a writer's travel in a message.
std::optional<py::PyError> typed(const std::string& message) {
  auto colon = message.find(": ");
  if (colon == std::string::npos || colon < 5 || message.compare(colon - 5, 5, "Error") != 0) return std::nullopt;
  for (std::size_t i = 0; i < colon; ++i)
    if (!std::isalnum(static_cast<unsigned char>(message[i])) && message[i] != '_') return std::nullopt;
  return raised(message.substr(0, colon), message.substr(colon + 2));
}

}  // namespace

py::PyError python_exception(const Error& error) {
  switch (error.kind) {
    case ErrorKind::io:
      return raised(os_error_class(error.err), "[Errno " + std::to_string(error.err) + "] " +
                                                   std::strerror(error.err) + ": '" + error.path + "' (" +
                                                   error.message + ")");
    case ErrorKind::reference:  // the message is "Type: text", as the reference raises it
      if (auto e = typed(error.message)) return *e;
      return raised("OSError", error.message);
    case ErrorKind::containment: return raised("ContainmentError", error.message);
    case ErrorKind::writer:
      if (auto e = typed(error.message)) return *e;
      return raised(error.err ? os_error_class(error.err) : "RuntimeError", error.path + ": " + error.message);
  }
  return raised("RuntimeError", error.message);
}

}  // namespace ckpt::store::fs
