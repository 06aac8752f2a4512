// Background saves (async.hpp): the file is byte for byte the synchronous
// save's, it holds the state as it was when save() returned, at most one
// write is in flight (a second save waits or is refused), and errors reach
// the caller. A gated destination makes "in flight" deterministic.
#include <chrono>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>

#include "ckpt/store/torch/async.hpp"
#include "ckpt/store/torch/sink.hpp"
#include "store.torch.support.hpp"

namespace {

using namespace store_test;
using Busy = ts::AsyncSaveOptions::WhenBusy;

// Collects archives in memory; each write blocks until open() (once per
// write) and then optionally fails.
class Gate {
 public:
  ts::Destination destination() {
    return [this](const std::string& path, const std::function<void(ts::Sink&)>& write) {
      std::unique_lock<std::mutex> lock(mutex_);
      ++started_;
      changed_.notify_all();
      changed_.wait(lock, [&] { return opened_ > 0; });
      --opened_;
      if (fail_) throw std::runtime_error("disk full (simulated)");
      lock.unlock();
      MemorySink sink;
      write(sink);
      lock.lock();
      files_[path] = std::move(sink.bytes);
    };
  }
  void open(int writes = 1) {
    std::lock_guard<std::mutex> lock(mutex_);
    opened_ += writes;
    changed_.notify_all();
  }
  void wait_started(int n) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return started_ >= n; });
  }
  void fail_next() { fail_ = true; }
  std::map<std::string, std::string> files() {
    std::lock_guard<std::mutex> lock(mutex_);
    return files_;
  }

 private:
  struct MemorySink final : ts::Sink {
    std::string bytes;
    void write(const void* data, std::size_t n) override { bytes.append(static_cast<const char*>(data), n); }
  };
  std::mutex mutex_;
  std::condition_variable changed_;
  int started_ = 0, opened_ = 0;
  bool fail_ = false;
  std::map<std::string, std::string> files_;
};

ts::AsyncSaveOptions gated(Gate& gate, Busy busy = Busy::wait) {
  ts::AsyncSaveOptions o;
  o.when_busy = busy;
  o.destination = gate.destination();
  return o;
}

// Tied weights (one storage), a strided view, a bfloat16 and an empty tensor:
// the layouts the snapshot must reproduce exactly as the pickler sees them.
Value awkward_checkpoint() {
  Value v = runner_checkpoint();
  const at::Tensor shared = sample({64, 33}, at::kFloat);
  Dict extra{{{"tied.a", shared}, {"tied.b", shared.view({33, 64})},
              {"strided", sample({40, 30}, at::kBFloat16).t()}, {"empty", at::zeros({0})},
              {"big", sample({3 << 20}, at::kFloat, 0.01)}}};
  v.as<Dict>().set("extra", extra);
  return v;
}

TEST(StoreTorchAsync, WritesTheBytesTheSynchronousSaveWrites) {
  TempDir dir;
  const Value ckpt = awkward_checkpoint();
  ts::save(ckpt, dir / "sync.pth");
  ts::AsyncSaver saver;
  ASSERT_TRUE(saver.save(ckpt, dir / "async.pth"));
  saver.wait();
  EXPECT_FALSE(saver.in_flight());
  EXPECT_EQ(read_file(dir / "async.pth"), read_file(dir / "sync.pth"));
  EXPECT_EQ(ts::load(dir / "async.pth"), ckpt);
  // Temporary file renamed away: only the two checkpoints remain.
  EXPECT_EQ(files_in(dir.path), (std::vector<std::string>{"async.pth", "sync.pth"}));
}

std::string sync_bytes(const Value& v) {
  struct Memory final : ts::Sink {
    std::string bytes;
    void write(const void* data, std::size_t n) override { bytes.append(static_cast<const char*>(data), n); }
  } sink;
  ts::save(v, sink);
  return sink.bytes;
}

at::Tensor& tensor_at(Value& ckpt, const std::string& key) {
  return ckpt.as<Dict>().find("extra")->as<Dict>().find(key)->as<at::Tensor>();
}

