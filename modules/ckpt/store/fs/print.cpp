// Printers for ckpt.store.fs (gtest shows results and errors with them).
module;
#include <cstddef>
#include <ostream>
#include <string>
#include <vector>
module ckpt.store.fs;

namespace ckpt::store::fs {

namespace {
std::string q(const std::string& s) { return py::str_repr(s); }

void list(std::ostream& os, const char* name, const std::vector<std::string>& xs) {
  os << name << "=[";
  for (std::size_t i = 0; i < xs.size(); ++i) os << (i ? ", " : "") << q(xs[i]);
  os << "]";
}
}  // namespace

std::ostream& operator<<(std::ostream& os, Ordering ordering) {
  return os << (ordering == Ordering::safe ? "safe" : "reference");
}

std::ostream& operator<<(std::ostream& os, ErrorKind kind) {
  switch (kind) {
    case ErrorKind::containment: return os << "containment";
    case ErrorKind::io: return os << "io";
    case ErrorKind::writer: return os << "writer";
    case ErrorKind::reference: return os << "reference";
  }
  return os << "?";
}

std::ostream& operator<<(std::ostream& os, const Error& error) {
  return os << error.kind << " error at " << q(error.path) << ": " << error.message;
}

std::ostream& operator<<(std::ostream& os, const Applied& applied) {
  os << "Applied(";
  list(os, "written", applied.written);
  os << ", ";
  list(os, "removed", applied.removed);
  os << ", texts=[";
  for (std::size_t i = 0; i < applied.texts.size(); ++i) os << (i ? ", " : "") << Effect(applied.texts[i]);
  os << "]";
  if (applied.evicted_first) os << ", evicted_first";
  if (applied.error) os << ", error=" << *applied.error;
  return os << ")";
}

}  // namespace ckpt::store::fs
