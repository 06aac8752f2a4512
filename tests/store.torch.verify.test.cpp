// verify: a checkpoint checked as load would check it, without loading it.
// Valid files (ours, torch.save's) pass on every I/O path and count their
// records and tensors; truncations and flipped bytes anywhere give one
// line naming the file and the problem; hostile sizes and nesting fail
// without large allocations.
#include <malloc.h>

#include <fstream>
#include <unordered_set>

#include "store.torch.support.hpp"
#include "walk.hpp"
#include "zip.hpp"

namespace {

using namespace store_test;
using DirectIo = ts::DirectIo;

constexpr std::size_t mib = 1 << 20;

// A state with storages of every size class and a shared one.
Value mixed() {
  Value v = runner_checkpoint();
  Dict& d = v.as<Dict>();
  d.set("big", sample({static_cast<std::int64_t>((9 * mib + 12'345) / 4)}, at::kFloat, 0.011));
  d.set("k300", sample({300 * 1024 / 4 + 1}, at::kFloat, 0.2));
  d.set("tied", d.find("big")->as<at::Tensor>().slice(0, 5, 50));
  for (int i = 0; i < 30; ++i) d.set("s" + std::to_string(i), sample({(i * 7919) % (60 * 1024) + 1}, at::kByte));
  return v;
}

std::size_t distinct_tensors(const Value& v) {
  std::unordered_set<const c10::TensorImpl*> seen;
  ts::detail::for_each_tensor(v, [&](const at::Tensor& t) { seen.insert(t.unsafeGetTensorImpl()); });
  return seen.size();
}

std::size_t zip_entries(const std::string& path) {
  const std::string bytes = read_file(path);
  return ts::zip::read_directory(bytes.size(), [&](std::uint64_t o, std::size_t n) { return bytes.substr(o, n); }).size();
}

void expect_one_line_error(const ts::Verified& r, const std::string& path, const std::string& problem) {
  EXPECT_EQ(r.error.rfind(path + ": ", 0), 0u) << r.error;
  EXPECT_EQ(r.error.find('\n'), std::string::npos) << r.error;
  EXPECT_NE(r.error.find(problem), std::string::npos) << "expected '" << problem << "' in: " << r.error;
}

TEST(StoreTorchVerify, ValidFilesVerifyOnEveryIoPath) {
  TempDir dir;
  const Value v = mixed();
  ts::save(v, dir / "x.pth");
  for (int threads : {1, 8})
    for (DirectIo direct : {DirectIo::on, DirectIo::off, DirectIo::automatic}) {
      const ts::Verified r = ts::verify(dir / "x.pth", {threads, direct});
      EXPECT_EQ(r.error, "") << threads << " threads, direct " << static_cast<int>(direct);
      EXPECT_EQ(r.file_bytes, read_file(dir / "x.pth").size());
      EXPECT_EQ(r.records, zip_entries(dir / "x.pth"));
      EXPECT_EQ(r.tensors, distinct_tensors(v));
    }
  EXPECT_EQ(distinct_tensors(v), 9u + 3u + 30u);
}

TEST(StoreTorchVerify, PythonTorchSaveFileVerifies) {
  SKIP_WITHOUT_PYTHON();
  TempDir dir;
  ASSERT_EQ(python("write-zoo '" + dir.path + "'").status, 0);
  const ts::Verified r = ts::verify(dir / "zoo.pth");
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.records, zip_entries(dir / "zoo.pth"));
  EXPECT_EQ(r.tensors, distinct_tensors(ts::load(dir / "zoo.pth")));
}

TEST(StoreTorchVerify, TruncationsAreOneLineErrors) {
  TempDir dir;
  ts::save(mixed(), dir / "x.pth");
  const std::string good = read_file(dir / "x.pth");
  for (std::size_t n : {std::size_t{0}, std::size_t{10}, std::size_t{100}, good.size() / 4, good.size() / 2,
                        good.size() - 4096, good.size() - 100, good.size() - 22, good.size() - 1}) {
    write_file(dir / "cut.pth", good.substr(0, n));
    expect_one_line_error(ts::verify(dir / "cut.pth"), dir / "cut.pth", "");
  }
  write_file(dir / "cut.pth", good.substr(0, good.size() / 2));
  expect_one_line_error(ts::verify(dir / "cut.pth"), dir / "cut.pth", "no zip end record");
}

TEST(StoreTorchVerify, FlippedBytesAreFoundWhereverTheyAre) {
  TempDir dir;
  const Value v = mixed();
  const std::string path = dir / "x.pth";
  ts::save(v, path);
  const std::string good = read_file(path);
  const auto flipped = [&](std::size_t at) {
    std::string bad = good;
    bad[at] ^= 0x04;
    write_file(path, bad);
    return ts::verify(path, {8, DirectIo::on});
  };
  // data.pkl: its bytes start at 64.
  expect_one_line_error(flipped(64 + 10), path, "entry 'archive/data.pkl' fails its CRC-32 check (corrupt file)");
  // The middle of the 9 MiB tensor (past its first 4 MiB piece).
  const at::Tensor& big = v.as<Dict>().find("big")->as<at::Tensor>();
  const std::size_t in_big = good.find(std::string(static_cast<const char*>(big.data_ptr()) + big.nbytes() / 2, 64));
  ASSERT_NE(in_big, std::string::npos);
  expect_one_line_error(flipped(in_big), path, "' fails its CRC-32 check (corrupt file)");
  // The central directory: a record's CRC as the directory records it, then its name.
  const std::size_t central = good.find(std::string("PK\x01\x02", 4));
  const std::size_t last_central = good.rfind(std::string("PK\x01\x02", 4));
  ASSERT_NE(central, std::string::npos);
  expect_one_line_error(flipped(central + 16), path, "entry 'archive/data.pkl' fails its CRC-32 check (corrupt file)");
  expect_one_line_error(flipped(last_central + 46 + 9), path, "missing entry 'archive/.data/version'");  // "veRsion"
  const std::size_t data0 = good.find("archive/data/0", central) - 46;  // its central header
  expect_one_line_error(flipped(data0 + 42), path, "local header of 'archive/data/0' is missing or corrupt");
  // Bytes no check covers (the padding between records) are not errors.
  write_file(path, good);
  EXPECT_EQ(ts::verify(path).error, "");
}

// Python's zipfile writes the CRC and sizes into each local header too:
// they must agree with the central directory's.
TEST(StoreTorchVerify, LocalHeadersMustAgreeWithTheCentralDirectory) {
  TempDir dir;
  ts::save(runner_checkpoint(), dir / "x.pth");
  const Ran r = run("python3 -c \"import zipfile,sys; a = zipfile.ZipFile(sys.argv[1]); "
                    "b = zipfile.ZipFile(sys.argv[2], 'w'); [b.writestr(i.filename, a.read(i)) for i in a.infolist()]; "
                    "b.close()\" '" + (dir / "x.pth") + "' '" + (dir / "zip.pth") + "'");
  if (r.status != 0) GTEST_SKIP() << "python3 cannot repack: " << r.output;
  EXPECT_EQ(ts::verify(dir / "zip.pth").error, "");
  std::string bytes = read_file(dir / "zip.pth");
  const std::size_t local = bytes.find("archive/data/0") - 30;
  ASSERT_EQ(bytes.substr(local, 4), std::string("PK\x03\x04", 4));
  bytes[local + 14] ^= 1;  // the local header's CRC
  write_file(dir / "zip.pth", bytes);
  expect_one_line_error(ts::verify(dir / "zip.pth"), dir / "zip.pth",
                        "local header of 'archive/data/0' disagrees with the central directory");
}

long status_kib(const char* field) {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind(field, 0) == 0) return std::stol(line.substr(std::strlen(field)));
  return -1;
}

// verify, with the growth of the process's peak RSS it caused, in MiB.
std::pair<ts::Verified, long> verify_measured(const std::string& path) {
  ::malloc_trim(0);
  std::ofstream("/proc/self/clear_refs") << "5";  // the peak RSS is the current RSS again
  const long rss0 = status_kib("VmRSS:");
  ts::Verified r = ts::verify(path);
  return {r, (status_kib("VmHWM:") - rss0) / 1024};
}

// The central directory rewritten with `edit` applied to its entries.
std::string with_directory(const std::string& file, const std::function<void(std::vector<ts::zip::Entry>&)>& edit) {
  const auto read_at = [&](std::uint64_t o, std::size_t n) { return file.substr(o, n); };
  std::vector<ts::zip::Entry> entries = ts::zip::read_directory(file.size(), read_at);
  const std::size_t central = file.find(std::string("PK\x01\x02", 4));
  edit(entries);
  return file.substr(0, central) + ts::zip::central_directory(entries, central);
}

TEST(StoreTorchVerify, HostileSizesAndNestingFailWithoutLargeAllocations) {
  TempDir dir;
  ts::save(runner_checkpoint(), dir / "small.pth");
  const std::string small = read_file(dir / "small.pth");
  ASSERT_LT(small.size(), 16u * 1024);
  const auto hostile = [&](const std::string& name, const std::string& bytes, const std::string& problem) {
    write_file(dir / name, bytes);
    const auto [r, extra_mib] = verify_measured(dir / name);
    expect_one_line_error(r, dir / name, problem);
    EXPECT_LT(extra_mib, 32) << name;
    // load checks the same way, before allocating.
    try {
      ts::load(dir / name);
      ADD_FAILURE() << name << " loaded";
    } catch (const ts::Error& e) {
      EXPECT_NE(std::string(e.what()).find(problem), std::string::npos) << e.what();
    }
  };
  hostile("pickle4g.pth", with_directory(small, [](auto& entries) { entries.at(0).size = (std::uint64_t{4} << 30) - 1; }),
          "entry 'archive/data.pkl' runs past the end of the file (truncated?)");
  hostile("record1t.pth", with_directory(small, [](auto& entries) { entries.at(1).size = std::uint64_t{1} << 40; }),
          "entry 'archive/data/0' runs past the end of the file (truncated?)");
  // Lists nested 5000 deep: within 16 KB.
  const std::size_t levels = 5000;
  write_raw_checkpoint(dir / "deep.pth", "\x80\x02" + std::string(levels, ']') + std::string(levels - 1, 'a') + ".");
  hostile("deep.pth", read_file(dir / "deep.pth"), "pickle: nesting deeper than 1000 (a cycle?)");
  // A tensor claiming 2^40 floats of a 16-byte record.
  const char huge_tensor[] =
      "\x80\x02" "ctorch._utils\n_rebuild_tensor_v2\n(" "(X\x07\x00\x00\x00storage" "ctorch\nFloatStorage\n"
      "X\x01\x00\x00\x00" "0" "X\x03\x00\x00\x00" "cpu" "\x8a\x06\x00\x00\x00\x00\x00\x01tQ" "K\x00" "K\x04\x85"
      "K\x01\x85" "\x89tR.";
  write_raw_checkpoint(dir / "claims.pth", std::string(huge_tensor, sizeof huge_tensor - 1), {{"0", std::string(16, 'x')}});
  hostile("claims.pth", read_file(dir / "claims.pth"), "entry 'archive/data/0' holds 16 bytes, its tensor needs 4398046511104");
  // A million levels (a 2 MB pickle) fail the same way, without a crash;
  // the half-built graph costs ~370 bytes a level meanwhile (not bounded
  // by this test: memory follows the pickle's real size, not its claims).
  write_raw_checkpoint(dir / "deeper.pth", "\x80\x02" + std::string(1'000'000, ']') + std::string(999'999, 'a') + ".");
  expect_one_line_error(ts::verify(dir / "deeper.pth"), dir / "deeper.pth", "pickle: nesting deeper than 1000");
}

TEST(StoreTorchVerify, MissingFileAndNotACheckpointAreErrors) {
  TempDir dir;
  expect_one_line_error(ts::verify(dir / "none.pth"), dir / "none.pth", "cannot open: No such file");
  write_file(dir / "text.pth", "just text");
  expect_one_line_error(ts::verify(dir / "text.pth"), dir / "text.pth", "not a zip archive (9 bytes)");
}

}  // namespace
