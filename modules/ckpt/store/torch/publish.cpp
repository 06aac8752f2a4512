#include "publish.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "sink.hpp"

namespace ckpt::torch_store {
namespace {

std::string dirname(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// os.path.splitext: the last dot of the file name, leading dots excluded
// (the same rule as ckpt.policy's published_name).
std::string drop_extension(const std::string& p) {
  const auto sep = p.rfind('/');
  const auto base = sep == std::string::npos ? 0 : sep + 1;
  const auto dot = p.rfind('.');
  if (dot == std::string::npos || dot < base) return p;
  for (auto i = base; i < dot; ++i)
    if (p[i] != '.') return p.substr(0, dot);
  return p;
}

// A fresh name in `dir` that nobody else uses (O_EXCL decides).
int create_temporary(const std::string& dir, std::string& name) {
  static std::atomic<unsigned> counter{0};
  for (int attempt = 0; attempt < 100; ++attempt) {
    name = dir + "/.publish-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".tmp";
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

Value published_subset(const Value& checkpoint, const std::vector<std::string>& published_keys) {
  if (!checkpoint.is<Dict>()) throw Error("a checkpoint to publish must be a dict");
  Dict kept = checkpoint.as<Dict>();
  kept.items.erase(std::remove_if(kept.items.begin(), kept.items.end(),
                                  [&](const auto& item) {
                                    return !item.first.template is<std::string>() ||
                                           std::find(published_keys.begin(), published_keys.end(),
                                                     item.first.template as<std::string>()) == published_keys.end();
                                  }),
                   kept.items.end());
  return kept;
}

Published publish_as(const Value& checkpoint, const std::function<std::string(std::string_view)>& name_for,
                     const SaveOptions& options) {
  const std::string dir = dirname(name_for(std::string(64, '0')));
  std::string temporary;
  const int fd = create_temporary(dir, temporary);
  if (fd < 0) throw Error(dir + ": cannot create a temporary file: " + std::strerror(errno));
  Published out;
  bool closed = false;
  try {
    FdSink file(fd);
    HashingSink hashing(file);
    save(checkpoint, hashing, options);
    out.sha256 = hashing.hex_digest();
    out.path = name_for(out.sha256);
    if (::fsync(fd) != 0) throw Error(std::string("fsync failed: ") + std::strerror(errno));
    closed = true;
    if (::close(fd) != 0) throw Error(std::string("close failed: ") + std::strerror(errno));
    if (::rename(temporary.c_str(), out.path.c_str()) != 0)
      throw Error("cannot rename to " + out.path + ": " + std::strerror(errno));
  } catch (const std::exception& e) {
    if (!closed) ::close(fd);
    ::unlink(temporary.c_str());
    throw Error(temporary + ": " + e.what());
  }
  sync_directory(dir);
  return out;
}

Published publish(const Value& checkpoint, const std::vector<std::string>& published_keys,
                  const std::string& source_path, const SaveOptions& options) {
  const std::string stem = drop_extension(source_path);
  return publish_as(published_subset(checkpoint, published_keys),
                    [&](std::string_view sha) { return stem + "-" + std::string(sha.substr(0, 8)) + ".pth"; }, options);
}

}  // namespace ckpt::torch_store
