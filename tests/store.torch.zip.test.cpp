// The zip layer on its own: 64-byte aligned data, zip64 fields where sizes
// or offsets reach 4 GiB (checked by encoding and decoding the headers, not
// by writing 4 GiB), the streaming writer, and SHA-256.
#include "crc32.hpp"
#include "independent.hpp"
#include "store.torch.support.hpp"
#include "zip.hpp"
#include "zip_stream.hpp"

namespace {

using namespace store_test;
namespace zip = ckpt::torch_store::zip;
constexpr std::uint64_t GiB = std::uint64_t{1} << 30;

std::uint64_t le(const std::string& s, std::size_t at, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v |= std::uint64_t(static_cast<unsigned char>(s.at(at + i))) << (8 * i);
  return v;
}

struct StringSink final : ts::Sink {
  std::string bytes;
  void write(const void* data, std::size_t n) override { bytes.append(static_cast<const char*>(data), n); }
};

// A "file" of `size` bytes that is all zeros except `tail` at its end: what
// the reader sees of an archive whose central directory sits beyond 4 GiB.
zip::ReadAt sparse_file(std::uint64_t size, const std::string& tail) {
  return [=](std::uint64_t offset, std::size_t n) {
    std::string out;
    for (std::uint64_t o = offset; o < offset + n && o < size; ++o)
      out += o >= size - tail.size() ? tail[static_cast<std::size_t>(o - (size - tail.size()))] : '\0';
    return out;
  };
}

TEST(StoreTorchZip, LocalHeadersAlignDataTo64Bytes) {
  for (std::uint64_t offset : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{63}, std::uint64_t{64},
                               std::uint64_t{1000}, 5 * GiB + 3})
    for (std::size_t name_len = 1; name_len < 90; ++name_len) {
      const std::string h = zip::local_header(std::string(name_len, 'n'), 10, offset);
      EXPECT_EQ((offset + h.size()) % zip::alignment, 0u) << offset << " " << name_len;
      EXPECT_EQ(le(h, 0, 4), 0x04034b50u);
      EXPECT_EQ(le(h, 6, 2), 0x0808u);  // data descriptor, UTF-8 names
      EXPECT_EQ(h.substr(30 + name_len, 2), "FB");
    }
}

TEST(StoreTorchZip, Zip64LocalHeaderAndDescriptorAtFourGiB) {
  const std::string small = zip::local_header("a/data/0", zip::zip64_threshold - 1, 0);
  EXPECT_EQ(le(small, 22, 4), 0u);
  EXPECT_EQ(small.substr(38, 2), "FB");
  const std::string big = zip::local_header("a/data/0", zip::zip64_threshold, 0);
  EXPECT_EQ(big.size() % 64, 0u);
  EXPECT_EQ(le(big, 18, 4), 0xFFFFFFFFu);
  EXPECT_EQ(le(big, 22, 4), 0xFFFFFFFFu);
  EXPECT_EQ(le(big, 38, 2), 1u);   // zip64 extra tag
  EXPECT_EQ(le(big, 40, 2), 16u);  // two 8-byte sizes
  EXPECT_EQ(le(big, 42, 8), zip::zip64_threshold);
  EXPECT_EQ(big.substr(58, 2), "FB");
  EXPECT_EQ(zip::data_descriptor(7, zip::zip64_threshold - 1).size(), 16u);
  const std::string d = zip::data_descriptor(7, 6 * GiB);
  ASSERT_EQ(d.size(), 24u);
  EXPECT_EQ(le(d, 4, 4), 7u);
  EXPECT_EQ(le(d, 8, 8), 6 * GiB);
  EXPECT_EQ(le(d, 16, 8), 6 * GiB);
}

// The loader's guess of where data starts: right for our headers, and for
// torch's, whose local headers past 4 GiB add a zip64 offset field (12
// more bytes before the 64-byte padding: 4 of tag and length, 8 of offset).
TEST(StoreTorchZip, ExpectedDataOffsetIsWhereLocalHeadersPutTheData) {
  for (std::uint64_t offset : {std::uint64_t{0}, std::uint64_t{77}, 5 * GiB + 3})
    for (std::uint64_t size : {std::uint64_t{10}, zip::zip64_threshold})
      for (std::size_t name_len = 1; name_len < 90; name_len += 7) {
        const zip::Entry e{std::string(name_len, 'n'), size, 0, offset, 0};
        const std::string h = zip::local_header(e.name, size, offset);
        EXPECT_EQ(zip::expected_data_offset(e, false), offset + h.size()) << offset << " " << name_len;
        if (offset < zip::zip64_threshold) EXPECT_EQ(zip::expected_data_offset(e, true), offset + h.size());
      }
  // At 5 GiB (a multiple of 64), a 19-byte name: 30 + 19 + 4 = 53 bytes pad
  // to 64; with the offset field, 65 pad to 128.
  const zip::Entry far{"archive/data/123456", 10, 0, 5 * GiB, 0};
  EXPECT_EQ(zip::expected_data_offset(far, false), 5 * GiB + 64);
  EXPECT_EQ(zip::expected_data_offset(far, true), 5 * GiB + 128);
}

