#include "durable.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "checkpoint.hpp"

namespace ckpt::torch_store {
namespace {

// A fresh name in `dir` that nobody else uses (O_EXCL decides).
int create_temporary(const std::string& dir, std::string& name) {
  static std::atomic<unsigned> counter{0};
  for (int attempt = 0; attempt < 100; ++attempt) {
    name = dir + "/.ckpt-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".tmp";
    const int fd = ::open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0 || errno != EEXIST) return fd;
  }
  return -1;
}

void sync_directory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // durability of the rename is best effort where the folder cannot be opened
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

std::string parent_folder(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string write_durably(const std::string& dir, const std::function<std::string(Sink&)>& write) {
  std::string temporary;
  const int fd = create_temporary(dir, temporary);
  if (fd < 0) throw Error(dir + ": cannot create a temporary file: " + std::strerror(errno));
  std::string final_path;
  bool closed = false;
  try {
    FdSink file(fd);
    final_path = write(file);
    file.flush();
    if (::fsync(fd) != 0) throw Error(std::string("fsync failed: ") + std::strerror(errno));
    closed = true;  // even a failing close(2) releases the descriptor
    if (::close(fd) != 0) throw Error(std::string("close failed: ") + std::strerror(errno));
    if (::rename(temporary.c_str(), final_path.c_str()) != 0)
      throw Error("cannot rename to " + final_path + ": " + std::strerror(errno));
  } catch (const std::exception& e) {
    if (!closed) ::close(fd);
    ::unlink(temporary.c_str());
    throw Error(temporary + ": " + e.what());
  }
  sync_directory(dir);
  return final_path;
}

}  // namespace ckpt::torch_store
