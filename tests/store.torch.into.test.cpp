// LoadOptions::into: loading into a trainer's existing tensors. Every case
// loads the same values as a plain load, into the very tensors handed over
// (direct reads, tied weights, views, non-contiguous destinations, every
// dtype, empty tensors, a Python file); mismatches fail before anything is
// read; corruption is still caught, and says destinations may be partly
// written; a large direct load allocates nothing parameter-sized.
#include <fcntl.h>
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <fstream>
#include <map>

#include "archive.hpp"
#include "staged_read.hpp"
#include "store.torch.support.hpp"

namespace {

using namespace store_test;
using DirectIo = ts::LoadOptions::DirectIo;

constexpr std::int64_t mib = 1 << 20;

std::string joined(const std::vector<Value>& keys) {
  std::ostringstream out;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    out << (i ? "." : "");
    if (keys[i].is<std::string>()) out << keys[i].as<std::string>();
    else out << keys[i];
  }
  return out.str();
}

using Destinations = std::map<std::string, at::Tensor>;

// Hands out destinations by key path; the rest load as usual.
ts::LoadOptions into(const Destinations& dests, int threads = 8, DirectIo direct = DirectIo::automatic) {
  ts::LoadOptions o;
  o.io_threads = threads;
  o.direct_io = direct;
  o.into = [&dests](const std::vector<Value>& keys, const at::Tensor&) {
    auto it = dests.find(joined(keys));
    return it == dests.end() ? at::Tensor() : it->second;
  };
  return o;
}

// The tensors reached in a tree, by key path.
void tensors_of(const Value& v, const std::string& path, std::map<std::string, at::Tensor>& out) {
  const std::string prefix = path.empty() ? "" : path + ".";
  if (v.is<at::Tensor>()) {
    out[path] = v.as<at::Tensor>();
  } else if (v.is<Dict>()) {
    for (const auto& [k, i] : v.as<Dict>().items) tensors_of(i, prefix + joined({k}), out);
  } else if (v.is<List>() || v.is<Tuple>()) {
    const auto& items = v.is<List>() ? v.as<List>().items : v.as<Tuple>().items;
    for (std::size_t i = 0; i < items.size(); ++i) tensors_of(items[i], prefix + std::to_string(i), out);
  }
}

std::map<std::string, at::Tensor> tensors_of(const Value& v) {
  std::map<std::string, at::Tensor> out;
  tensors_of(v, "", out);
  return out;
}

// Fresh, contiguous destinations for every tensor reached, filled with a
// sentinel so that a value left unread shows; leaves that require grad
// where the file's do, as a model's parameters.
Destinations fresh_like(const Value& v) {
  Destinations d;
  for (const auto& [k, t] : tensors_of(v))
    d[k] = at::empty(t.sizes(), t.options().requires_grad(false)).fill_(t.is_complex() ? 0 : 3).set_requires_grad(t.requires_grad());
  return d;
}

// Every reached tensor of `loaded` is its destination (the same tensor).
void expect_destinations_in_tree(const Value& loaded, const Destinations& dests) {
  const auto tensors = tensors_of(loaded);
  for (const auto& [k, d] : dests) {
    ASSERT_TRUE(tensors.count(k)) << k;
    EXPECT_TRUE(tensors.at(k).is_same(d)) << k << " is not the destination handed over";
  }
}

std::string load_error(const std::string& path, const ts::LoadOptions& o) {
  try {
    ts::load(path, o);
    return "";
  } catch (const ts::Error& e) {
    return e.what();
  }
}

