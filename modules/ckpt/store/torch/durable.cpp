#include "durable.hpp"

#include <exception>
#include <variant>

#include "checkpoint.hpp"
#include "ckpt/internal/durable.hpp"

namespace ckpt::torch_store {

std::string parent_folder(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string write_durably(const std::string& dir, const std::function<std::string(Sink&)>& write) {
  auto opened = internal::open_directory(dir);
  if (auto* f = std::get_if<internal::IoFailure>(&opened)) throw Error(dir + ": " + f->message());
  const internal::Fd& folder = std::get<internal::Fd>(opened);
  auto created = internal::TempFile::create(folder.get());
  if (auto* f = std::get_if<internal::IoFailure>(&created)) throw Error(dir + ": " + f->message());
  internal::TempFile& temp = std::get<internal::TempFile>(created);
  std::string final_path;
  try {
    internal::FdSink file(temp.fd());
    final_path = write(file);
    file.flush();
  } catch (const std::exception& e) {
    throw Error((final_path.empty() ? dir : final_path) + ": " + e.what());
  }
  if (parent_folder(final_path) != parent_folder(dir + "/x"))
    throw Error(final_path + ": not in the folder written to (" + dir + ")");
  if (auto f = temp.commit(final_path.substr(final_path.rfind('/') + 1))) throw Error(final_path + ": " + f->message());
  return final_path;
}

}  // namespace ckpt::torch_store
