// ckpt.store.torch from C++20: a file written by Python torch.save is read,
// summarised, written again and published through the module (E29, E42).
#include <gtest/gtest.h>
#include <fcntl.h>
#include <unistd.h>
#include <cstdio>
#include <string>
#include <string_view>
import ckpt;
import ckpt.store.torch;

namespace {
namespace st = ckpt::store::torch;
const std::string tiny = std::string(CKPT_SOURCE_DIR) + "/tests/data/tiny.pth";

std::string scratch(const char* name) {
  char dir[] = "/tmp/ckpt-module-test-XXXXXX";
  return std::string(mkdtemp(dir)) + "/" + name;
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
  std::string copy = scratch("copy.pth");
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
  std::string source = scratch("epoch_1.pth");
  st::PublishedFile out = st::publish_handle(loaded.handle, {"meta", "state_dict"}, [&](std::string_view sha) {
    return ckpt::published_name(source, sha);
  });
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.path, source.substr(0, source.size() - 4) + "-" + out.sha256.substr(0, 8) + ".pth");
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
  const std::string copy = scratch("corrupt.pth");
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