// Whole storages of several size classes (small runs, one-piece, multi-piece,
// not multiples of a block), none shared: every one can go direct.
Value solo_tensors() {
  Dict d{{}, true};
  d.set("big", sample({(9 * mib + 12'345) / 4}, at::kFloat, 0.011));
  d.set("scalar", at::scalar_tensor(7, at::kLong));
  d.set("tiny", sample({3}, at::kHalf));
  d.set("k100", sample({100 * 1024}, at::kByte));
  d.set("k300", sample({300 * 1024 / 4 + 1}, at::kFloat, 0.2));
  for (int i = 0; i < 4; ++i) d.set("m" + std::to_string(i), sample({(3 * mib + 1000 * i + 2) / 2}, at::kShort, 0.3 + i));
  for (int i = 0; i < 40; ++i) d.set("s" + std::to_string(i), sample({(i * 7919) % (60 * 1024) + 1}, at::kByte, 0.01 * i));
  return d;
}

// One page-aligned arena; destination j starts 64 * ((j + shift) % 8) bytes
// into its own pages, so that over the 8 shifts each destination is once
// congruent to its record modulo 512 (O_DIRECT into place) and otherwise
// not (through the bounce buffer).
struct Arena {
  std::vector<char> memory;
  Destinations dests;
  Arena(const Value& v, int shift) {
    const auto tensors = tensors_of(v);
    std::size_t total = 0;
    for (const auto& [k, t] : tensors) total += (t.nbytes() + 2 * 4096) / 4096 * 4096;
    memory.assign(total + 4096, '\x55');
    char* at = memory.data() + (4096 - reinterpret_cast<std::uintptr_t>(memory.data()) % 4096) % 4096;
    int j = 0;
    for (const auto& [k, t] : tensors) {
      char* p = at + 64 * ((j++ + shift) % 8);
      dests[k] = at::from_blob(p, t.sizes(), t.options());
      at += (t.nbytes() + 2 * 4096) / 4096 * 4096;
    }
  }
};

TEST(StoreTorchInto, WholeStoragesLandInTheCallersTensorsForEveryThreadCountAndIoPath) {
  TempDir dir;
  const Value v = solo_tensors();
  ts::save(v, dir / "x.pth");
  for (int shift = 0; shift < 8; ++shift)
    for (int threads : {1, 8})
      for (DirectIo direct : {DirectIo::on, DirectIo::off, DirectIo::automatic}) {
        Arena arena(v, shift);
        std::map<std::string, void*> before;
        for (const auto& [k, t] : arena.dests) before[k] = t.data_ptr();
        const Value back = ts::load(dir / "x.pth", into(arena.dests, threads, direct));
        EXPECT_EQ(back, v) << "shift " << shift << ", " << threads << " threads, direct " << static_cast<int>(direct);
        expect_destinations_in_tree(back, arena.dests);
        for (const auto& [k, t] : arena.dests) EXPECT_EQ(t.data_ptr(), before[k]) << k;
      }
}

TEST(StoreTorchInto, TiedWeightsViewsAndNonContiguousDestinationsGetTheSameValues) {
  TempDir dir;
  const at::Tensor w = sample({4, 6}, at::kFloat);
  Value v = Dict{{{"w", w},
                        {"tied", w},               // the same tensor twice
                        {"alias", w.detach()},     // another tensor over the same storage
                        {"col", w.select(1, 1)},   // a view
                        {"t", w.t()},              // non-contiguous in the file
                        {"solo", sample({5, 7}, at::kDouble)},
                        {"own", sample({6}, at::kInt)},
                        {"u", sample({3000}, at::kFloat)},
                        {"u_alias", Tuple{{}}}}};
  // u's storage has one destination and a second user that has none.
  v.as<Dict>().set("u_alias", v.as<Dict>().find("u")->as<at::Tensor>().detach());
  ts::save(v, dir / "x.pth");
  Destinations dests = fresh_like(v);
  dests.erase("u_alias");
  dests["solo"] = at::empty({7, 5}, at::kDouble).t();  // a non-contiguous destination
  ASSERT_FALSE(dests["solo"].is_contiguous());
  for (int threads : {1, 8})
    for (DirectIo direct : {DirectIo::on, DirectIo::off}) {
      for (auto& [k, t] : dests) t.fill_(-1);
      const Value back = ts::load(dir / "x.pth", into(dests, threads, direct));
      EXPECT_EQ(back, v);
      expect_destinations_in_tree(back, dests);
    }
  // The destinations are the caller's own: tied in the file, not in memory.
  EXPECT_FALSE(dests["w"].is_alias_of(dests["tied"]));
}

TEST(StoreTorchInto, EveryDtypeAndEmptyTensorsLoadIntoDestinations) {
  TempDir dir;
  Dict d;
  for (auto dtype : {at::kFloat, at::kDouble, at::kHalf, at::kBFloat16, at::kLong, at::kInt, at::kShort, at::kChar,
                     at::kByte, at::kBool, at::kComplexFloat})
    d.set(ts::python_dtype(dtype), sample({300, 301}, dtype));
  d.set("empty", List{{at::zeros({0}), at::zeros({2, 0, 3}, at::kLong), at::scalar_tensor(2.5)}});
  const Value v = d;
  ts::save(v, dir / "x.pth");
  const Destinations dests = fresh_like(v);
  const Value back = ts::load(dir / "x.pth", into(dests));
  EXPECT_EQ(back, v);
  expect_destinations_in_tree(back, dests);
}

TEST(StoreTorchInto, PythonTorchSaveFileLoadsIntoDestinations) {
  SKIP_WITHOUT_PYTHON();
  TempDir dir;
  ASSERT_EQ(python("write-zoo '" + dir.path + "'").status, 0);
  const Value plain = ts::load(dir / "zoo.pth");
  const Destinations dests = fresh_like(plain);
  const Value back = ts::load(dir / "zoo.pth", into(dests));
  EXPECT_EQ(back, plain);
  expect_destinations_in_tree(back, dests);
  EXPECT_EQ(describe(back), describe(plain));  // requires_grad included
}

TEST(StoreTorchInto, KeysLeadFromTheRootWithIntKeysAndPositions) {
  TempDir dir;
  Value v = runner_checkpoint();
  v.as<Dict>().set("nested", List{{at::ones({1}), Tuple{{at::zeros({2})}}}});
  ts::save(v, dir / "x.pth");
  std::vector<std::vector<Value>> seen;
  ts::LoadOptions o;
  o.into = [&](const std::vector<Value>& keys, const at::Tensor& described) {
    seen.push_back(keys);
    EXPECT_TRUE(described.defined());
    return at::Tensor();
  };
  EXPECT_EQ(ts::load(dir / "x.pth", o), v);
  const std::vector<Value> momentum{"optimizer", "state", 0, "momentum_buffer"};
  EXPECT_NE(std::find(seen.begin(), seen.end(), momentum), seen.end());
  EXPECT_NE(std::find(seen.begin(), seen.end(), std::vector<Value>{"nested", 1, 0}), seen.end());
  EXPECT_NE(std::find(seen.begin(), seen.end(), std::vector<Value>{"state_dict", "lin.weight"}), seen.end());
  EXPECT_EQ(seen.size(), 7u + 2u + 2u);  // state_dict, optimizer state, nested
}

TEST(StoreTorchInto, MismatchedDestinationIsAnErrorBeforeAnythingIsRead) {
  TempDir dir;
  const Value v = runner_checkpoint();
  const std::string path = dir / "c.pth";
  ts::save(v, path);
  const auto expect_untouched = [](const Destinations& dests) {
    for (const auto& [k, t] : dests)
      if (t.numel() > 0) EXPECT_TRUE(t.eq(3).all().item<bool>()) << k << " was written";
  };
  Destinations dests = fresh_like(v);
  dests["state_dict.lin.weight"] = at::full({2, 3}, 3, at::kDouble);
  EXPECT_EQ(load_error(path, into(dests)), path + ": into: 'state_dict.lin.weight' is float32 [2, 3] in the file, "
                                                  "the destination is float64 [2, 3]; nothing was read");
  expect_untouched(dests);
  dests = fresh_like(v);
  dests["optimizer.state.0.momentum_buffer"] = at::full({3, 2}, 3, at::kFloat);
  EXPECT_EQ(load_error(path, into(dests)), path + ": into: 'optimizer.state.0.momentum_buffer' is float32 [2, 3] in "
                                                  "the file, the destination is float32 [3, 2]; nothing was read");
  expect_untouched(dests);
  dests = fresh_like(v);
  dests["state_dict.lin.bias"] = at::full({2}, 3, at::TensorOptions().device(at::kMeta));
  EXPECT_NE(load_error(path, into(dests)).find("into: 'state_dict.lin.bias' gets a destination on meta"),
            std::string::npos);
}

TEST(StoreTorchInto, FlippedByteIsCaughtAndSaysDestinationsMayBePartlyWritten) {
  TempDir dir;
  const Value v = solo_tensors();
  const std::string path = dir / "x.pth";
  ts::save(v, path);
  std::string file = read_file(path);
  const at::Tensor& big = v.as<Dict>().find("big")->as<at::Tensor>();
  const std::size_t at = file.find(std::string(static_cast<const char*>(big.data_ptr()) + big.nbytes() / 2, 64));
  ASSERT_NE(at, std::string::npos);
  file[at + 5] ^= 0x10;
  write_file(path, file);
  for (int threads : {1, 8})
    for (DirectIo direct : {DirectIo::on, DirectIo::off}) {
      const Destinations dests = fresh_like(v);
      EXPECT_EQ(load_error(path, into(dests, threads, direct)),
                path + ": entry 'archive/data/0' fails its CRC-32 check (corrupt file); "
                       "the destination tensors may have been partly overwritten");
      ts::LoadOptions unchecked = into(dests, threads, direct);
      unchecked.verify_crc = false;
      EXPECT_NE(ts::load(path, unchecked), v);
    }
}

// A file that shrinks once the pickle is parsed: the reads into the
// destinations hit its end.
TEST(StoreTorchInto, FileShrinkingUnderTheReadIsAnErrorThatSaysSo) {
  TempDir dir;
  const Value v = solo_tensors();
  const std::string path = dir / "x.pth";
  ts::save(v, path);
  const Destinations dests = fresh_like(v);
  ts::LoadOptions o = into(dests);
  const ts::Into hand_out = o.into;
  bool cut = false;
  o.into = [&](const std::vector<Value>& keys, const at::Tensor& described) {
    if (!cut) cut = ::truncate(path.c_str(), 5 * mib) == 0;
    return hand_out(keys, described);
  };
  const std::string error = load_error(path, o);
  ASSERT_TRUE(cut);
  EXPECT_NE(error.find("unexpected end of file (truncated?)"), std::string::npos) << error;
  EXPECT_NE(error.find("; the destination tensors may have been partly overwritten"), std::string::npos) << error;
}

TEST(StoreTorchInto, MmapAndIntoDoNotCombine) {
  TempDir dir;
  ts::save(runner_checkpoint(), dir / "c.pth");
  ts::LoadOptions o;
  o.mmap = true;
  o.into = [](const std::vector<Value>&, const at::Tensor&) { return at::Tensor(); };
  EXPECT_EQ(load_error(dir / "c.pth", o),
            dir / "c.pth: LoadOptions::mmap and LoadOptions::into do not combine (mapped tensors are the file's "
                  "pages; into fills the caller's tensors)");
}

// Undefined, the described tensor itself, or a view of it: the loader
// allocates as it would without `into`.
TEST(StoreTorchInto, UndefinedOrDescribedReturnsLetTheLoaderAllocate) {
  TempDir dir;
  const Value v = solo_tensors();
  ts::save(v, dir / "x.pth");
  ts::LoadOptions o;
  int calls = 0;
  o.into = [&](const std::vector<Value>&, const at::Tensor& described) {
    switch (calls++ % 3) {
      case 0: return at::Tensor();
      case 1: return described;
      default: return described.view(described.sizes());
    }
  };
  EXPECT_EQ(ts::load(dir / "x.pth", o), v);
  EXPECT_EQ(calls, static_cast<int>(tensors_of(v).size()));
}

// Parameters are leaves that require grad: filled all the same, their
// version counted as for copy_, requires_grad kept.
TEST(StoreTorchInto, LeavesThatRequireGradAreFilledAndTheirVersionCounted) {
  TempDir dir;
  const Value v = Dict{{{"weight", sample({64, 1024}, at::kFloat)}, {"bias", sample({64}, at::kFloat)}}};
  ts::save(v, dir / "x.pth");
  Destinations dests{{"weight", at::zeros({64, 1024}).set_requires_grad(true)},
                     {"bias", at::zeros({64}).set_requires_grad(true)}};
  const auto versions = [&] { return dests["weight"]._version() + dests["bias"]._version(); };
  const auto before = versions();
  const Value back = ts::load(dir / "x.pth", into(dests));
  EXPECT_EQ(back, v);
  EXPECT_TRUE(dests["weight"].requires_grad() && dests["bias"].requires_grad());
  EXPECT_EQ(versions(), before + 2);
  dests["weight"] = at::zeros({1024, 64}).t().set_requires_grad(true);  // non-contiguous: copy_
  EXPECT_EQ(ts::load(dir / "x.pth", into(dests)), v);
}

long status_kib(const char* field) {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind(field, 0) == 0) return std::stol(line.substr(std::strlen(field)));
  return -1;
}

// The point of `into`: 96 MiB of parameters load into the existing tensors
// with no parameter-sized allocation: the destinations keep their memory
// and the process's peak RSS grows by the reading threads' buffers at most.
TEST(StoreTorchInto, LargeDirectLoadAllocatesNothingParameterSized) {
  TempDir dir;
  Dict d{{}, true};
  for (int i = 0; i < 12; ++i) d.set("layer" + std::to_string(i) + ".weight", sample({2 * mib + 1000 * i}, at::kFloat));
  for (int i = 0; i < 12; ++i) d.set("layer" + std::to_string(i) + ".bias", sample({1000 + i}, at::kFloat));
  const Value v = d;
  ts::save(v, dir / "big.pth");
  Destinations dests = fresh_like(v);  // allocated and touched: resident
  std::map<std::string, void*> before;
  for (const auto& [k, t] : dests) before[k] = t.data_ptr();
  for (DirectIo direct : {DirectIo::on, DirectIo::off}) {
    ::malloc_trim(0);  // free memory already resident would hide a fresh allocation
    std::ofstream("/proc/self/clear_refs") << "5";  // resets the peak RSS to the current RSS
    const long rss0 = status_kib("VmRSS:");
    if (status_kib("VmHWM:") > rss0 + 1024) GTEST_SKIP() << "cannot reset the peak RSS here";
    const Value back = ts::load(dir / "big.pth", into(dests, 8, direct));
    const long extra_mib = (status_kib("VmHWM:") - rss0) / 1024;
    EXPECT_LT(extra_mib, 48) << "direct " << static_cast<int>(direct);  // 8 threads x a 4 MiB buffer, and slack
    RecordProperty(direct == DirectIo::on ? "peak_extra_rss_mib_direct" : "peak_extra_rss_mib_buffered",
                   static_cast<int>(extra_mib));
    EXPECT_EQ(back, v);
    for (const auto& [k, t] : dests) EXPECT_EQ(t.data_ptr(), before[k]) << k;
  }
}

// The CUDA routes: a whole storage straight into a device tensor, tied
// weights and views through a device temporary, a storage also used on the
// CPU through host memory; all through the pinned staging buffer.
TEST(StoreTorchInto, CudaDestinationsGetTheSameValues) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  TempDir dir;
  const at::Tensor w = sample({300, 200}, at::kFloat);
  const Value v = Dict{{{"big", sample({25 * mib + 3}, at::kFloat)},  // more than the 64 MiB buffer
                        {"w", w},
                        {"tied", w.detach()},
                        {"col", w.select(1, 3)},
                        {"half", sample({7}, at::kHalf)},
                        {"empty", at::zeros({0})},
                        {"cpu_view", sample({10, 10}, at::kDouble)}}};
  ts::save(v, dir / "x.pth");
  Destinations dests;
  for (const auto& [k, t] : tensors_of(v)) dests[k] = at::zeros(t.sizes(), t.options().device(at::kCUDA));
  dests["cpu_view"] = at::zeros({10, 10}, at::kDouble).t();
  const Value back = ts::load(dir / "x.pth", into(dests));
  expect_destinations_in_tree(back, dests);
  for (const auto& [k, t] : tensors_of(back)) EXPECT_EQ(Value(t.cpu()), *v.as<Dict>().find(k)) << k;
}

// The staged reader alone, on CPU destinations through a 1 MiB buffer:
// storages larger than the buffer, empty ones and runs of small ones; then
// a flipped byte in one of them.
TEST(StoreTorchInto, StagedReaderStreamsStoragesThroughASmallBuffer) {
  TempDir dir;
  const std::string path = dir / "x.pth";
  ts::save(Dict{{{"a", sample({(3 * mib + 5) / 4}, at::kFloat)},
                 {"b", at::zeros({0})},
                 {"c", sample({100}, at::kByte)},
                 {"d", sample({700 * 1024}, at::kByte)},
                 {"e", sample({3}, at::kLong)}}},
           path);
  const auto read_all = [&](const std::string& file) {
    const ts::detail::File f(file, false);
    const ts::detail::Archive archive(f, true);
    std::vector<ts::detail::StagedStorage> storages;
    for (const auto& [name, e] : archive.entries())
      if (name.find("/data/") != std::string::npos)
        storages.push_back({&e, archive.data_offset(e), at::full({static_cast<std::int64_t>(e.size)}, 7, at::kByte)});
    std::sort(storages.begin(), storages.end(), [](auto& x, auto& y) { return x.offset < y.offset; });
    std::vector<char> staging(mib + 8192);
    char* aligned = staging.data() + (4096 - reinterpret_cast<std::uintptr_t>(staging.data()) % 4096) % 4096;
    ts::detail::read_staged(archive, storages, aligned, mib, {8, DirectIo::on, true});
    const std::string bytes = read_file(file);
    for (const auto& s : storages)
      EXPECT_EQ(std::string(static_cast<const char*>(s.bytes.data_ptr()), s.entry->size), bytes.substr(s.offset, s.entry->size))
          << s.entry->name;
    return storages.size();
  };
  EXPECT_EQ(read_all(path), 5u);
  std::string file = read_file(path);
  file[file.size() / 2] ^= 1;  // inside "a", the largest
  write_file(dir / "bad.pth", file);
  try {
    read_all(dir / "bad.pth");
    ADD_FAILURE() << "no CRC error";
  } catch (const ts::Error& e) {
    EXPECT_EQ(std::string(e.what()), "entry 'archive/data/0' fails its CRC-32 check (corrupt file)");
  }
}

}  // namespace
