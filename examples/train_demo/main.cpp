// train-demo: a LibTorch model trained on generated data and checkpointed by
// ckpt::Checkpointer (mmengine's CheckpointHook policy through the durable
// store), with --resume auto continuing retention and best tracking as
// mmengine would. C++17 + LibTorch; the checkpoint code is the lines marked
// "// ckpt".
#include <ckpt/checkpointer.hpp>

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "trainer.hpp"

namespace {

using ckpt::checkpointer::Tree;

const char* usage = R"(usage: train-demo --work-dir DIR [options]

Trains a small MLP (with batch norm) on generated clusters for a few epochs,
validating after each, and checkpoints it with mmengine's CheckpointHook
policy through ckpt::Checkpointer: periodic saves, retention, best
checkpoints, publishing, background saves, verified resume.

  --work-dir DIR        where checkpoints and last_checkpoint go (required)
  --epochs N            epochs to train (default 4)
  --hook JSON           CheckpointHook keyword arguments, e.g.
                        '{"interval": 1, "max_keep_ckpts": 2, "save_best": "acc"}'
                        (default: that one)
  --resume auto         continue from the newest checkpoint that verifies
                        (WORK_DIR/last_checkpoint's, else the newest periodic
                        one): model, optimizer, runtime info, retention, best
  --ordering safe|reference
                        safe (default): a new checkpoint is durable before
                        anything is evicted; reference: mmengine's order
  --sync                write checkpoints on the training thread (default:
                        in the background, one save in flight)
  --seed S              model initialisation seed (default 0)
  --rank R --world-size W --master-port P
                        several processes: buffers are all-reduced (Gloo over
                        a TCPStore on 127.0.0.1) and only rank 0 touches disk
  --kill-at-iter N      SIGKILL this process before iteration N, once the
                        saves asked for so far are durable (tests)
  --profile mmengine|ckpt
                        the hook: mmengine's (default), or ckpt's (mmengine
                        plus keep_best, keep_period, best_save_optimizer,
                        interval_seconds and preemption: SIGTERM or SIGUSR1
                        saves at the next hook call, then ends the process)
  --sigterm-at-iter N   raise SIGTERM in this process before iteration N
                        (tests: with --profile ckpt, a preemption save)
  --trace FILE          write the run's hook calls as a conformance case
                        (conformance-protocol.md), to replay it through the
                        real mmengine and compare the files it predicts
  --quiet               no progress lines (else `start epoch E iter I` once
                        resume is done, then a line per epoch)
  --calls               print the hook's runtime info after every call
                        (`call <hook> <json>`; ranks compare them)
Ends with `fingerprint <sum of the model>` and `runtime_info <json>`.
)";

struct Args {
  std::string work_dir;
  int epochs = 4;
  std::string hook = R"({"interval": 1, "max_keep_ckpts": 2, "save_best": "acc"})";
  bool resume = false, quiet = false, calls = false, async = true;
  ckpt::Ordering ordering = ckpt::Ordering::safe;
  demo::Options trainer;
  std::int64_t kill_at = -1, sigterm_at = -1;
  ckpt::Profile profile = ckpt::Profile::mmengine;
  std::string trace;
};

[[noreturn]] void die(const std::string& message) {
  std::cerr << "train-demo: " << message << "\n";
  std::exit(2);
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die(k + " needs a value (see --help)");
      return argv[++i];
    };
    auto number = [&]() -> long long {
      std::string v = value();
      try {
        return std::stoll(v);
      } catch (...) {
        die(k + " needs an integer, got '" + v + "'");
      }
    };
    if (k == "-h" || k == "--help") { std::cout << usage; std::exit(0); }
    else if (k == "--work-dir") a.work_dir = value();
    else if (k == "--epochs") a.epochs = static_cast<int>(number());
    else if (k == "--hook") a.hook = value();
    else if (k == "--resume") { if (value() != "auto") die("--resume takes 'auto'"); a.resume = true; }
    else if (k == "--ordering") {
      std::string o = value();
      if (o != "safe" && o != "reference") die("--ordering is safe or reference, got '" + o + "'");
      a.ordering = o == "safe" ? ckpt::Ordering::safe : ckpt::Ordering::reference;
    }
    else if (k == "--sync") a.async = false;
    else if (k == "--seed") a.trainer.seed = static_cast<std::uint64_t>(number());
    else if (k == "--rank") a.trainer.rank = static_cast<int>(number());
    else if (k == "--world-size") a.trainer.world_size = static_cast<int>(number());
    else if (k == "--master-port") a.trainer.master_port = static_cast<int>(number());
    else if (k == "--kill-at-iter") a.kill_at = number();
    else if (k == "--sigterm-at-iter") a.sigterm_at = number();
    else if (k == "--profile") {
      std::string p = value();
      if (p != "mmengine" && p != "ckpt") die("--profile is mmengine or ckpt, got '" + p + "'");
      a.profile = p == "ckpt" ? ckpt::Profile::ckpt : ckpt::Profile::mmengine;
    }
    else if (k == "--trace") a.trace = value();
    else if (k == "--quiet") a.quiet = true;
    else if (k == "--calls") a.calls = true;
    else die("unknown option '" + k + "' (see --help)");
  }
  if (a.work_dir.empty()) die("--work-dir is required (see --help)");
  if (a.epochs < 1) die("--epochs must be at least 1");
  return a;
}

