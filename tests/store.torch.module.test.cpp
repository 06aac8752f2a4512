// ckpt.store.torch from C++20: a file written by Python torch.save is read,
// summarised, written again and published through the module (E29, E42).
#include <gtest/gtest.h>
#include <fcntl.h>
#include <ftw.h>
#include <unistd.h>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include "independent.hpp"
import ckpt;
import ckpt.store.torch;

namespace {
namespace st = ckpt::store::torch;
const std::string tiny = std::string(CKPT_SOURCE_DIR) + "/tests/data/tiny.pth";

/// A fresh directory under $TMPDIR (else /tmp), removed with its contents.
struct Scratch {
  std::string dir;
  Scratch() {
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/ckpt-module-test-XXXXXX";
    dir = ::mkdtemp(tmpl.data()) ? tmpl : "";
  }
  ~Scratch() {
    if (!dir.empty())
      ::nftw(dir.c_str(), [](const char* p, const struct stat*, int, FTW*) { return ::remove(p); }, 16,
             FTW_DEPTH | FTW_PHYS);
  }
  std::string operator/(const char* name) const { return dir + "/" + name; }
};

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}
}  // namespace

TEST(StoreTorchModule, E29_SummaryOfAPythonCheckpoint) {
  st::LoadedSummary s = st::load_summary(tiny);
  ASSERT_EQ(s.error, "");
  st::Summary expected{{"meta", "state_dict", "optimizer"}, 1, 16, R"({"epoch": 1, "iter": 4})"};
  EXPECT_EQ(s.summary, expected);
}

TEST(StoreTorchModule, E29_LoadSaveLoadKeepsTheCheckpoint) {
  st::LoadedHandle loaded = st::load_handle(tiny);
  ASSERT_EQ(loaded.error, "");
  ASSERT_FALSE(loaded.handle.empty());
  Scratch scratch;
  ASSERT_FALSE(scratch.dir.empty());
  std::string copy = scratch / "copy.pth";
  int fd = ::open(copy.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(st::save_handle(loaded.handle, fd), "");
  ::close(fd);
  st::LoadedSummary again = st::load_summary(copy);
  ASSERT_EQ(again.error, "");
  EXPECT_EQ(again.summary, st::summarize(loaded.handle));
}

TEST(StoreTorchModule, E42_PublishKeepsTheKeysAndNamesTheHash) {
  st::LoadedHandle loaded = st::load_handle(tiny);
  ASSERT_EQ(loaded.error, "");
  Scratch scratch;
  ASSERT_FALSE(scratch.dir.empty());
  std::string source = scratch / "epoch_1.pth";
  st::PublishedFile out = st::publish_handle(loaded.handle, {"meta", "state_dict"}, [&](std::string_view sha) {
    return ckpt::published_name(source, sha);
  });
  ASSERT_EQ(out.error, "");
  // the name's hash, recomputed here from the file's bytes (not the sha256 the store reports)
  const std::string sha = independent::sha256_hex(read_bytes(out.path));
  EXPECT_EQ(out.path, scratch / "epoch_1-" + sha.substr(0, 8) + ".pth");
  EXPECT_EQ(out.sha256, sha);
  st::LoadedSummary published = st::load_summary(out.path);
  ASSERT_EQ(published.error, "");
  EXPECT_EQ(published.summary.top_level_keys, (std::vector<std::string>{"meta", "state_dict"}));
}

TEST(StoreTorchModule, VerifyChecksAPythonCheckpointAndFindsACorruptCopy) {
  const st::Verified ok = st::verify(tiny, st::VerifyOptions{1, st::DirectIo::off});
  EXPECT_EQ(ok.error, "");
  EXPECT_EQ(ok.file_bytes, 866u);
  EXPECT_EQ(ok.records, 3u);
  EXPECT_EQ(ok.tensors, 1u);
  // The same file with a byte of its tensor's record flipped.
  std::FILE* in = std::fopen(tiny.c_str(), "rb");
  ASSERT_NE(in, nullptr);
  std::string bytes(866, '\0');
  ASSERT_EQ(std::fread(bytes.data(), 1, bytes.size(), in), bytes.size());
  std::fclose(in);
  const std::size_t data0 = bytes.find("tiny/data/0");
  ASSERT_NE(data0, std::string::npos);
  bytes[(data0 + 11 + 4 + 63) / 64 * 64] ^= 1;  // its data: the next multiple of 64 after the name and 'FB'
  Scratch scratch;
  ASSERT_FALSE(scratch.dir.empty());
  const std::string copy = scratch / "corrupt.pth";
  std::FILE* out = std::fopen(copy.c_str(), "wb");
  ASSERT_NE(out, nullptr);
  std::fwrite(bytes.data(), 1, bytes.size(), out);
  std::fclose(out);
  const st::Verified bad = st::verify(copy);
  EXPECT_EQ(bad.error, copy + ": entry 'tiny/data/0' fails its CRC-32 check (corrupt file)");
}

TEST(StoreTorchModule, MissingFileIsAnErrorNamingIt) {
  st::LoadedSummary s = st::load_summary("/nonexistent/x.pth");
  EXPECT_NE(s.error.find("/nonexistent/x.pth"), std::string::npos);
}
