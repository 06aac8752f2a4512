// ckpt::Checkpointer: the hook's plans (engine.hpp) applied with the
// tracked state's bytes, now or in the background. C++17 + LibTorch.
//
// One save in flight at most. A call whose plan touches the disk first
// waits for the save in flight and takes its result; a failure there rolls
// the hook's state back to before that save's call (which also discards
// every call since: none of them touched the disk) and is thrown.
#include "ckpt/checkpointer.hpp"

#include <atomic>
#include <csignal>
#include <iostream>
#include <thread>
#include <utility>

#include "ckpt/store/torch/publish.hpp"
#include "ckpt/store/torch/snapshot.hpp"
#include "ranks.hpp"
#include "resume.hpp"
#include "signals.hpp"
#include "tracked.hpp"
#include "values.hpp"

namespace ckpt {

using namespace checkpointer;
namespace ts = torch_store;

namespace {

EngineConfig engine_config(const Options& o, const Ranks& ranks) {
  EngineConfig c;
  c.work_dir = o.work_dir;
  c.profile = o.hook.profile().value_or(o.profile);
  c.hook_json = o.hook.json();
  c.hook_kwargs = o.hook.kwargs();
  c.ordering = o.ordering;
  c.main_process = ranks.main();
  c.iter_runner = o.iter_based_runner;
  c.evict_first_if_short = o.evict_first_if_short;
  return c;
}

std::function<void(LogLevel, const std::string&)> default_log() {
  return [](LogLevel level, const std::string& message) {
    std::cerr << (level == LogLevel::warning ? "[ckpt] warning: " : "[ckpt] ") << message << std::endl;
  };
}

std::string basename_of(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// X5: the signals a profile handles unless told otherwise.
std::vector<int> preempt_signals(const Options& o, Profile profile) {
  if (!o.preempt_signals) return profile == Profile::ckpt ? std::vector<int>{SIGTERM, SIGUSR1} : std::vector<int>{};
  if (!o.preempt_signals->empty() && profile != Profile::ckpt) {
    Error e("preempt_signals: AttributeError: 'CheckpointHook' object has no attribute 'preempt' (only the ckpt "
            "profile preempts; X5)", "AttributeError");
    e.parameter = "preempt_signals";
    e.value = std::to_string(o.preempt_signals->front());
    e.clause = "X5";
    throw e;
  }
  return *o.preempt_signals;
}

}  // namespace

struct Checkpointer::Impl {
  Options options;
  Ranks ranks;
  Engine engine;
  Tracked tracked;
  FileFacts facts;
  ts::Snapshotter snapshotter;
  std::int64_t max_epochs = 0, max_iters = 0;

  // The save in flight: its job, and what applying it did.
  std::thread writer;
  std::atomic<bool> writing{false};
  Job flying;
  Applied flown;

  // X5: the preemption signals, the last hook call made, the signal served.
  std::unique_ptr<SignalWatch> watch;
  Hook last_hook = Hook::before_train;
  int preempted_by = 0;

  Impl(Options o, Ranks r) : options(std::move(o)), ranks(r), engine(engine_config(options, ranks)) {
    if (!options.log) options.log = default_log();
    facts.profile = options.hook.profile().value_or(options.profile);
    facts.experiment_name = options.experiment_name.empty() ? basename_of(options.work_dir) : options.experiment_name;
    facts.seed = options.seed;
    if (auto signals = preempt_signals(options, facts.profile); !signals.empty())
      watch = std::make_unique<SignalWatch>(signals);
  }

  void call(Hook hook, std::int64_t epoch, std::int64_t iter, std::int64_t batch_idx, const Metrics& metrics) {
    event(hook, epoch, iter, batch_idx, metrics);
    last_hook = hook;
    if (!watch || hook == Hook::before_train) return;  // before training there is nothing new to keep
    int signal = watch->take();
    if (ranks.size > 1) signal = agree_max(ranks, signal);
    if (!signal) return;
    // The preemption's counters are completed counts (X5), as at validation.
    if (hook == Hook::after_train_iter) ++iter;
    if (hook == Hook::after_train_epoch) ++epoch;
    options.log(LogLevel::warning, "signal " + std::to_string(signal) + " after " + hook_name(hook) +
                                       ": saving at epoch " + std::to_string(epoch) + ", iter " + std::to_string(iter));
    preempt(epoch, iter);
    preempted_by = signal;
    if (!options.exit_after_preempt) return;
    options.log(LogLevel::warning, "the preemption save is durable; raising signal " + std::to_string(signal) + " again");
    watch->reraise(signal);
  }

  // X5: the save, durable on return; its meta says which call it followed.
  void preempt(std::int64_t epoch, std::int64_t iter) {
    facts.preempted_after = hook_name(last_hook);
    try {
      event(Hook::preempt, epoch, iter, 0, {});
      land();
    } catch (...) {
      facts.preempted_after.reset();
      throw;
    }
    facts.preempted_after.reset();
  }

  // Waits for the save in flight; throws its failure, with the hook's state
  // rolled back to before the call that asked for it.
  void land() {
    if (writer.joinable()) writer.join();
    if (!flown.error) return;
    Error e = *flown.error;
    flown = {};
    engine.rollback(flying);
    throw e;
  }

