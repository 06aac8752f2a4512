// The parallel storage reader (parallel_read.hpp, read_plan.hpp) through
// load and alone: every thread count and I/O path loads the same value,
// per-piece CRCs combine to the whole storage's, guessed data offsets that
// miss still load, and corrupt, truncated or tmpfs files fail or fall back
// as load promises.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdlib>
#include <random>

#include "parallel_read.hpp"
#include "read_plan.hpp"
#include "store.torch.support.hpp"

namespace {

using namespace store_test;
using DirectIo = ts::LoadOptions::DirectIo;

constexpr std::size_t kib = 1024, mib = kib * kib;

ts::LoadOptions options(int threads, DirectIo direct, bool verify_crc = true) {
  ts::LoadOptions o;
  o.verify_crc = verify_crc;
  o.io_threads = threads;
  o.direct_io = direct;
  return o;
}

// Storages of every size class: tiny, under and over the small-storage
// limit, several MiB not a multiple of 4096, one of more than two 4 MiB
// pieces (first, so that it is entry data/0), and more small ones in a row
// than one run holds.
Value mixed_sizes() {
  Dict d{{}, /*ordered=*/true};
  d.set("big", sample({static_cast<std::int64_t>((9 * mib + 12'345) / 4)}, at::kFloat, 0.011));
  d.set("scalar", at::scalar_tensor(7, at::kLong));
  d.set("tiny", sample({3}, at::kHalf));
  d.set("k100", sample({100 * 1024}, at::kByte));
  d.set("k300", sample({300 * 1024 / 4 + 1}, at::kFloat, 0.2));
  for (int i = 0; i < 6; ++i)
    d.set("m" + std::to_string(i), sample({static_cast<std::int64_t>((3 * mib + 1000 * i + 2) / 2)}, at::kShort, 0.3 + i));
  for (int i = 0; i < 90; ++i)
    d.set("s" + std::to_string(i), sample({(i * 7919) % (60 * 1024) + 1}, at::kByte, 0.01 * i));
  d.set("empty", at::zeros({0}));
  d.set("shared_view", d.find("m1")->as<at::Tensor>().slice(0, 10, 20));
  return d;
}

std::string load_error(const std::string& path, const ts::LoadOptions& o) {
  try {
    ts::load(path, o);
    return "";
  } catch (const ts::Error& e) {
    return e.what();
  }
}

TEST(StoreTorchRead, MixedSizesLoadEqualForEveryThreadCountAndIoPath) {
  TempDir dir;
  const Value v = mixed_sizes();
  ts::save(v, dir / "x.pth");
  for (int threads : {1, 8})
    for (DirectIo direct : {DirectIo::on, DirectIo::off, DirectIo::automatic})
      for (bool crc : {true, false}) {
        const Value back = ts::load(dir / "x.pth", options(threads, direct, crc));
        EXPECT_EQ(back, v) << threads << " threads, direct " << static_cast<int>(direct) << ", crc " << crc;
      }
}

TEST(StoreTorchRead, FlippedByteInAMultiPieceStorageFailsItsCrcUnlessUnchecked) {
  TempDir dir;
  const Value v = mixed_sizes();
  ts::save(v, dir / "x.pth");
  std::string file = read_file(dir / "x.pth");
  // The big tensor's bytes around its middle (past the first 4 MiB piece).
  const at::Tensor& big = v.as<Dict>().find("big")->as<at::Tensor>();
  const std::string middle(static_cast<const char*>(big.data_ptr()) + big.nbytes() / 2, 64);
  const std::size_t at = file.find(middle);
  ASSERT_NE(at, std::string::npos);
  file[at + 5] ^= 0x10;
  write_file(dir / "x.pth", file);
  for (int threads : {1, 8})
    for (DirectIo direct : {DirectIo::on, DirectIo::off}) {
      const std::string error = load_error(dir / "x.pth", options(threads, direct));
      EXPECT_EQ(error, dir / "x.pth: entry 'archive/data/0' fails its CRC-32 check (corrupt file)");
      const Value back = ts::load(dir / "x.pth", options(threads, direct, /*verify_crc=*/false));
      EXPECT_NE(back, v);
      EXPECT_EQ(*back.as<Dict>().find("m5"), *v.as<Dict>().find("m5"));
    }
}

TEST(StoreTorchRead, TruncatedFileIsAnErrorOnEveryIoPath) {
  TempDir dir;
  ts::save(mixed_sizes(), dir / "x.pth");
  const std::string file = read_file(dir / "x.pth");
  write_file(dir / "cut.pth", file.substr(0, file.size() / 2));
  for (DirectIo direct : {DirectIo::on, DirectIo::off}) {
    const std::string error = load_error(dir / "cut.pth", options(8, direct));
    EXPECT_EQ(error.rfind(dir / "cut.pth: ", 0), 0u) << error;
  }
}

// A file that shrank after its directory was read: the reader itself hits
// the end, in the O_DIRECT middle and in the buffered edges.
TEST(StoreTorchRead, ReaderFailsCleanlyAtAnUnexpectedEndOfFile) {
  TempDir dir;
  write_file(dir / "short", std::string(5 * mib + 100, 'x'));
  const int fd = ::open((dir / "short").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  for (DirectIo direct : {DirectIo::on, DirectIo::off})
    for (std::uint64_t offset : {std::uint64_t{0}, std::uint64_t{4096 + 17}}) {
      const c10::DataPtr memory = ts::detail::memory_for_read(offset, 9 * mib);
      const std::vector<ts::detail::ReadJob> jobs{{offset, static_cast<char*>(memory.get()), 9 * mib}};
      try {
        ts::detail::read_jobs(fd, jobs, {8, direct, true});
        ADD_FAILURE() << "read past the end, direct " << static_cast<int>(direct) << ", offset " << offset;
      } catch (const ts::Error& e) {
        EXPECT_STREQ(e.what(), "unexpected end of file (truncated?)");
      }
    }
  ::close(fd);
}

// tmpfs refused O_DIRECT before Linux 6.6 (and FUSE may still): forcing it
// there must fall back to buffered reads, not fail.
TEST(StoreTorchRead, TmpfsLoadsWithDirectIoForced) {
  if (!exists("/dev/shm")) GTEST_SKIP() << "no /dev/shm";
  const std::string path = "/dev/shm/store.torch.read." + std::to_string(::getpid()) + ".pth";
  const Value v = mixed_sizes();
  ts::save(v, path);
  Value back;
  EXPECT_NO_THROW(back = ts::load(path, options(8, DirectIo::on)));
  ::unlink(path.c_str());
  EXPECT_EQ(back, v);
}

// Pieces' CRCs, combined, equal zlib's CRC of the whole buffer; the bytes
// land where they belong, whatever the destination's alignment.
TEST(StoreTorchRead, CombinedPieceCrcsEqualOneSerialCrc) {
  TempDir dir;
  std::string bytes(13 * mib + 777, '\0');
  std::mt19937_64 rng(7);
  for (char& c : bytes) c = static_cast<char>(rng());
  write_file(dir / "random", bytes);
  const int fd = ::open((dir / "random").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  const std::uint64_t offset = 4096 * 3 + 61, n = bytes.size() - offset - 5;
  const auto expected =
      static_cast<std::uint32_t>(::crc32_z(0, reinterpret_cast<const Bytef*>(bytes.data() + offset), n));
  std::vector<char> unaligned(n + 1);
  const c10::DataPtr aligned = ts::detail::memory_for_read(offset, n);
  // In place, through the bounce buffer (misaligned), and CRC only (no destination).
  for (char* dest : {static_cast<char*>(aligned.get()), unaligned.data() + 1, static_cast<char*>(nullptr)})
    for (DirectIo direct : {DirectIo::on, DirectIo::off})
      for (int threads : {1, 8}) {
        const std::vector<ts::detail::ReadJob> jobs{{offset, dest, n}, {0, nullptr, 0}};
        const auto results = ts::detail::read_jobs(fd, jobs, {threads, direct, true});
        ASSERT_EQ(results.size(), 2u);
        EXPECT_EQ(results[0].crc, expected);
        EXPECT_EQ(results[1].crc, 0u);
        if (!dest) continue;
        EXPECT_EQ(std::memcmp(dest, bytes.data() + offset, n), 0);
        std::memset(dest, 0, n);
      }
  ::close(fd);
}

// Another writer's padding (Python's zipfile: none) puts every storage
// somewhere other than guessed: the local headers say where, and the
// storages are read again from there.
TEST(StoreTorchRead, RepackedArchiveWithOtherPaddingLoadsEqual) {
  TempDir dir;
  const Value v = mixed_sizes();
  ts::save(v, dir / "x.pth");
  const Ran r = run("python3 -c \"import zipfile,sys; a = zipfile.ZipFile(sys.argv[1]); "
                    "b = zipfile.ZipFile(sys.argv[2], 'w'); [b.writestr(i.filename, a.read(i)) for i in a.infolist()]; "
                    "b.close()\" '" + (dir / "x.pth") + "' '" + (dir / "repacked.zip") + "'");
  if (r.status != 0) GTEST_SKIP() << "python3 cannot repack: " << r.output;
  for (int threads : {1, 8})
    for (DirectIo direct : {DirectIo::on, DirectIo::off})
      EXPECT_EQ(ts::load(dir / "repacked.zip", options(threads, direct)), v) << threads << " threads";
}

// A destination that does not line up with the file (a caller's tensor)
// still reads O_DIRECT, through the thread's buffer: the file's pages stay
// out of the page cache, but for the ragged ends.
TEST(StoreTorchRead, MisalignedDestinationStillBypassesThePageCache) {
  TempDir dir;
  const std::string bytes(16 * mib, 'x');
  write_file(dir / "flat", bytes);
  const int fd = ::open((dir / "flat").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  const auto cached_pages = [&] {
    void* map = ::mmap(nullptr, bytes.size(), PROT_READ, MAP_SHARED, fd, 0);
    std::vector<unsigned char> resident(bytes.size() / 4096);
    EXPECT_EQ(::mincore(map, bytes.size(), resident.data()), 0);
    ::munmap(map, bytes.size());
    return std::count_if(resident.begin(), resident.end(), [](unsigned char r) { return r & 1; });
  };
  ASSERT_EQ(::fdatasync(fd), 0);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  if (cached_pages() > 16) GTEST_SKIP() << "the page cache keeps this file";
  std::vector<char> dest(bytes.size());
  const std::uint64_t offset = 4096 + 64;  // the destination is 64-byte aligned at best: never congruent
  const std::vector<ts::detail::ReadJob> jobs{{offset, dest.data() + 3, bytes.size() - offset - 100}};
  ts::detail::read_jobs(fd, jobs, {8, DirectIo::on, true});
  EXPECT_LE(cached_pages(), 16);  // each piece's tail, buffered
  EXPECT_EQ(std::memcmp(dest.data() + 3, bytes.data() + offset, jobs[0].n), 0);
  ::close(fd);
}

TEST(StoreTorchRead, PlanBouncesMisalignedOrAbsentDestinationsAndUsesTheFileSystemsAlignment) {
  constexpr std::uint64_t mb = 1 << 20;
  alignas(4096) static char memory[8192];
  const std::vector<ts::detail::ReadJob> jobs{
      {512 + 64, memory + 64, mb},       // congruent modulo 512 (not 4096): into place
      {2 * mb + 64, memory + 128, mb},   // not congruent: through the buffer
      {4 * mb, nullptr, mb},             // no destination: CRC only, through the buffer
  };
  const ts::detail::Plan plan = ts::detail::plan_reads(jobs, 8 * mb, {512, 512});
  ASSERT_EQ(plan.tasks.size(), 3u);
  for (const ts::detail::Task& t : plan.tasks) EXPECT_TRUE(!t.run && t.direct);
  EXPECT_FALSE(plan.tasks[0].bounce);
  EXPECT_TRUE(plan.tasks[1].bounce);
  EXPECT_TRUE(plan.tasks[2].bounce);
  // With the page as the unit (the default), the first one is misaligned too.
  EXPECT_TRUE(ts::detail::plan_reads(jobs, 8 * mb).tasks[0].bounce);
}

TEST(StoreTorchRead, PlanCutsLargeJobsAtPageBoundariesAndRunsSmallOnes) {
  constexpr std::uint64_t piece = ts::detail::piece_size;
  alignas(4096) static char memory[4096];
  char* congruent = memory + 100;  // for a job at offset 100 (mod 4096)
  const std::vector<ts::detail::ReadJob> jobs{
      {2 * piece + 100, congruent, 2 * piece + 10},  // three pieces: ragged ends only
      {100, nullptr, 1000},                          // small, first in the file: a run with the next
      {1200, nullptr, 3000},
      {piece + 100, nullptr, 2000},                  // too far from the run: a run of its own
  };
  const ts::detail::Plan plan = ts::detail::plan_reads(jobs, 5 * piece);
  EXPECT_EQ(plan.order, (std::vector<std::size_t>{1, 2, 3, 0}));
  ASSERT_EQ(plan.tasks.size(), 5u);
  const auto& t = plan.tasks;
  EXPECT_TRUE(t[0].run && t[0].first == 0 && t[0].last == 2 && t[0].begin == 100 && t[0].end == 4200 && t[0].direct);
  EXPECT_TRUE(t[1].run && t[1].first == 2 && t[1].last == 3);
  EXPECT_EQ(t[2].begin, 2 * piece + 100);
  EXPECT_EQ(t[2].end, 3 * piece);
  EXPECT_EQ(t[3].end, 4 * piece);
  EXPECT_EQ(t[4].end, 4 * piece + 110);
  for (std::size_t i = 2; i < 5; ++i) EXPECT_TRUE(!t[i].run && t[i].first == 3 && t[i].header == false) << i;
  EXPECT_TRUE(t[2].direct && t[3].direct);
  EXPECT_FALSE(t[4].direct);  // 110 bytes: no whole page
}

}  // namespace
