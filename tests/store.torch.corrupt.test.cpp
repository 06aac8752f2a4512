// Broken files: every truncation and every single-byte corruption of a real
// checkpoint either loads or throws an Error that names the file (never a
// crash, hang or out-of-bounds tensor); the unpickler alone survives
// truncated and mutated pickles; specific problems get specific messages.
#include <random>

#include "store.torch.support.hpp"
#include "unpickler.hpp"

namespace {

using namespace store_test;

// A string of a literal's bytes, NULs included.
template <std::size_t N>
std::string bytes(const char (&literal)[N]) {
  return std::string(literal, N - 1);
}

// Loads `bytes` as a file; returns the error text, or "" when it loaded.
std::string load_error(const TempDir& dir, const std::string& bytes) {
  write_file(dir / "broken.pth", bytes);
  try {
    ts::load(dir / "broken.pth");
    return "";
  } catch (const ts::Error& e) {
    return e.what();
  }
}

std::string small_checkpoint_bytes(const TempDir& dir) {
  Value v = runner_checkpoint();
  v.as<Dict>().set("unknown", List{{Dict{}, Tuple{{1, 2.5}}}});
  ts::save(v, dir / "good.pth");
  return read_file(dir / "good.pth");
}

TEST(StoreTorchCorrupt, EveryTruncationIsAnErrorNamingTheFile) {
  TempDir dir;
  const std::string good = small_checkpoint_bytes(dir);
  for (std::size_t n = 0; n < good.size(); ++n) {
    const std::string error = load_error(dir, good.substr(0, n));
    ASSERT_NE(error, "") << "loaded a file cut to " << n << " bytes";
    ASSERT_EQ(error.rfind(dir / "broken.pth: ", 0), 0u) << error;
  }
  EXPECT_NE(load_error(dir, good.substr(0, good.size() / 2)).find("no zip end record"), std::string::npos);
}

TEST(StoreTorchCorrupt, EverySingleByteCorruptionLoadsOrFailsCleanly) {
  TempDir dir;
  const std::string good = small_checkpoint_bytes(dir);
  std::size_t failures = 0;
  for (std::size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x5A);
    const std::string error = load_error(dir, bad);
    if (error.empty()) continue;  // padding, unused header fields: harmless
    ++failures;
    ASSERT_EQ(error.rfind(dir / "broken.pth: ", 0), 0u) << error;
  }
  // Data and pickle bytes are covered by CRCs, so most corruptions are caught.
  EXPECT_GT(failures, good.size() / 2);
}

TEST(StoreTorchCorrupt, SpecificProblemsHaveSpecificMessages) {
  TempDir dir;
  const std::string good = small_checkpoint_bytes(dir);
  const auto expect_error = [&](const std::string& bytes, const std::string& fragment) {
    const std::string error = load_error(dir, bytes);
    EXPECT_NE(error.find(fragment), std::string::npos) << "expected '" << fragment << "' in: " << error;
  };
  // A flipped tensor byte: the storage entry's CRC.
  // (Its data starts at the first multiple of 64 after the name and 'FB'.)
  std::string bad = good;
  const auto name_at = good.find("archive/data/0");
  bad[(name_at + 14 + 4 + 63) / 64 * 64] ^= 1;
  expect_error(bad, "'archive/data/0' fails its CRC-32 check");
  // A compressed entry (method 8), which torch never writes.
  bad = good;
  bad[good.find(bytes("PK\x01\x02")) + 10] = 8;
  expect_error(bad, "'archive/data.pkl' is compressed (method 8)");
  // Not a zip at all; the legacy (pre-1.6) pickle format; an empty file.
  expect_error("just text, not a checkpoint", "no zip end record");
  expect_error(bytes("\x80\x02}q\x00."), "legacy (pre-1.6, non-zip) torch format");
  expect_error("", "not a zip archive (0 bytes)");
  // A version this reader does not know.
  TempDir other;
  write_file(other / "v.zip", "");
  const Ran r = run("python3 -c \"import zipfile,sys; z = zipfile.ZipFile(sys.argv[1], 'w'); "
                    "z.writestr('a/data.pkl', b'\\x80\\x02N.'); z.writestr('a/version', '4\\n')\" '" +
                    (other / "v.zip") + "'");
  if (r.status == 0) expect_error(read_file(other / "v.zip"), "format version 4 is newer");
  EXPECT_EQ(load_error(dir, good), "");  // the untouched file still loads
  try {
    ts::load(dir / "does-not-exist.pth");
    ADD_FAILURE();
  } catch (const ts::Error& e) {
    EXPECT_NE(std::string(e.what()).find("does-not-exist.pth: cannot open: No such file"), std::string::npos);
  }
}