// --trace: the calls as protocol events, and the case around them.
struct Trace {
  Tree::List events;
  void add(const char* hook, std::int64_t epoch, std::int64_t iter, const ckpt::Metrics* metrics = nullptr) {
    Tree::Dict e{{"hook", hook}, {"epoch", epoch}, {"iter", iter}};
    if (metrics) {
      Tree::Dict m;
      for (const auto& [k, v] : *metrics) m.emplace_back(k, v);
      e.emplace_back("metrics", std::move(m));
    }
    events.emplace_back(std::move(e));
  }
  void write(const std::string& path, const std::string& hook_json, const char* profile, int epochs,
             std::int64_t max_iters) const {
    // the hook's kwargs go in as JSON text already: splice them in
    Tree runner = Tree::Dict{{"kind", "epoch"}, {"work_dir", "work_dirs/demo"}, {"max_epochs", epochs},
                             {"max_iters", max_iters}};
    std::ofstream(path) << "{\"id\": \"train-demo/trace\", \"profile\": \"" << profile << "\", \"hook\": " << hook_json
                        << ", \"runner\": " << ckpt::checkpointer::to_json(runner)
                        << ", \"events\": " << ckpt::checkpointer::to_json(Tree(events)) << "}\n";
  }
};

}  // namespace

int main(int argc, char** argv) {
  Args a = parse(argc, argv);
  try {
    demo::Trainer trainer(a.trainer);  // inside: its rendezvous can fail (a port in use)
    ckpt::Options options{a.work_dir, a.hook, a.async};                                     // ckpt
    options.ordering = a.ordering;                                                          // ckpt
    options.profile = a.profile;                                                            // ckpt
    options.process_group = trainer.group.get();                                            // ckpt
    options.experiment_name = "train-demo";                                                 // ckpt
    options.seed = static_cast<std::int64_t>(a.trainer.seed);                               // ckpt
    if (a.quiet) options.log = [](ckpt::LogLevel level, const std::string& m) {             // ckpt
      if (level == ckpt::LogLevel::warning) std::cerr << "[ckpt] warning: " << m << "\n";   // ckpt
    };                                                                                      // ckpt
    ckpt::Checkpointer ck(options);                                                         // ckpt
    ck.track("model", *trainer.net);                                                        // ckpt
    ck.track("optimizer", trainer.optimizer);                                               // ckpt
    ckpt::ResumePoint at;                                                                   // ckpt
    if (a.resume) at = ck.resume();                                                         // ckpt
    if (at.resumed() && !a.quiet)
      std::cout << "resumed from " << at.path << " at epoch " << at.epoch << ", iter " << at.iter << "\n";
    if (!a.quiet) std::cout << "start epoch " << at.epoch << " iter " << at.iter << std::endl;  // tools/torture waits for it

    const std::int64_t per_epoch = trainer.iters_per_epoch(), max_iters = a.epochs * per_epoch;
    Trace trace;
    auto called = [&](const char* hook) {
      if (a.calls) std::cout << "call " << hook << " " << ck.runtime_info_json() << "\n";
    };
    ck.before_train(at, a.epochs, max_iters);                                               // ckpt
    trace.add("before_train", at.epoch, at.iter);
    called("before_train");
    if (at.validate_first) {  // the killed run saved this epoch but may not have validated it
      auto m = trainer.validate();
      ckpt::Metrics metrics{{"acc", m.acc}, {"loss", m.loss}};
      ck.after_val_epoch(at.epoch, at.iter, metrics);                                       // ckpt
      trace.add("after_val_epoch", at.epoch, at.iter, &metrics);
      called("after_val_epoch");
    }
    std::int64_t iter = at.iter;
    for (std::int64_t e = at.epoch; e < a.epochs; ++e) {
      double loss = 0;
      for (std::int64_t b = iter - e * per_epoch; b < per_epoch; ++b, ++iter) {
        if (iter == a.kill_at) {  // a crash, for the resume test, once the saves so far are durable
          ck.wait();                                                                        // ckpt
          std::raise(SIGKILL);
        }
        if (iter == a.sigterm_at) std::raise(SIGTERM);  // a preemption notice, for the tests
        loss = trainer.train_iter(iter);
        ck.after_train_iter(e, iter, b);                                                    // ckpt
        trace.add("after_train_iter", e, iter);
        called("after_train_iter");
      }
      if (a.trainer.world_size > 1) trainer.sync_buffers();
      ck.after_train_epoch(e, iter);                                                        // ckpt
      trace.add("after_train_epoch", e, iter);
      called("after_train_epoch");
      auto m = trainer.validate();
      ckpt::Metrics metrics{{"acc", m.acc}, {"loss", m.loss}};
      ck.after_val_epoch(e + 1, iter, metrics);                                             // ckpt
      trace.add("after_val_epoch", e + 1, iter, &metrics);
      called("after_val_epoch");
      if (!a.quiet) {
        std::printf("epoch %lld/%d  train loss %.4f  val acc %.4f loss %.4f\n", static_cast<long long>(e + 1),
                    a.epochs, loss, m.acc, m.loss);
        std::fflush(stdout);
      }
    }
    ck.after_train(a.epochs, iter);                                                         // ckpt
    trace.add("after_train", a.epochs, iter);
    called("after_train");
    if (!a.trace.empty()) trace.write(a.trace, a.hook, a.profile == ckpt::Profile::ckpt ? "ckpt" : "mmengine", a.epochs, max_iters);
    std::printf("fingerprint %.10g\nruntime_info %s\n", trainer.fingerprint(), ck.runtime_info_json().c_str());
    std::fflush(stdout);  // a signal noted since after_train ends the process in ck's destructor
  } catch (const ckpt::Error& e) {
    die(e.what());
  } catch (const std::exception& e) {  // LibTorch's: one line, not its backtrace (and not an abort)
    const std::string what = e.what();
    die(what.substr(0, what.find('\n')));
  }
  return 0;
}
