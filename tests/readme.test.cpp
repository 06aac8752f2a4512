// readme.trainer: the README's "Use it in your trainer" block, extracted
// verbatim at configure time (readme_trainer.inc), compiled and run: two
// runs, the second resuming where the first left off.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <string>
#include <unistd.h>

#include "readme_trainer.inc"
#include "store.torch.support.hpp"

namespace {

TEST(Readme, TheTrainerSnippetTrainsSavesAndResumes) {
  store_test::TempDir dir;
  char cwd[4096];
  ASSERT_NE(::getcwd(cwd, sizeof cwd), nullptr);
  ASSERT_EQ(::chdir(dir.path.c_str()), 0);  // the snippet writes to work_dirs/exp
  torch::manual_seed(0);
  torch::nn::Sequential model(torch::nn::Linear(4, 8), torch::nn::ReLU(), torch::nn::Linear(8, 2));
  torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  std::int64_t steps = 0;
  auto step = [&](std::int64_t iter) {
    ++steps;
    auto gen = at::detail::createCPUGenerator(static_cast<std::uint64_t>(iter));
    auto x = torch::randn({8, 4}, gen);
    optimizer.zero_grad();
    torch::nn::functional::cross_entropy(model->forward(x), (x.sum(1) > 0).to(torch::kLong)).backward();
    optimizer.step();
  };
  double acc = 0;
  auto validate = [&] { return acc += 0.1; };
  train(*model, optimizer, 2, 3, step, validate);
  EXPECT_EQ(steps, 6);
  EXPECT_EQ(store_test::files_in("work_dirs/exp"),
            (std::vector<std::string>{"best_acc_epoch_2.pth", "epoch_1.pth", "epoch_2.pth", "last_checkpoint"}));
  train(*model, optimizer, 3, 3, step, validate);  // resumes at epoch 2: one more epoch
  EXPECT_EQ(steps, 9);
  EXPECT_EQ(store_test::files_in("work_dirs/exp"),
            (std::vector<std::string>{"best_acc_epoch_3.pth", "epoch_2.pth", "epoch_3.pth", "last_checkpoint"}));
  ASSERT_EQ(::chdir(cwd), 0);
}

}  // namespace