// The unpickler alone, fed broken pickles (storage loads always fail, so
// tensors cannot hide problems).
std::string unpickle_error(const std::string& pickle) {
  const ts::StorageLoader no_storage = [](const std::string& key, std::size_t, const std::string&) -> c10::Storage {
    throw ts::Error("no storage " + key);
  };
  try {
    ts::unpickle(pickle, no_storage);
    return "";
  } catch (const ts::Error& e) {
    return e.what();
  }
}

TEST(StoreTorchCorrupt, UnpicklerSurvivesTruncationAndMutation) {
  TempDir dir;
  ts::save(Dict{{{"meta", runner_checkpoint().as<Dict>().find("meta")->as<Dict>()},
                 {"nums", List{{1, 2.5, -70000, std::int64_t{1} << 40}}}}},
           dir / "m.pth");
  // The pickle is the first entry's data, from offset 64 to its descriptor.
  const std::string file = read_file(dir / "m.pth");
  const std::string pickle = file.substr(64, file.find(bytes("PK\x07\x08")) - 64);
  ASSERT_EQ(unpickle_error(pickle), "");
  for (std::size_t n = 0; n < pickle.size(); ++n)
    EXPECT_NE(unpickle_error(pickle.substr(0, n)), "") << "truncated to " << n;
  std::mt19937 rng(42);
  for (int round = 0; round < 20000; ++round) {
    std::string bad = pickle;
    for (int k = 0; k < 1 + round % 4; ++k)
      bad[rng() % bad.size()] = static_cast<char>(rng() % 256);
    unpickle_error(bad);  // anything but an Error escapes and fails the test
  }
}

// A million lists, each inside the next (three bytes a level, 2 MB): the
// depth limit refuses it, and freeing the half-built graph must not recurse
// (it overflowed the stack in nested destructors from ~10^5 levels).
TEST(StoreTorchCorrupt, DeeplyNestedPickleIsAnErrorNotACrash) {
  TempDir dir;
  constexpr std::size_t levels = 1'000'000;
  write_raw_checkpoint(dir / "deep.pth", "\x80\x02" + std::string(levels, ']') + std::string(levels - 1, 'a') + ".");
  try {
    ts::load(dir / "deep.pth");
    ADD_FAILURE() << "loaded a million nested lists";
  } catch (const ts::Error& e) {
    EXPECT_EQ(std::string(e.what()), dir / "deep.pth: pickle: nesting deeper than 1000 (a cycle?)");
  }
}

TEST(StoreTorchCorrupt, UnpicklerRefusesCyclesAndOutOfBoundsViews) {
  // l = []; l.append(l): a cycle a tree cannot hold.
  EXPECT_NE(unpickle_error(bytes("\x80\x02]q\x00h\x00\x61.")).find("nesting deeper"), std::string::npos);
  // The same cycle popped before STOP is no part of the result: it loads as
  // None (and is freed: tests/fuzz/regressions/unpickle/leak-popped-cycle
  // replays it under LeakSanitizer in fuzz.smoke; the fuzzer found a leak there).
  const ts::StorageLoader none;
  EXPECT_TRUE(ts::unpickle(bytes("\x80\x02]2a0N."), none).is<ts::None>());
  // A tensor view reaching past its storage: torch._utils._rebuild_tensor_v2
  // over a 4-element storage with size (10,).
  const ts::StorageLoader four_floats = [](const std::string&, std::size_t, const std::string&) {
    return c10::Storage(c10::Storage::use_byte_size_t(), 16, c10::GetAllocator(c10::kCPU), false);
  };
  const std::string pickle = bytes(
      "\x80\x02" "ctorch._utils\n_rebuild_tensor_v2\n(" "(X\x07\x00\x00\x00storage" "ctorch\nFloatStorage\n"
      "X\x01\x00\x00\x00" "0" "X\x03\x00\x00\x00" "cpu" "K\x04tQ" "K\x00" "K\x0a\x85" "K\x01\x85" "\x89tR.");
  try {
    ts::unpickle(pickle, four_floats);
    ADD_FAILURE() << "built an out-of-bounds view";
  } catch (const ts::Error& e) {
    EXPECT_NE(std::string(e.what()).find("view reaches element 9 of a storage of 4"), std::string::npos) << e.what();
  }
}

}  // namespace