TEST(StoreTorchZip, Zip64CentralDirectoryDecodesBack) {
  const std::vector<zip::Entry> entries = {{"archive/data.pkl", 100, 0x1234, 0, 0},
                                           {"archive/data/0", 6 * GiB, 0xdeadbeef, 128, 0},
                                           {"archive/data/1", 10, 0xcafe, 6 * GiB + 256, 0},
                                           {"archive/version", 2, 0x5567e99e, 6 * GiB + 384, 0}};
  const std::uint64_t cd_offset = 6 * GiB + 512;
  const std::string cd = zip::central_directory(entries, cd_offset);
  // The 32-bit end record overflows, so readers must take the zip64 record.
  EXPECT_EQ(le(cd, cd.size() - 6, 4), 0xFFFFFFFFu);
  const std::uint64_t size = cd_offset + cd.size();
  EXPECT_EQ(zip::read_directory(size, sparse_file(size, cd)), entries);
}

TEST(StoreTorchZip, MoreThan65535EntriesUseTheZip64Count) {
  std::vector<zip::Entry> entries;
  for (std::uint64_t i = 0; i < 70000; ++i) entries.push_back({"a/data/" + std::to_string(i), 0, 0, i * 64, 0});
  const std::string cd = zip::central_directory(entries, 70000 * 64);
  EXPECT_EQ(le(cd, cd.size() - 12, 2), 0xFFFFu);
  const std::uint64_t size = 70000 * 64 + cd.size();
  EXPECT_EQ(zip::read_directory(size, sparse_file(size, cd)), entries);
}

TEST(StoreTorchZip, StreamWritesAReadableArchive) {
  StringSink sink;
  ts::ZipStream z(sink);
  const std::string payload(1000, 'x');
  z.add("a/data.pkl", "pickle");
  z.begin("a/data/0", payload.size());
  z.write(payload.data(), 300);
  z.write(payload.data() + 300, 700);
  z.end();
  z.add("a/version", "3\n");
  z.finish();
  const std::string& file = sink.bytes;
  const auto read_at = [&](std::uint64_t o, std::size_t n) { return file.substr(o, n); };
  const auto entries = zip::read_directory(file.size(), read_at);
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[1].name, "a/data/0");
  EXPECT_EQ(entries[1].crc32, independent::crc32(payload));  // recomputed, not the writer's own CRC
  EXPECT_EQ(entries[1].size, payload.size());
  for (const auto& e : entries) EXPECT_EQ(zip::data_offset(e, read_at) % 64, 0u) << e.name;
  EXPECT_EQ(file.substr(zip::data_offset(entries[2], read_at), 2), "3\n");

  if (run("python3 -c pass").status != 0) GTEST_SKIP() << "no python3 for zipfile's check";
  TempDir dir;
  write_file(dir / "s.zip", file);
  const Ran r = run("python3 -c \"import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); "
                    "assert z.testzip() is None; print(z.read('a/data/0') == b'x' * 1000)\" '" + (dir / "s.zip") + "'");
  EXPECT_EQ(r.output, "True\n");
}

TEST(StoreTorchZip, StreamRefusesWrongSizes) {
  StringSink sink;
  ts::ZipStream z(sink);
  z.begin("a", 2);
  EXPECT_THROW(z.write("abc", 3), std::logic_error);
  z.write("a", 1);
  EXPECT_THROW(z.end(), std::logic_error);
}

TEST(StoreTorchZip, Sha256KnownAnswers) {
  const std::string million(1000000, 'a');
  for (bool portable : {false, true}) {
    const auto digest = [&](const std::string& s, std::size_t piece) {
      ckpt::internal::Sha256 h(portable);
      for (std::size_t i = 0; i < s.size(); i += piece) h.update(s.data() + i, std::min(piece, s.size() - i));
      return ckpt::internal::Sha256::hex(h.finish());
    };
    EXPECT_EQ(digest("", 1), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(digest("abc", 1), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(digest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 7),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    for (std::size_t piece : {std::size_t{1000000}, std::size_t{63}, std::size_t{65}})
      EXPECT_EQ(digest(million, piece), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  }
}

}  // namespace
