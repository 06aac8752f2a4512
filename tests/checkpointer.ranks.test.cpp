// ckpt::Checkpointer over three Gloo ranks on loopback (threads of this
// process): the same calls on every rank, rank 0 alone writes and evicts,
// and every rank restores the file rank 0 chose.
#include <gtest/gtest.h>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>
#include <thread>

#include "checkpointer.support.hpp"

namespace {

using namespace checkpointer_test;

constexpr int world = 3;

c10::intrusive_ptr<c10d::ProcessGroupGloo> group(int rank, int port) {
  c10d::TCPStoreOptions so;
  so.port = static_cast<std::uint16_t>(port);
  so.isServer = rank == 0;
  so.numWorkers = world;
  auto store = c10::make_intrusive<c10d::TCPStore>("127.0.0.1", so);
  auto options = c10d::ProcessGroupGloo::Options::create();
  options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
  return c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, world, options);
}

// A port nothing uses now (the kernel's choice): a random one sometimes was
// in use, and rank 0's TCPStore then failed (tools/torture saw it too).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t n = sizeof a;
  const bool ok = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), n) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n) == 0;
  if (fd >= 0) ::close(fd);
  if (!ok) throw std::runtime_error("free_port: no loopback port");
  return ntohs(a.sin_port);
}

TEST(CheckpointerRanks, ThreeRanks_RankZeroWritesAndEveryRankResumesItsChoice) {
  TempDir d;
  const char* hook = R"({"interval": 1, "max_keep_ckpts": 2, "save_best": "acc"})";
  int port = free_port();
  std::vector<std::string> infos(world), resumed(world);
  std::vector<torch::Tensor> models(world);
  auto rank_main = [&](int rank, bool resume) {
    auto pg = group(rank, port);
    Model m(static_cast<std::uint64_t>(10 + rank));  // different weights per rank until resume
    Logs logs;
    ckpt::Options o{d / ("work" + std::to_string(rank)), hook, true};
    o.process_group = pg.get();
    o.log = logs.sink();
    ckpt::Checkpointer ck(o);
    ck.track("model", *m.net);
    ck.track("optimizer", m.optimizer);
    auto at = resume ? ck.resume() : ckpt::ResumePoint{};
    resumed[rank] = at.path;
    ck.before_train(at, resume ? 2 : 2, 4);
    if (!resume) train(ck, m, at, 2, 2, rising);
    infos[rank] = ck.runtime_info_json();
    models[rank] = m.flat();
  };
  // the rank-0 path differs per rank (each its own work_dir): only rank 0's exists
  std::vector<std::thread> ranks;
  for (int r = 0; r < world; ++r) ranks.emplace_back(rank_main, r, false);
  for (auto& t : ranks) t.join();
  EXPECT_EQ(store_test::files_in(d / "work0"),
            (std::vector<std::string>{"best_acc_epoch_2.pth", "epoch_1.pth", "epoch_2.pth", "last_checkpoint"}));
  EXPECT_FALSE(store_test::exists(d / "work1"));
  EXPECT_FALSE(store_test::exists(d / "work2"));
  for (int r = 1; r < world; ++r) {
    std::string mine = infos[r], zero = infos[0];
    for (auto* s : {&mine, &zero})
      for (int k = 0; k < world; ++k) {
        const std::string dir = d / ("work" + std::to_string(k));
        for (auto at = s->find(dir); at != std::string::npos; at = s->find(dir, at)) s->replace(at, dir.size(), "W");
      }
    EXPECT_EQ(mine, zero) << "rank " << r;
  }
  // resume: rank 0 chooses from its work_dir, every rank loads that file
  port = free_port();
  ranks.clear();
  for (int r = 0; r < world; ++r) ranks.emplace_back(rank_main, r, true);
  for (auto& t : ranks) t.join();
  for (int r = 0; r < world; ++r) {
    EXPECT_EQ(resumed[r], d / "work0/epoch_2.pth") << "rank " << r;
    EXPECT_TRUE(models[r].equal(models[0])) << "rank " << r;
  }
}

}  // namespace