  Applied apply(const Job& job, const std::vector<ts::Value>& files, const ts::Snapshot* snapshot,
                const std::vector<std::uint64_t>& sizes) {
    auto write = [&](const SaveRequest& save, internal::Sink& sink) {
      std::size_t i = 0;
      while (job.saves()[i].effect != save.effect) ++i;
      if (snapshot) snapshot->write(i, sink);
      else ts::save(files[i], sink);
    };
    auto publish = [](const PublishRequest& p, internal::Sink& sink) {
      ts::save(ts::published_subset(ts::load(p.source), p.keys), sink);  // E42
    };
    Applied done = engine.apply(job, write, publish, sizes);
    if (done.evicted_first)
      options.log(LogLevel::warning, "free space was short: evicted before saving (evict_first_if_short)");
    return done;
  }

  void event(Hook hook, std::int64_t epoch, std::int64_t iter, std::int64_t batch_idx, const Metrics& metrics) {
    if (!writing.load(std::memory_order_acquire)) land();  // a finished save's failure shows now
    Job job = engine.advance(hook, epoch, iter, batch_idx, metrics, max_epochs, max_iters);
    for (const auto& [warning, message] : job.logs()) options.log(warning ? LogLevel::warning : LogLevel::info, message);
    if (job.sync_buffers()) average(ranks, tracked.buffers());
    if (job.empty()) return;
    land();
    std::vector<ts::Value> files;
    std::vector<std::uint64_t> sizes;
    if (ranks.main())
      for (const SaveRequest& s : job.saves()) {
        files.push_back(tracked.file_for(s, facts));
        sizes.push_back(expected_file_size(files.back()));
      }
    if (!options.async_save || !ranks.main() || job.saves().empty()) {
      Applied done = apply(job, files, nullptr, sizes);
      if (done.error) {
        engine.rollback(job);
        throw *done.error;
      }
      return;
    }
    std::vector<const ts::Value*> trees;
    for (const auto& f : files) trees.push_back(&f);
    const ts::Snapshot* snapshot = nullptr;
    try {
      snapshot = &snapshotter.take(trees);
    } catch (const std::exception& e) {
      engine.rollback(job);
      throw Error(std::string("snapshot: ") + e.what(), "RuntimeError");
    }
    flying = std::move(job);
    writing.store(true, std::memory_order_release);
    writer = std::thread([this, snapshot, sizes] {
      try {
        flown = apply(flying, {}, snapshot, sizes);
      } catch (const std::exception& e) {
        flown.error = Error(e.what(), "RuntimeError");
      }
      writing.store(false, std::memory_order_release);
    });
  }
};

Checkpointer::Checkpointer(Options options) {
  Ranks ranks = ranks_of(options.process_group);
  impl_ = std::make_unique<Impl>(std::move(options), ranks);
}

Checkpointer::~Checkpointer() {
  try {
    impl_->land();
  } catch (const std::exception& e) {
    impl_->options.log(LogLevel::warning, std::string("the last save failed: ") + e.what());
  }
  // X5: a signal noted after the last hook call has nothing left to save;
  // it still ends the process as it would have without us.
  if (impl_->watch && impl_->options.exit_after_preempt)
    if (int signal = impl_->watch->take()) impl_->watch->reraise(signal);
}

void Checkpointer::track(const std::string& name, torch::nn::Module& module) { impl_->tracked.add(name, &module); }
void Checkpointer::track(const std::string& name, torch::optim::Optimizer& optimizer) {
  impl_->tracked.add(name, &optimizer);
}
void Checkpointer::track(const std::string& name, torch::Tensor& tensor) { impl_->tracked.add(name, &tensor); }
void Checkpointer::track(const std::string& name, std::function<ts::Value()> save,
                         std::function<void(const ts::Value&)> restore) {
  impl_->tracked.add(name, Custom{std::move(save), std::move(restore)});
}

ResumePoint Checkpointer::resume() {
  Impl& m = *impl_;
  m.land();
  return resume_run(m.engine, m.tracked, m.facts, m.ranks, m.options.log, std::nullopt);
}

ResumePoint Checkpointer::resume(const std::string& path) {
  Impl& m = *impl_;
  m.land();
  return resume_run(m.engine, m.tracked, m.facts, m.ranks, m.options.log, path);
}

void Checkpointer::before_train(const ResumePoint& at, std::int64_t max_epochs, std::int64_t max_iters) {
  impl_->max_epochs = max_epochs;
  impl_->max_iters = max_iters;
  impl_->call(Hook::before_train, at.epoch, at.iter, 0, {});
}

void Checkpointer::after_train_iter(std::int64_t epoch, std::int64_t iter, std::int64_t batch_idx) {
  impl_->call(Hook::after_train_iter, epoch, iter, batch_idx, {});
}

void Checkpointer::after_train_epoch(std::int64_t epoch, std::int64_t iter) {
  impl_->call(Hook::after_train_epoch, epoch, iter, 0, {});
}

void Checkpointer::after_val_epoch(std::int64_t epoch, std::int64_t iter, const Metrics& metrics) {
  impl_->call(Hook::after_val_epoch, epoch, iter, 0, metrics);
}

void Checkpointer::after_train(std::int64_t epoch, std::int64_t iter) {
  impl_->call(Hook::after_train, epoch, iter, 0, {});
  impl_->land();
}

void Checkpointer::preempt(std::int64_t epoch, std::int64_t iter) { impl_->preempt(epoch, iter); }

int Checkpointer::preempted() const { return impl_->preempted_by; }

void Checkpointer::wait() { impl_->land(); }

bool Checkpointer::saving() const { return impl_->writing.load(std::memory_order_acquire); }

std::string Checkpointer::runtime_info_json() const { return to_json(impl_->engine.hook_runtime_info()); }

std::string Checkpointer::out_dir() const { return impl_->engine.out_dir(); }

}  // namespace ckpt
