// The tensor store's durable write (publishing, the background saver) under
// a failing disk (issue 11, deliverable 2): every call it makes (open of the
// directory and the temporary file, write, fsync, close, rename, the
// directory's fsync) fails in turn with ENOSPC, EIO, EDQUOT and EACCES,
// writes come back short or interrupted. After each: the error names the
// final path (or the directory) and the errno, the file it replaces is
// whole (the old bytes, or the new ones once the rename happened), no
// temporary file is left, and the same write succeeds once the fault is
// gone. A failing directory fsync is an error, never ignored: the new
// name may not survive a crash.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "durable.hpp"
#include "faults.support.hpp"
#include "store.torch.support.hpp"

namespace {

namespace ts = ckpt::torch_store;
using faults::Call;
using faults::Fault;

std::string bytes(char c) { return std::string(70000, c) + "END"; }  // several writes through the sink

// Replaces dir/ckpt.pth with `content` through write_durably.
std::string write(const std::string& dir, const std::string& content) {
  return ts::write_durably(dir, [&](ts::Sink& out) {
    out.write(content.data(), content.size());
    return dir + "/ckpt.pth";
  });
}

TEST(StoreTorchFaults, E28_EveryCallOfTheDurableWriteFailsAndTheOldFileStaysWhole) {
  faults::Injector inject;
  int calls[faults::all_calls.size()] = {};
  {
    store_test::TempDir d;
    write(d.path, bytes('a'));
    inject.arm(std::nullopt);
    write(d.path, bytes('b'));
    for (Call c : faults::all_calls) calls[static_cast<std::size_t>(c)] = inject.count(c);
  }
  ASSERT_GT(calls[static_cast<std::size_t>(Call::dir_fsync)], 0) << "the durable write fsyncs no directory";
  int tried = 0, errors = 0;
  for (Call c : faults::all_calls) {
    for (const Fault& f : faults::faults_for(c, calls[static_cast<std::size_t>(c)])) {
      SCOPED_TRACE(f.text());
      store_test::TempDir d;
      const std::string path = d.path + "/ckpt.pth";
      write(d.path, bytes('a'));
      inject.arm(f);
      std::string error;
      try {
        write(d.path, bytes('b'));
      } catch (const ts::Error& e) {
        error = e.what();
      }
      inject.disarm();
      ++tried;
      EXPECT_TRUE(inject.fired());
      const std::string now = store_test::read_file(path);
      if (f.short_write || f.err == EINTR) {
        EXPECT_EQ(error, "") << "a short or interrupted write is retried";
        EXPECT_TRUE(now == bytes('b'));
      } else {
        ++errors;
        EXPECT_NE(error.find(std::strerror(f.err)), std::string::npos) << error;
        EXPECT_NE(error.find("[Errno " + std::to_string(f.err) + "]"), std::string::npos) << error;
        EXPECT_NE(error.find(d.path), std::string::npos) << error;
        // renamed before the directory fsync failed: the new file, whole; else the old one
        EXPECT_TRUE(now == bytes('a') || (c == Call::dir_fsync && now == bytes('b'))) << "torn or lost";
        if (c == Call::dir_fsync) EXPECT_NE(error.find("fsync of the directory"), std::string::npos) << error;
      }
      EXPECT_EQ(store_test::files_in(d.path), std::vector<std::string>{"ckpt.pth"}) << "a temporary file is left";
      write(d.path, bytes('c'));  // the same write, the fault gone
      EXPECT_TRUE(store_test::read_file(path) == bytes('c'));
    }
  }
  EXPECT_GT(errors, 0);
  std::cout << "[fault matrix] StoreTorchFaults: " << tried << " faults, " << errors << " of them errors\n";
}

}  // namespace