TEST(StoreTorchAsync, FileHoldsTheStateAsItWasWhenSaveReturned) {
  Gate gate;
  ts::AsyncSaver saver(gated(gate));
  Value ckpt = awkward_checkpoint();
  const std::string expected = sync_bytes(ckpt);
  ASSERT_TRUE(saver.save(ckpt, "a.pth"));
  gate.wait_started(1);
  // Training goes on: parameters change in place, entries are replaced.
  tensor_at(ckpt, "big").fill_(-1);
  tensor_at(ckpt, "tied.a").zero_();
  ckpt.as<Dict>().set("meta", "changed");
  gate.open();
  saver.wait();
  EXPECT_EQ(gate.files().at("a.pth"), expected);
  EXPECT_NE(sync_bytes(ckpt), expected);
}

TEST(StoreTorchAsync, SecondSaveWaitsForTheOneInFlight) {
  Gate gate;
  ts::AsyncSaver saver(gated(gate, Busy::wait));
  Value ckpt = awkward_checkpoint();
  const std::string first = sync_bytes(ckpt);
  ASSERT_TRUE(saver.save(ckpt, "a.pth"));
  gate.wait_started(1);
  EXPECT_TRUE(saver.in_flight());
  tensor_at(ckpt, "big").fill_(2);
  const std::string second = sync_bytes(ckpt);
  auto next = std::async(std::launch::async, [&] { return saver.save(ckpt, "b.pth"); });
  EXPECT_EQ(next.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout)
      << "a second save started while the first was in flight";
  gate.open(2);
  EXPECT_TRUE(next.get());
  saver.wait();
  const auto files = gate.files();
  EXPECT_EQ(files.at("a.pth"), first);
  EXPECT_EQ(files.at("b.pth"), second);
}

TEST(StoreTorchAsync, RefusePolicyLeavesTheSaveInFlightAlone) {
  Gate gate;
  ts::AsyncSaver saver(gated(gate, Busy::refuse));
  const Value ckpt = awkward_checkpoint();
  ASSERT_TRUE(saver.save(ckpt, "a.pth"));
  gate.wait_started(1);
  EXPECT_FALSE(saver.save(runner_checkpoint(), "b.pth"));
  gate.open();
  saver.wait();
  EXPECT_EQ(gate.files().size(), 1u);
  EXPECT_EQ(gate.files().at("a.pth"), sync_bytes(ckpt));
  // Once the first is written, the next is accepted.
  gate.open();
  EXPECT_TRUE(saver.save(runner_checkpoint(), "b.pth"));
  saver.wait();
  EXPECT_EQ(gate.files().at("b.pth"), sync_bytes(runner_checkpoint()));
}

