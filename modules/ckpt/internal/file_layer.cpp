#include "ckpt/internal/file_layer.hpp"

#include <fcntl.h>
#include <stdio.h>  // renameat
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>

namespace ckpt::internal {

namespace {

// open(2) and openat(2) are variadic in libc: fixed-arity wrappers.
int libc_open(const char* path, int flags, mode_t mode) { return ::open(path, flags, mode); }
int libc_openat(int dir, const char* path, int flags, mode_t mode) { return ::openat(dir, path, flags, mode); }

const FileLayer libc_layer{libc_open,    libc_openat, ::write,  ::fsync,     ::close,    ::renameat,
                           ::unlinkat,   ::mkdir,     ::mkdirat, ::symlinkat, ::statvfs};

std::atomic<const FileLayer*> current{&libc_layer};

}  // namespace

const FileLayer& libc_file_layer() { return libc_layer; }

const FileLayer& sys() { return *current.load(std::memory_order_acquire); }

void set_file_layer(const FileLayer* layer) { current.store(layer ? layer : &libc_layer, std::memory_order_release); }

}  // namespace ckpt::internal
