// minimal_trainer: a complete LibTorch training loop checkpointed the
// mmengine way by ckpt::Checkpointer. The checkpoint code is the lines
// marked "// ckpt"; everything else is the model, the data and the loop.
//
//   minimal_trainer WORK_DIR [--kill-at-iter N]
//
// --kill-at-iter N: SIGKILL before iteration N, once the background saves
// asked for so far are durable (a kill while one is being written loses
// that save, and resuming from the one before is right but another test's
// business: tools/torture).
//
// Run it, kill it (kill -9, or --kill-at-iter), run it again: it resumes
// from the newest checkpoint that verifies and ends where an uninterrupted
// run ends, bit for bit.
#include <torch/torch.h>

#include <ckpt/checkpointer.hpp>  // ckpt

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

constexpr std::int64_t max_epochs = 6, iters_per_epoch = 8, batch = 32;

// The batch of iteration `iter`: the same whatever the run, so that a
// resumed run sees what an uninterrupted one sees.
std::pair<torch::Tensor, torch::Tensor> batch_of(std::int64_t iter) {
  auto gen = at::detail::createCPUGenerator(static_cast<std::uint64_t>(1000 + iter));
  auto x = torch::randn({batch, 8}, gen);
  auto y = (x.sum(1) > 0).to(torch::kLong);
  return {x, y};
}

double accuracy(torch::nn::Sequential& model) {  // a fixed validation set
  torch::NoGradGuard no_grad;
  model->eval();
  auto gen = at::detail::createCPUGenerator(7);
  auto x = torch::randn({256, 8}, gen);
  double acc = model->forward(x).argmax(1).eq((x.sum(1) > 0).to(torch::kLong)).to(torch::kDouble).mean().item<double>();
  model->train();
  return acc;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0) {
    std::printf("usage: minimal_trainer WORK_DIR [--kill-at-iter N]\n");
    return argc < 2 ? 2 : 0;
  }
  const std::string work_dir = argv[1];
  const std::int64_t kill_at = argc > 3 && std::strcmp(argv[2], "--kill-at-iter") == 0 ? std::atoll(argv[3]) : -1;

  torch::manual_seed(0);
  torch::nn::Sequential model(torch::nn::Linear(8, 32), torch::nn::BatchNorm1d(32), torch::nn::ReLU(),
                              torch::nn::Linear(32, 2));
  torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));

  ckpt::Checkpointer ck({.work_dir = work_dir,                                                        // ckpt
                         .hook = R"({"interval": 1, "max_keep_ckpts": 2, "save_best": "acc"})",       // ckpt
                         .async_save = true});                                                        // ckpt
  ck.track("model", *model);                                                                          // ckpt
  ck.track("optimizer", optimizer);                                                                   // ckpt
  auto at = ck.resume();                                                                              // ckpt
  ck.before_train(at, max_epochs, max_epochs * iters_per_epoch);                                      // ckpt
  if (at.validate_first) ck.after_val_epoch(at.epoch, at.iter, {{"acc", accuracy(model)}});           // ckpt

  std::int64_t iter = at.iter;
  for (std::int64_t epoch = at.epoch; epoch < max_epochs; ++epoch) {
    for (std::int64_t b = iter - epoch * iters_per_epoch; b < iters_per_epoch; ++b, ++iter) {
      if (iter == kill_at) {  // a crash, for the test, once the saves so far are on disk
        ck.wait();                                                                                    // ckpt
        std::raise(SIGKILL);
      }
      auto [x, y] = batch_of(iter);
      optimizer.zero_grad();
      auto loss = torch::nn::functional::cross_entropy(model->forward(x), y);
      loss.backward();
      optimizer.step();
      ck.after_train_iter(epoch, iter, b);                                                            // ckpt
    }
    ck.after_train_epoch(epoch, iter);                                                                // ckpt
    const double acc = accuracy(model);
    ck.after_val_epoch(epoch + 1, iter, {{"acc", acc}});                                              // ckpt
    std::printf("epoch %lld acc %.4f\n", static_cast<long long>(epoch + 1), acc);
  }
  ck.after_train(max_epochs, iter);                                                                   // ckpt
  std::printf("done: %s\n", ck.runtime_info_json().c_str());
  return 0;
}
