// ckpt_torch_store, C++ save -> C++ load: every value kind comes back equal
// (tensors bit for bit), shared storage stays shared, and what pickle
// cannot express is refused with an Error instead of a broken file.
#include <fcntl.h>
#include <unistd.h>

#include "ckpt/store/torch/handle.hpp"
#include "store.torch.support.hpp"

namespace {

using namespace store_test;

Value round_trip(const Value& v, const ts::LoadOptions& options = {}) {
  TempDir dir;
  ts::save(v, dir / "x.pth");
  return ts::load(dir / "x.pth", options);
}

TEST(StoreTorch, E29_RunnerCheckpointRoundTrips) {
  const Value ckpt = runner_checkpoint();
  const Value back = round_trip(ckpt);
  EXPECT_EQ(back, ckpt);
  EXPECT_EQ(describe(back), describe(ckpt));
}

TEST(StoreTorch, EveryDtypeRoundTripsBitForBit) {
  Dict d;
  for (auto dtype : {at::kFloat, at::kDouble, at::kHalf, at::kBFloat16, at::kLong, at::kInt, at::kShort, at::kChar,
                     at::kByte, at::kBool, at::kComplexFloat, at::kComplexDouble})
    d.set(ts::python_dtype(dtype), sample({3, 5}, dtype));
  // Bit patterns that value comparison would blur: NaN payloads, -0.0.
  d.set("nan_payload", at::tensor(std::vector<std::int32_t>{0x7fc00123, std::numeric_limits<std::int32_t>::min()})
                           .view(at::kFloat));
  const Value back = round_trip(d);
  EXPECT_EQ(back, Value(d));
  EXPECT_EQ(describe(back), describe(d));
  for (const auto& [k, t] : back.as<Dict>().items) EXPECT_TRUE(t.as<at::Tensor>().is_contiguous()) << k;
}

TEST(StoreTorch, EmptyAndZeroDimTensors) {
  const Value v = List{{at::zeros({0}), at::zeros({2, 0, 3}, at::kLong), at::scalar_tensor(2.5),
                        at::scalar_tensor(true, at::kBool), at::empty({0, 4}, at::kBFloat16)}};
  const Value back = round_trip(v);
  EXPECT_EQ(back, v);
  EXPECT_EQ(back.as<List>().items[1].as<at::Tensor>().sizes(), at::IntArrayRef({2, 0, 3}));
  EXPECT_EQ(back.as<List>().items[2].as<at::Tensor>().dim(), 0);
}

TEST(StoreTorch, NonContiguousTensorsAreSavedContiguous) {
  const at::Tensor w = sample({4, 6}, at::kFloat);
  const Value v = Dict{{{"t", w.t()}, {"step", w.slice(1, 0, 6, 2)}, {"col", w.select(1, 1)},
                        {"expanded", at::ones({3}).expand({2, 3})},
                        {"conj", sample({2, 2}, at::kComplexFloat).conj()}}};
  const Value back = round_trip(v);
  EXPECT_EQ(back, v);
  for (const auto& [k, t] : back.as<Dict>().items) EXPECT_TRUE(t.as<at::Tensor>().is_contiguous()) << k;
}

TEST(StoreTorch, StructureRoundTrips) {
  const Value inner = Tuple{{3, Dict{{{"k", List{{4}}}}}}};
  const Value nested = List{{List{}, Tuple{}, Dict{}, List{{1, List{{2, inner}}}}}};
  Dict odict{{{"b", 1}, {"a", 2}}, /*ordered=*/true,
             /*attributes=*/{{"_metadata", Dict{{{"", Dict{{{"version", 1}}}}}, true}}}};
  const Value v = Dict{{
      {"ints", List{{0, 255, 256, 65535, 65536, -1, std::int64_t{-2147483648LL}, std::int64_t{2147483648LL},
                     std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()}}},
      {"floats", Tuple{{0.1, -0.0, std::numeric_limits<double>::infinity(), std::nan(""), 1e300}}},
      {"flags", Tuple{{true, false, None{}}}},
      {"unicode ✓ 𝄞 中文", "héllo\n\"quoted\"\\"},
      {"", ""},
      {"nested", nested},
      {"int_keys", Dict{{{0, "a"}, {-7, "b"}, {true, "c"}, {None{}, "d"}}}},
      {"ordered", odict},
      {"long_list", List{std::vector<Value>(2500, Value(7))}},
  }};
  const Value back = round_trip(v);
  EXPECT_EQ(back, v);
  EXPECT_EQ(describe(back), describe(v));
}

TEST(StoreTorch, TiedTensorsShareOneStorage) {
  const at::Tensor w = sample({3, 4}, at::kFloat);
  const Value v = Dict{{{"embed.weight", w}, {"head.weight", w.detach()}, {"same", w}, {"part", w[1]}}};
  TempDir dir;
  ts::save(v, dir / "tied.pth");
  const Value back = ts::load(dir / "tied.pth");
  const Dict& d = back.as<Dict>();
  const auto& embed = d.find("embed.weight")->as<at::Tensor>();
  // Views of the same contiguous bytes share a storage, like torch.save.
  EXPECT_EQ(embed.data_ptr(), d.find("head.weight")->as<at::Tensor>().data_ptr());
  // The same tensor object twice is one object (the pickle memo).
  EXPECT_TRUE(embed.is_same(d.find("same")->as<at::Tensor>()));
  // A slice of another region is its own contiguous storage.
  EXPECT_NE(embed.data_ptr(), d.find("part")->as<at::Tensor>().data_ptr());
  EXPECT_EQ(back, v);
}

TEST(StoreTorch, RequiresGradRoundTrips) {
  const at::Tensor p = at::ones({2}).set_requires_grad(true);
  const Value back = round_trip(List{{p, at::ones({2})}});
  EXPECT_TRUE(back.as<List>().items[0].as<at::Tensor>().requires_grad());
  EXPECT_FALSE(back.as<List>().items[1].as<at::Tensor>().requires_grad());
}

TEST(StoreTorch, MappedLoadEqualsReadLoadAndIsCopyOnWrite) {
  TempDir dir;
  const Value ckpt = runner_checkpoint();
  ts::save(ckpt, dir / "c.pth");
  const std::string bytes = read_file(dir / "c.pth");
  ts::LoadOptions options;
  options.mmap = true;
  Value mapped = ts::load(dir / "c.pth", options);
  EXPECT_EQ(mapped, ckpt);
  mapped.as<Dict>().find("state_dict")->as<Dict>().find("lin.weight")->as<at::Tensor>().fill_(3);
  EXPECT_EQ(read_file(dir / "c.pth"), bytes);
}

TEST(StoreTorch, CudaTensorsStreamThroughPinnedStaging) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  // More than the 64 MiB staging buffer: several slices and a remainder.
  const Value cpu = Dict{{{"big", sample({25 * 1024 * 1024 + 3}, at::kFloat)},
                          {"transposed", sample({300, 200}, at::kBFloat16).t()},
                          {"half", sample({7}, at::kHalf)},
                          {"empty", at::zeros({0})}}};
  Dict gpu;
  for (const auto& [k, t] : cpu.as<Dict>().items) gpu.items.emplace_back(k, t.as<at::Tensor>().to(at::kCUDA));
  ASSERT_FALSE(gpu.find("transposed")->as<at::Tensor>().is_contiguous());
  TempDir dir;
  ts::save(gpu, dir / "gpu.pth");
  EXPECT_EQ(ts::load(dir / "gpu.pth"), cpu);
  // Like torch.save, the persistent ids name the tensors' device.
  EXPECT_NE(read_file(dir / "gpu.pth").find("cuda:0"), std::string::npos);
  if (python_available()) {
    const Ran r = python("describe '" + (dir / "gpu.pth") + "'");
    EXPECT_EQ(r.output, describe(cpu));
  }
}

