// train-demo: a LibTorch model trained on generated data, checkpointed by the
// ckpt policy (ckpt.hook) through the durable store (ckpt.store.fs), with
// --resume auto continuing retention and best tracking as mmengine would.
// C++20: torch is reached only through trainer.hpp (no torch types).
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <variant>
#include <vector>
#include "trainer.hpp"
import ckpt;
import ckpt.store.fs;

namespace {

namespace py = ckpt::py;
namespace fs = ckpt::store::fs;

const char* usage = R"(usage: train-demo --work-dir DIR [options]

Trains a small MLP (with batch norm) on generated clusters for a few epochs,
validating after each, and checkpoints it with mmengine's CheckpointHook
policy: periodic saves, retention, best checkpoints, publishing.

  --work-dir DIR        where checkpoints and last_checkpoint go (required)
  --epochs N            epochs to train (default 4)
  --hook JSON           CheckpointHook keyword arguments, e.g.
                        '{"interval": 1, "max_keep_ckpts": 2, "save_best": "acc"}'
                        (default: that one)
  --resume auto         continue from WORK_DIR/last_checkpoint if it exists:
                        model, optimizer, runtime info, retention, best scores
  --ordering safe|reference
                        safe (default): a new checkpoint is durable before
                        anything is evicted; reference: mmengine's order
  --seed S              model initialisation seed (default 0)
  --rank R --world-size W --master-port P
                        several processes: buffers are all-reduced (Gloo over
                        a TCPStore on 127.0.0.1) and only rank 0 touches disk
  --kill-at-iter N      SIGKILL this process before iteration N (tests)
  --trace FILE          write the run's hook calls as a conformance case
                        (conformance-protocol.md), to replay it through the
                        real mmengine and compare the files it predicts
  --quiet               no progress lines
Prints one line per epoch, and `plan <event> <digest>` lines with --digests.
)";

