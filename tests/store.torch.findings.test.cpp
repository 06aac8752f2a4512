// The tensor store's reader against the hostile files fuzzing found (issue
// 11, deliverable 4), one test per finding, each built from its recipe
// rather than a binary blob (tests/fuzz/regressions/ holds the fuzzers'
// own inputs, replayed under the sanitizers by tools/fuzz):
//  - a pickle nesting 300,000 lists is refused by the depth check, and
//    then freeing its nodes recursed as deep: a stack overflow (SIGSEGV);
//  - a central directory claiming data.pkl is 4 GiB made the reader
//    allocate and zero 4 GiB before it compared the claim with the file.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "crc32.hpp"
#include "store.torch.support.hpp"
#include "unpickler.hpp"
#include "zip.hpp"

namespace {

namespace ts = ckpt::torch_store;
namespace zip = ckpt::torch_store::zip;

/// A zip in torch's dialect holding `records` (name under archive/, bytes).
std::string archive(const std::vector<std::pair<std::string, std::string>>& records) {
  std::string out;
  std::vector<zip::Entry> entries;
  for (const auto& [name, bytes] : records) {
    zip::Entry e{"archive/" + name, bytes.size(), ts::crc32(0, bytes.data(), bytes.size()), out.size(), 0};
    out += zip::local_header(e.name, e.size, e.header_offset) + bytes + zip::data_descriptor(e.crc32, e.size);
    entries.push_back(e);
  }
  return out + zip::central_directory(entries, out.size());
}

std::string nested_lists(std::size_t depth) {
  return "\x80\x02" + std::string(depth, ']') + std::string(depth - 1, 'a') + ".";  // EMPTY_LIST..., APPEND..., STOP
}

TEST(StoreTorchFindings, DeepNestingIsRefusedWithoutOverflowingTheStack) {
  const std::string pickle = nested_lists(300000);  // 600 KB
  const ts::StorageLoader none = [](const std::string&, std::size_t, const std::string&) -> c10::Storage {
    throw ts::Error("no storages here");
  };
  try {
    ts::unpickle(pickle, none);
    FAIL() << "unpickled";
  } catch (const ts::Error& e) {
    EXPECT_NE(std::string(e.what()).find("nesting deeper"), std::string::npos) << e.what();
  }
  store_test::TempDir d;
  store_test::write_file(d / "deep.pth", archive({{"data.pkl", pickle}, {"version", "3\n"}}));
  try {
    ts::load(d / "deep.pth");
    FAIL() << "loaded";
  } catch (const ts::Error& e) {
    EXPECT_NE(std::string(e.what()).find("nesting deeper"), std::string::npos) << e.what();
  }
}

TEST(StoreTorchFindings, DeepNestingWithinTheLimitLoads) {
  const ts::StorageLoader none = [](const std::string&, std::size_t, const std::string&) -> c10::Storage {
    throw ts::Error("no storages here");
  };
  ts::Value v = ts::unpickle(nested_lists(500), none);
  int depth = 0;
  for (const ts::Value* x = &v; x->is<ts::List>() && !x->as<ts::List>().items.empty(); x = &x->as<ts::List>().items[0])
    ++depth;
  EXPECT_EQ(depth, 499);
}

// The load, in a child whose address space is capped 1 GiB above what it
// uses: an allocation of the claimed 4 GiB fails there (std::bad_alloc),
// the refusal of the claim does not.
std::string load_capped(const std::string& path) {
  int fds[2];
  if (::pipe(fds) != 0) return "pipe failed";
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    std::string out;
    struct rlimit cap {};
    std::string status = store_test::read_file("/proc/self/statm");
    const long pages = std::stol(status.substr(0, status.find(' ')));
    cap.rlim_cur = cap.rlim_max = static_cast<rlim_t>(pages) * ::sysconf(_SC_PAGESIZE) + (1ul << 30);
    ::setrlimit(RLIMIT_AS, &cap);
    try {
      ts::LoadOptions one_thread;
      one_thread.io_threads = 1;
      ts::load(path, one_thread);
      out = "loaded";
    } catch (const std::exception& e) {
      out = e.what();
    }
    (void)!::write(fds[1], out.data(), out.size());
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  ::waitpid(pid, nullptr, 0);
  return out;
}

TEST(StoreTorchFindings, AHugeRecordClaimIsRefusedBeforeItIsAllocated) {
  std::string bytes = archive({{"data.pkl", "\x80\x02K\x01."}, {"version", "3\n"}});
  // the central directory's sizes of data.pkl (the first entry): 0xFFFFFFFE bytes, in a file of ~200
  const auto cd = bytes.find("PK\x01\x02");
  ASSERT_NE(cd, std::string::npos);
  for (std::size_t at : {cd + 20, cd + 24}) bytes.replace(at, 4, "\xfe\xff\xff\xff");
  store_test::TempDir d;
  store_test::write_file(d / "claims-4gib.pth", bytes);
  const std::string why = load_capped(d / "claims-4gib.pth");
  EXPECT_NE(why.find("runs past the end of the file"), std::string::npos) << why;
}

}  // namespace