TEST(StoreTorch, SaveToDescriptorAndPipe) {
  TempDir dir;
  const Value ckpt = runner_checkpoint();
  // The writer never seeks: a pipe works (drained by cat into a file).
  FILE* cat = ::popen(("cat > '" + (dir / "piped.pth") + "'").c_str(), "w");
  ASSERT_NE(cat, nullptr);
  ts::save(ckpt, ::fileno(cat));
  ASSERT_EQ(::pclose(cat), 0);
  EXPECT_EQ(ts::load(dir / "piped.pth"), ckpt);
  ts::save(ckpt, dir / "path.pth");
  EXPECT_EQ(read_file(dir / "piped.pth"), read_file(dir / "path.pth"));
}

TEST(StoreTorch, UnsavableValuesAreErrorsAndLeaveNoFile) {
  TempDir dir;
  const auto refuses = [&](const Value& v, const std::string& what) {
    try {
      ts::save(Dict{{{"x", v}}}, dir / "bad.pth");
      ADD_FAILURE() << "saved " << what;
    } catch (const ts::Error& e) {
      EXPECT_NE(std::string(e.what()).find(dir / "bad.pth"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(exists(dir / "bad.pth")) << what;
  };
  refuses(at::Tensor(), "an undefined tensor");
  refuses(at::ones({2, 2}).to_sparse(), "a sparse tensor");
  refuses(ts::Unsupported{"numpy.ndarray", nullptr}, "an unsupported leaf without a recipe");
  EXPECT_THROW(ts::save(Value(1), dir / "x.pth", ts::SaveOptions{"a/b"}), ts::Error);
}

TEST(StoreTorch, ArchiveNameIsTheFolderInTheZip) {
  TempDir dir;
  ts::save(runner_checkpoint(), dir / "n.pth", ts::SaveOptions{"epoch_3"});
  EXPECT_NE(read_file(dir / "n.pth").find("epoch_3/data.pkl"), std::string::npos);
  EXPECT_EQ(ts::load(dir / "n.pth"), runner_checkpoint());
}

TEST(StoreTorch, MetaAsJson) {
  const Value meta = Dict{{{"epoch", 3}, {"lr", 0.1}, {"one", 1.0}, {"nan", std::nan("")}, {"s", "a\"b\n"},
                           {"none", None{}}, {"t", Tuple{{1, true}}}, {2, "int key"},
                           {"w", at::zeros({2, 3})}, {"o", ts::Unsupported{"numpy.ndarray", nullptr}}}};
  EXPECT_EQ(ts::to_json(meta),
            R"({"epoch": 3, "lr": 0.1, "one": 1.0, "nan": NaN, "s": "a\"b\n", "none": null, "t": [1, true], )"
            R"("2": "int key", "w": {"__tensor__": {"dtype": "float32", "shape": [2, 3]}}, )"
            R"("o": {"__object__": "numpy.ndarray"}})");
}

TEST(StoreTorch, NarrowApi) {
  TempDir dir;
  ts::save(runner_checkpoint(), dir / "c.pth");
  const ts::LoadedSummary s = ts::load_summary(dir / "c.pth");
  ASSERT_EQ(s.error, "");
  EXPECT_EQ(s.summary.top_level_keys,
            (std::vector<std::string>{"meta", "state_dict", "message_hub", "optimizer", "param_schedulers"}));
  EXPECT_EQ(s.summary.tensor_count, 9u);
  EXPECT_EQ(s.summary.tensor_bytes, 4u * (6 + 2 + 2 + 2 + 2 + 2 + 6 + 2) + 8u);
  EXPECT_EQ(s.summary.meta_json.substr(0, 24), R"({"epoch": 3, "iter": 120)");

  const ts::LoadedHandle h = ts::load_handle(dir / "c.pth");
  ASSERT_EQ(h.error, "");
  EXPECT_EQ(ts::summarize(h.handle), s.summary);
  EXPECT_EQ(ts::value_of(h.handle), runner_checkpoint());
  const int fd = ::open((dir / "again.pth").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  EXPECT_EQ(ts::save_handle(h.handle, fd), "");
  ::close(fd);
  EXPECT_EQ(read_file(dir / "again.pth"), read_file(dir / "c.pth"));

  EXPECT_NE(ts::load_handle(dir / "missing.pth").error.find("missing.pth: cannot open"), std::string::npos);
  EXPECT_NE(ts::save_handle(ts::Handle(), 1), "");
}

}  // namespace
