// The system calls that change the disk (and statvfs, which decides whether
// to), behind one table. The durable write, the byte sink, the fs store and
// the resume sweep call these instead of libc, so that a test can make the
// k-th call fail (ENOSPC, EIO, a short write, EINTR...) under the real
// store logic rather than a mock of it. Reads (stat, readdir, pread) call
// libc directly: a failing read changes nothing on disk.
//
// Production uses libc. Swapping is for tests: set the table before the
// calls it should see and put libc's back after (not while a background
// save is running).
#pragma once
#include <sys/statvfs.h>
#include <sys/types.h>

namespace ckpt::internal {

struct FileLayer {
  int (*open)(const char* path, int flags, mode_t mode);
  int (*openat)(int dir, const char* path, int flags, mode_t mode);
  ssize_t (*write)(int fd, const void* data, size_t n);
  int (*fsync)(int fd);
  int (*close)(int fd);
  int (*renameat)(int from_dir, const char* from, int to_dir, const char* to);
  int (*unlinkat)(int dir, const char* path, int flags);
  int (*mkdir)(const char* path, mode_t mode);
  int (*mkdirat)(int dir, const char* path, mode_t mode);
  int (*symlinkat)(const char* target, int dir, const char* path);
  int (*statvfs)(const char* path, struct statvfs* out);
};

/// libc's functions.
const FileLayer& libc_file_layer();

/// The table in use (libc's unless a test swapped it).
const FileLayer& sys();

/// Makes `layer` the table in use (null: libc's again). `layer` must
/// outlive its use.
void set_file_layer(const FileLayer* layer);

}  // namespace ckpt::internal