struct Args {
  std::string work_dir;
  int epochs = 4;
  std::string hook = R"({"interval": 1, "max_keep_ckpts": 2, "save_best": "acc"})";
  bool resume = false, quiet = false, digests = false;
  fs::Ordering ordering = fs::Ordering::safe;
  demo::Options trainer;
  std::int64_t kill_at = -1;
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
      a.ordering = o == "safe" ? fs::Ordering::safe : fs::Ordering::reference;
    }
    else if (k == "--seed") a.trainer.seed = static_cast<std::uint64_t>(number());
    else if (k == "--rank") a.trainer.rank = static_cast<int>(number());
    else if (k == "--world-size") a.trainer.world_size = static_cast<int>(number());
    else if (k == "--master-port") a.trainer.master_port = static_cast<int>(number());
    else if (k == "--kill-at-iter") a.kill_at = number();
    else if (k == "--trace") a.trace = value();
    else if (k == "--quiet") a.quiet = true;
    else if (k == "--digests") a.digests = true;
    else die("unknown option '" + k + "' (see --help)");
  }
  if (a.work_dir.empty()) die("--work-dir is required (see --help)");
  if (a.epochs < 1) die("--epochs must be at least 1");
  return a;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The rank-independent part of a plan: what every rank must agree on (the
// removals, last_checkpoint text and publishing run on rank 0 only), with
// the work directory masked so ranks given different ones compare.
std::string digest(const ckpt::Plan& plan, const std::string& work_dir) {
  std::ostringstream os;
  for (const auto& e : plan)
    if (std::holds_alternative<ckpt::SaveCheckpoint>(e) || std::holds_alternative<ckpt::SetRuntimeInfo>(e)) os << e;
  std::string text = os.str();
  for (auto at = text.find(work_dir); at != std::string::npos; at = text.find(work_dir, at))
    text.replace(at, work_dir.size(), "<work_dir>");
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  Args a = parse(argc, argv);
  auto kwargs = ckpt::json::parse(a.hook);
  if (!kwargs || !kwargs->is<py::Dict>()) die("--hook must be a JSON object");
  demo::Trainer trainer(a.trainer);
  bool main_process = a.trainer.rank == 0;

  // Resume: model, optimizer and the message hub's runtime info.
  py::Dict runtime_info;
  std::int64_t start_epoch = 0, iter = 0;
  std::string last = a.work_dir + "/last_checkpoint";
  if (a.resume && std::ifstream(last)) {
    std::string path = read_file(last), error;
    auto loaded = ckpt::json::parse(trainer.load(path, error));
    if (!error.empty() || !loaded) die("cannot resume from " + path + ": " + error);
    const auto& d = loaded->as<py::Dict>();
    if (const auto* info = py::find(d, "runtime_info"); info && info->is<py::Dict>()) runtime_info = info->as<py::Dict>();
    if (const auto* meta = py::find(d, "meta"); meta && meta->is<py::Dict>()) {
      if (const auto* e = py::find(meta->as<py::Dict>(), "epoch"); e && py::is_int(*e)) start_epoch = py::to_int(*e);
      if (const auto* i = py::find(meta->as<py::Dict>(), "iter"); i && py::is_int(*i)) iter = py::to_int(*i);
    }
    if (!a.quiet) std::cout << "resumed from " << path << " at epoch " << start_epoch << ", iter " << iter << "\n";
  }

  auto config = ckpt::hook_config_from_kwargs(kwargs->as<py::Dict>());
  auto init = ckpt::hook::init(config, runtime_info);
  if (!init) {
    const auto& e = init.error();
    die("invalid hook configuration: " + e.type + ": " + e.message +
        (e.parameter.empty() ? "" : " (" + e.parameter + "=" + e.value + ", spec clause " + e.clause + ")"));
  }
  ckpt::hook::State state = std::move(init).value();
  std::string root = config.out_dir.is<std::string>() ? config.out_dir.as<std::string>() : a.work_dir;
  fs::Store store(root, a.work_dir, fs::Options{a.ordering, main_process, runtime_info, py::none});

  auto writer = [&](const fs::Payload& p, int fd) -> std::optional<std::string> {
    std::string error;
    if (const auto* save = std::get_if<ckpt::SaveCheckpoint>(&p.effect))
      error = trainer.save(fd, ckpt::json::dump(py::Value(save->meta)), ckpt::json::dump(py::Value(p.runtime_info)),
                           py::truthy(save->save_optimizer));
    else if (const auto* pub = std::get_if<ckpt::Publish>(&p.effect))
      error = demo::Trainer::publish(pub->source, pub->keys, fd);
    else
      error = "train-demo writes mmengine checkpoints only";
    if (error.empty()) return std::nullopt;
    return error;
  };

  const std::int64_t per_epoch = trainer.iters_per_epoch(), max_iters = a.epochs * per_epoch;
  auto runner = [&](std::int64_t e, std::int64_t i) {
    return ckpt::hook::Runner{a.work_dir, e, i, a.epochs, max_iters, main_process};
  };
  std::string done;  // what the last event's plan did, for the progress line
  py::List trace;   // --trace: the calls as protocol events
  auto call = [&](const char* name, const ckpt::hook::Event& event) {
    std::visit([&](const auto& e) {
      py::Dict ev{{"hook", name}, {"epoch", e.runner.epoch}, {"iter", e.runner.iter}};
      if constexpr (requires { e.metrics; }) ev.emplace_back("metrics", py::Value(e.metrics));
      trace.push_back(py::Value(std::move(ev)));
    }, event);
    auto out = ckpt::hook::advance(state, event);
    if (a.digests) std::cout << "plan " << name << " " << std::hash<std::string>{}(digest(out.plan, a.work_dir)) << "\n";
    if (out.error) die(std::string(name) + " raised " + out.error->type + ": " + out.error->message);
    auto applied = store.apply(out.plan, writer);
    if (!applied.ok()) die(std::string(name) + ": " + applied.error->message + " (" + applied.error->path + ")");
    for (const auto& w : applied.written) done += " +" + py::path::basename(w);
    for (const auto& r : applied.removed) done += " -" + py::path::basename(r);
  };

  call("before_train", ckpt::hook::BeforeTrain{runner(start_epoch, iter)});
  for (std::int64_t e = start_epoch; e < a.epochs; ++e) {
    double loss = 0;
    for (std::int64_t b = 0; b < per_epoch; ++b, ++iter) {
      if (iter == a.kill_at) std::raise(SIGKILL);  // a crash, for the resume test
      loss = trainer.train_iter(iter);
      call("after_train_iter", ckpt::hook::AfterTrainIter{runner(e, iter), b});
    }
    if (a.trainer.world_size > 1) trainer.sync_buffers();
    call("after_train_epoch", ckpt::hook::AfterTrainEpoch{runner(e, iter)});
    auto m = trainer.validate();
    call("after_val_epoch", ckpt::hook::AfterValEpoch{runner(e + 1, iter), {{"acc", m.acc}, {"loss", m.loss}}});
    if (!a.quiet) {
      std::printf("epoch %lld/%d  train loss %.4f  val acc %.4f loss %.4f |%s\n", static_cast<long long>(e + 1),
                  a.epochs, loss, m.acc, m.loss, done.c_str());
      std::fflush(stdout);
    }
    done.clear();
  }
  call("after_train", ckpt::hook::AfterTrain{runner(a.epochs, iter)});
  if (!a.trace.empty()) {
    py::Dict c{{"id", "train-demo/trace"},
               {"profile", "mmengine"},
               {"hook", *kwargs},
               {"runner", py::Dict{{"kind", "epoch"}, {"work_dir", "work_dirs/demo"}, {"max_epochs", a.epochs},
                                   {"max_iters", max_iters}}},
               {"events", trace}};
    std::ofstream(a.trace) << ckpt::json::dump(py::Value(std::move(c))) << "\n";
  }
  std::printf("fingerprint %.10g\nruntime_info %s\n", trainer.fingerprint(),
              ckpt::json::dump(py::Value(ckpt::hook::hook_runtime_info(state.runtime_info))).c_str());
  return 0;
}
