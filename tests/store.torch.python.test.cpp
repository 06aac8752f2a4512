// ckpt_torch_store against Python's torch 1.13 and mmengine 0.10.7, both
// ways: torch.load reads our files to the same description (tensor bits
// included), zipfile accepts them, mmengine loads our state_dict into a
// module; we read torch.save's and a real Runner's files, unknown objects
// as unsupported leaves that save back into the same Python objects.
#include <ATen/ATen.h>

#include "store.torch.support.hpp"

namespace {

using namespace store_test;

Value zoo() {
  const at::Tensor w = sample({4, 6}, at::kFloat);
  Dict dtypes;
  for (auto dtype : {at::kFloat, at::kDouble, at::kHalf, at::kBFloat16, at::kLong, at::kInt, at::kShort, at::kChar,
                     at::kByte, at::kBool, at::kComplexFloat, at::kComplexDouble})
    dtypes.set(ts::python_dtype(dtype), sample({2, 3}, dtype));
  Value v = runner_checkpoint();
  Dict& d = v.as<Dict>();
  d.set("dtypes", dtypes);
  d.set("views", Dict{{{"w", w}, {"t", w.t()}, {"col", w.select(1, 1)}, {"tied", w.detach()}, {"same", w},
                       {"conj", sample({2}, at::kComplexFloat).conj()}}});
  d.set("empty", List{{at::zeros({0}), at::zeros({2, 0, 3}), at::scalar_tensor(2.5), at::scalar_tensor(7, at::kLong)}});
  d.set("grad", at::ones({2}).set_requires_grad(true));
  d.set("scalars", Tuple{{None{}, true, 0, 65536, -1, std::numeric_limits<std::int64_t>::min(), 0.1, -0.0,
                          std::numeric_limits<double>::infinity(), "héllo ✓ 𝄞", ""}});
  d.set("nested", List{{List{}, Tuple{}, Dict{}, List{{1, Tuple{{2, Dict{{{"k", List{{3}}}}}}}}}}});
  d.set("int_keys", Dict{{{0, "a"}, {-7, "b"}}});
  return v;
}

std::string python_description(const std::string& path) {
  const Ran r = python("describe '" + path + "'");
  EXPECT_EQ(r.status, 0) << r.output;
  return r.output;
}

// A real mmengine Runner's checkpoint, made once for the tests that read it.
const std::string& runner_file() {
  static TempDir dir;
  static const std::string path = [] {
    const Ran r = python("write-runner '" + dir.path + "'");
    EXPECT_EQ(r.status, 0) << r.output;
    return dir / "work/epoch_1.pth";
  }();
  return path;
}

TEST(StoreTorchPython, CppFileLoadsInPythonBitForBit) {
  SKIP_WITHOUT_PYTHON();
  TempDir dir;
  const Value v = zoo();
  ts::save(v, dir / "zoo.pth");
  EXPECT_EQ(python_description(dir / "zoo.pth"), describe(v));
}

TEST(StoreTorchPython, CppFilePassesZipfileCrcCheckWithAlignedRecords) {
  SKIP_WITHOUT_PYTHON();
  TempDir dir;
  ts::save(runner_checkpoint(), dir / "c.pth");
  const Ran r = python("zipcheck '" + (dir / "c.pth") + "'");
  ASSERT_EQ(r.status, 0) << r.output;
  std::string expected = "archive/data.pkl\n";
  for (int i = 0; i < 9; ++i) expected += "archive/data/" + std::to_string(i) + "\n";
  EXPECT_EQ(r.output, expected + "archive/version\n");
}

TEST(StoreTorchPython, E29_CppCheckpointLoadsIntoAModuleWithMmengine) {
  SKIP_WITHOUT_MMENGINE();
  TempDir dir;
  ts::save(runner_checkpoint(), dir / "epoch_3.pth");
  const Ran r = python("load-into-module '" + (dir / "epoch_3.pth") + "'");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("loaded 7 tensors"), std::string::npos) << r.output;
}