TEST(StoreTorchAsync, BackgroundFailureReachesWaitOnce) {
  Gate gate;
  ts::AsyncSaver saver(gated(gate));
  gate.fail_next();
  gate.open();
  ASSERT_TRUE(saver.save(runner_checkpoint(), "a.pth"));
  try {
    saver.wait();
    ADD_FAILURE() << "a failed write went unreported";
  } catch (const ts::Error& e) {
    EXPECT_NE(std::string(e.what()).find("a.pth: disk full (simulated)"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(saver.wait());
}

TEST(StoreTorchAsync, UnseenFailureStopsTheNextSave) {
  Gate gate;
  ts::AsyncSaver saver(gated(gate));
  gate.fail_next();
  gate.open();
  ASSERT_TRUE(saver.save(runner_checkpoint(), "a.pth"));
  EXPECT_THROW((void)saver.save(runner_checkpoint(), "b.pth"), ts::Error);
  EXPECT_FALSE(saver.in_flight());
  EXPECT_TRUE(gate.files().empty());
}

TEST(StoreTorchAsync, UnsavableValueFailsBeforeAnythingStarts) {
  TempDir dir;
  ts::AsyncSaver saver;
  Value bad = runner_checkpoint();
  bad.as<Dict>().set("meta", ts::Unsupported{"numpy.ndarray", nullptr});
  try {
    (void)saver.save(bad, dir / "x.pth");
    ADD_FAILURE() << "saved an unsavable value";
  } catch (const ts::Error& e) {
    EXPECT_NE(std::string(e.what()).find("numpy.ndarray"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(saver.in_flight());
  EXPECT_TRUE(files_in(dir.path).empty());
}

TEST(StoreTorchAsync, MissingFolderFailsAndLeavesNothing) {
  TempDir dir;
  ts::AsyncSaver saver;
  ASSERT_TRUE(saver.save(runner_checkpoint(), dir / "no/such/x.pth"));
  try {
    saver.wait();
    ADD_FAILURE() << "wrote into a missing folder";
  } catch (const ts::Error& e) {
    // the folder and the errno (ENOENT) are named
    EXPECT_NE(std::string(e.what()).find(dir / "no/such"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[Errno 2]"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(files_in(dir.path).empty());
}

// Every tensor in the tree, in order.
void tensors_in(const Value& v, std::vector<at::Tensor>& out) {
  if (v.is<at::Tensor>()) out.push_back(v.as<at::Tensor>());
  if (v.is<Dict>())
    for (const auto& [k, i] : v.as<Dict>().items) tensors_in(i, out);
  if (v.is<List>())
    for (const Value& i : v.as<List>().items) tensors_in(i, out);
}

TEST(StoreTorchAsync, MemoryStaysBoundedByTheLargestSnapshot) {
  TempDir dir;
  ts::AsyncSaver saver;
  const Value ckpt = awkward_checkpoint();
  // One slot per storage, padded to 64 bytes; the tied pair is one storage.
  std::vector<at::Tensor> all;
  tensors_in(ckpt, all);
  std::size_t expected = 0;
  for (const at::Tensor& t : all) expected += (t.nbytes() + 63) / 64 * 64;
  expected -= (tensor_at(const_cast<Value&>(ckpt), "tied.b").nbytes() + 63) / 64 * 64;
  for (int round = 0; round < 3; ++round) {
    ASSERT_TRUE(saver.save(ckpt, dir / ("r" + std::to_string(round) + ".pth")));
    saver.wait();
    EXPECT_EQ(saver.capacity(), expected) << "round " << round;
  }
  ASSERT_TRUE(saver.save(runner_checkpoint(), dir / "small.pth"));
  saver.wait();
  EXPECT_EQ(saver.capacity(), expected) << "a smaller checkpoint reuses the buffer";
  EXPECT_EQ(ts::load(dir / "small.pth"), runner_checkpoint());
}

// The copy overlaps pickling while the checkpoint fits the buffer the last
// save left; a larger one grows it and copies after pickling. Both must
// write the synchronous save's bytes, in either order.
TEST(StoreTorchAsync, GrowingAndShrinkingCheckpointsWriteTheSynchronousBytes) {
  Gate gate;
  ts::AsyncSaver saver(gated(gate));
  gate.open(4);
  const Value small = runner_checkpoint(), large = awkward_checkpoint();
  for (const auto& [name, ckpt] : {std::pair{"small", &small}, {"large", &large}, {"large2", &large}, {"small2", &small}}) {
    ASSERT_TRUE(saver.save(*ckpt, name));
    saver.wait();
    EXPECT_EQ(gate.files().at(name), sync_bytes(*ckpt)) << name;
  }
}

TEST(StoreTorchAsync, FileLoadsInPython) {
  SKIP_WITHOUT_PYTHON();
  TempDir dir;
  ts::AsyncSaver saver;
  const Value ckpt = awkward_checkpoint();
  ASSERT_TRUE(saver.save(ckpt, dir / "a.pth"));
  saver.wait();
  EXPECT_EQ(python("describe '" + (dir / "a.pth") + "'").output, describe(ckpt));
  EXPECT_EQ(python("zipcheck '" + (dir / "a.pth") + "'").status, 0);
}

TEST(StoreTorchAsync, CudaSnapshotGoesThroughPinnedMemory) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  Value gpu = awkward_checkpoint();
  Dict moved;
  for (const auto& [k, t] : gpu.as<Dict>().find("extra")->as<Dict>().items)
    moved.items.emplace_back(k, t.as<at::Tensor>().to(at::kCUDA));
  gpu.as<Dict>().set("extra", moved);
  TempDir dir;
  ts::AsyncSaver saver;
  ASSERT_TRUE(saver.save(gpu, dir / "gpu.pth"));
  saver.wait();
  ts::save(gpu, dir / "sync.pth");
  EXPECT_EQ(read_file(dir / "gpu.pth"), read_file(dir / "sync.pth"));
  EXPECT_NE(read_file(dir / "gpu.pth").find("cuda:0"), std::string::npos);
}

}  // namespace