TEST(StoreTorchPython, PythonFileLoadsInCpp) {
  SKIP_WITHOUT_PYTHON();
  TempDir dir;
  const Ran made = python("write-zoo '" + dir.path + "'");
  ASSERT_EQ(made.status, 0) << made.output;
  const Value v = ts::load(dir / "zoo.pth");
  EXPECT_EQ(describe(v), python_description(dir / "zoo.pth"));

  const Dict& d = v.as<Dict>();
  const Dict& unknown = d.find("unknown")->as<Dict>();
  for (const auto& [k, cls] : std::vector<std::pair<std::string, std::string>>{
           {"big", "builtins.int"}, {"bytes", "builtins.bytes"}, {"set", "builtins.set"},
           {"counter", "collections.Counter"}})
    EXPECT_EQ(unknown.find(k)->as<ts::Unsupported>().class_name, cls) << k;
  // Views of one storage stay views of one storage.
  const Dict& views = d.find("views")->as<Dict>();
  const auto& w = views.find("w")->as<at::Tensor>();
  EXPECT_TRUE(w.storage().is_alias_of(views.find("col")->as<at::Tensor>().storage()));
  EXPECT_EQ(views.find("t")->as<at::Tensor>().strides(), at::IntArrayRef({1, 6}));
  EXPECT_TRUE(d.find("state_dict")->as<Dict>().ordered);
  EXPECT_EQ(d.find("state_dict")->as<Dict>().attributes.at(0).first, Value("_metadata"));
}

TEST(StoreTorchPython, PythonFileSavedBackByCppLoadsAsTheSameObjects) {
  SKIP_WITHOUT_PYTHON();
  TempDir dir;
  ASSERT_EQ(python("write-zoo '" + dir.path + "'").status, 0);
  ts::save(ts::load(dir / "zoo.pth"), dir / "again.pth");
  const Ran r = python("check-resaved '" + (dir / "zoo.pth") + "' '" + (dir / "again.pth") + "'");
  EXPECT_EQ(r.status, 0) << r.output;
}

TEST(StoreTorchPython, ReadsOtherZipWritersAndTorch2Records) {
  SKIP_WITHOUT_PYTHON();
  TempDir dir;
  ts::save(runner_checkpoint(), dir / "c.pth");
  ASSERT_EQ(python("rezip '" + (dir / "c.pth") + "' '" + (dir / "little.pth") + "' little").status, 0);
  EXPECT_EQ(ts::load(dir / "little.pth"), runner_checkpoint());
  ASSERT_EQ(python("rezip '" + (dir / "c.pth") + "' '" + (dir / "big.pth") + "' big").status, 0);
  EXPECT_THROW(
      try { ts::load(dir / "big.pth"); } catch (const ts::Error& e) {
        EXPECT_NE(std::string(e.what()).find("big-endian checkpoints are not supported"), std::string::npos);
        throw;
      },
      ts::Error);
}

TEST(StoreTorchPython, E29_RunnerCheckpointLoadsInCpp) {
  SKIP_WITHOUT_MMENGINE();
  const Value v = ts::load(runner_file());
  EXPECT_EQ(describe(v), python_description(runner_file()));
  const Dict& d = v.as<Dict>();
  std::vector<std::string> keys;
  for (const auto& [k, i] : d.items) keys.push_back(k.as<std::string>());
  EXPECT_EQ(keys, (std::vector<std::string>{"meta", "state_dict", "message_hub", "optimizer", "param_schedulers"}));
  const Dict& meta = d.find("meta")->as<Dict>();
  EXPECT_EQ(*meta.find("epoch"), Value(1));
  // mmengine appends the git hash of the working directory, when there is one.
  EXPECT_EQ(meta.find("mmengine_version")->as<std::string>().rfind("0.10.7", 0), 0u);
  // message_hub: HistoryBuffers are unsupported leaves with their class.
  const Dict& scalars = d.find("message_hub")->as<Dict>().find("log_scalars")->as<Dict>();
  ASSERT_FALSE(scalars.items.empty());
  for (const auto& [k, buffer] : scalars.items)
    EXPECT_EQ(buffer.as<ts::Unsupported>().class_name, "mmengine.logging.history_buffer.HistoryBuffer") << k;
  // SGD with momentum: a momentum buffer per parameter.
  const Dict& state = d.find("optimizer")->as<Dict>().find("state")->as<Dict>();
  ASSERT_EQ(state.items.size(), 4u);
  EXPECT_EQ(state.items[0].first, Value(0));
  EXPECT_TRUE(state.items[0].second.as<Dict>().find("momentum_buffer")->is<at::Tensor>());
  const Dict& scheduler = d.find("param_schedulers")->as<List>().items.at(0).as<Dict>();
  EXPECT_EQ(scheduler.find("milestones")->as<ts::Unsupported>().class_name, "collections.Counter");
}

TEST(StoreTorchPython, E29_RunnerCheckpointSavedBackByCppLoadsInMmengine) {
  SKIP_WITHOUT_MMENGINE();
  TempDir dir;
  ts::save(ts::load(runner_file()), dir / "again.pth");
  const Ran r = python("check-resaved '" + runner_file() + "' '" + (dir / "again.pth") + "'");
  EXPECT_EQ(r.status, 0) << r.output;
}

}  // namespace
