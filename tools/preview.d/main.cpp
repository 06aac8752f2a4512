// ckpt-preview: the reducer of a profile over a case's events, applied to a
// disk that exists only in memory (tools/preview prints and plots it). No
// file is read or written but stdin and stdout: what a run *would* leave.
//
// Input: one protocol case (docs/spec/conformance-protocol.md) on stdin,
// any profile. Output: one JSON line per event: the checkpoints and small
// files present after it with their bytes, what it saved and removed, and
// the peak bytes while it ran under the store's safe ordering (every write
// lands beside what it replaces before anything is removed); then a last
// line with the error, if the reducer raised one.
#include <cstdint>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>
#include "adapter.hpp"
import ckpt.store.fs;

namespace {

namespace py = ckpt::py;

struct Disk {
  std::map<std::string, std::uint64_t> files;  // path -> bytes
  std::uint64_t bytes() const {
    std::uint64_t n = 0;
    for (const auto& [_, b] : files) n += b;
    return n;
  }
};

struct Seen {
  py::List saved, removed;
  std::uint64_t peak = 0;
};

void write(Disk& d, Seen& seen, const std::string& path, std::uint64_t size, bool checkpoint) {
  std::uint64_t now = d.bytes();
  if (now + size > seen.peak) seen.peak = now + size;  // the temporary beside the old file
  d.files[path] = size;
  if (checkpoint) seen.saved.push_back(py::Value(path));
}

void remove(Disk& d, Seen& seen, const std::string& path) {
  bool any = d.files.erase(path) > 0;
  for (auto it = d.files.lower_bound(path + "/"); it != d.files.end() && it->first.rfind(path + "/", 0) == 0;) {
    it = d.files.erase(it);  // a directory checkpoint: its tree
    any = true;
  }
  if (any) seen.removed.push_back(py::Value(path));
}

Seen apply(Disk& d, const ckpt::Plan& plan, std::uint64_t ckpt_bytes) {
  Seen seen;
  seen.peak = d.bytes();
  for (const auto& e : ckpt::store::fs::schedule(plan, ckpt::store::fs::Ordering::safe)) {
    if (const auto* s = std::get_if<ckpt::SaveCheckpoint>(&e)) write(d, seen, py::path::join(s->out_dir, s->filename), ckpt_bytes, true);
    else if (const auto* l = std::get_if<ckpt::LegacySaveCheckpoint>(&e)) write(d, seen, l->filepath, ckpt_bytes, true);
    else if (const auto* p = std::get_if<ckpt::Publish>(&e)) {
      auto source = d.files.find(p->source);  // at most the source's size: only some keys are kept
      write(d, seen, ckpt::published_name(p->source, "<sha8>"), source == d.files.end() ? 0 : source->second, true);
    } else if (const auto* t = std::get_if<ckpt::WriteText>(&e)) write(d, seen, t->path, t->content.size(), false);
    else if (const auto* k = std::get_if<ckpt::Symlink>(&e)) write(d, seen, k->link, 0, false);
    else if (const auto* r = std::get_if<ckpt::RemoveCheckpoint>(&e)) remove(d, seen, r->path);
    else if (const auto* g = std::get_if<ckpt::RemoveUntilGap>(&e))
      for (auto step : ckpt::series_steps(*g, 1u << 20)) {
        auto path = ckpt::series_path(*g, step);
        if (!d.files.count(path)) break;  // C52: stops at the first gap
        remove(d, seen, path);
      }
  }
  if (d.bytes() > seen.peak) seen.peak = d.bytes();
  return seen;
}

py::Value line(std::size_t index, const adapter::EventSpec& e, const Disk& d, const Seen& seen) {
  py::Dict files;
  for (const auto& [path, bytes] : d.files) files.emplace_back(path, static_cast<std::int64_t>(bytes));
  return py::Value(py::Dict{{"event", static_cast<std::int64_t>(index)}, {"hook", e.hook},
                            {"epoch", e.epoch ? py::Value(*e.epoch) : py::Value()},
                            {"iter", e.iter ? py::Value(*e.iter) : py::Value()},
                            {"saved", seen.saved}, {"removed", seen.removed}, {"files", files},
                            {"bytes", static_cast<std::int64_t>(d.bytes())},
                            {"peak_bytes", static_cast<std::int64_t>(seen.peak)}});
}

struct Counters {
  std::int64_t epoch = 0, iter = 0;
};

int run(const adapter::Case& c, std::uint64_t ckpt_bytes) {
  Disk disk;
  for (const auto& f : c.files)
    if (f.empty() || f.back() != '/') disk.files[f] = ckpt_bytes;  // an existing checkpoint
  const std::int64_t unset = -1;
  const std::int64_t max_epochs = c.has_max_epochs ? c.max_epochs : unset, max_iters = c.has_max_iters ? c.max_iters : unset;
  Counters at;
  auto report_error = [](std::size_t index, const py::PyError& e) {
    std::cout << ckpt::json::dump(py::Value(py::Dict{{"error", py::Dict{{"type", e.type}, {"event", static_cast<std::int64_t>(index)},
                                                                          {"message", e.message}}}}))
              << "\n";
    return 0;
  };
  if (c.profile == "mmcv") {
    auto kind = c.runner_kind == "iter" ? ckpt::legacy::RunnerKind::iter : ckpt::legacy::RunnerKind::epoch;
    auto s = ckpt::legacy::init(ckpt::legacy_config_from_kwargs(c.hook), kind, c.runner_meta);
    for (std::size_t i = 0; i < c.events.size(); ++i) {
      const auto& e = c.events[i];
      if (e.epoch) at.epoch = *e.epoch;
      if (e.iter) at.iter = *e.iter;
      ckpt::legacy::Runner r{c.work_dir, at.epoch, at.iter, max_epochs, max_iters, 0};
      ckpt::legacy::Event event;
      if (e.hook == "before_run") event = ckpt::legacy::BeforeRun{r};
      else if (e.hook == "after_train_iter") event = ckpt::legacy::AfterTrainIter{r};
      else if (e.hook == "after_train_epoch") event = ckpt::legacy::AfterTrainEpoch{r};
      else event = ckpt::legacy::AfterRun{r};
      auto out = ckpt::legacy::step(s, event);
      auto seen = apply(disk, out.plan, ckpt_bytes);
      std::cout << ckpt::json::dump(line(i, e, disk, seen)) << "\n";
      if (out.error) return report_error(i, *out.error);
      s = std::move(out.state);
    }
    return 0;
  }
  auto state = c.profile == "ckpt" ? ckpt::hook::init(ckpt::ckpt_config_from_kwargs(c.hook), c.runtime_info)
                                   : ckpt::hook::init(ckpt::hook_config_from_kwargs(c.hook), c.runtime_info);
  if (!state) return report_error(static_cast<std::size_t>(-1), state.error());
  auto s = std::move(state).value();
  for (std::size_t i = 0; i < c.events.size(); ++i) {
    const auto& e = c.events[i];
    if (e.epoch) at.epoch = *e.epoch;
    if (e.iter) at.iter = *e.iter;
    ckpt::hook::Runner r{c.work_dir, at.epoch, at.iter, max_epochs, max_iters, true, e.time};
    ckpt::hook::Event event;
    if (e.hook == "before_train") event = ckpt::hook::BeforeTrain{r};
    else if (e.hook == "after_train_iter") event = ckpt::hook::AfterTrainIter{r, e.batch_idx.value_or(0)};
    else if (e.hook == "after_train_epoch") event = ckpt::hook::AfterTrainEpoch{r};
    else if (e.hook == "after_val_epoch") event = ckpt::hook::AfterValEpoch{r, e.metrics};
    else if (e.hook == "preempt") event = ckpt::hook::Preempt{r};
    else event = ckpt::hook::AfterTrain{r};
    auto out = ckpt::hook::advance(s, event);
    auto seen = apply(disk, out.plan, ckpt_bytes);
    std::cout << ckpt::json::dump(line(i, e, disk, seen)) << "\n";
    if (out.error) return report_error(i, *out.error);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t ckpt_bytes = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--ckpt-bytes" && i + 1 < argc) ckpt_bytes = std::stoull(argv[++i]);
    else {
      std::cerr << "usage: ckpt-preview --ckpt-bytes N < CASE.json  (tools/preview is the command to use)\n";
      return 2;
    }
  }
  std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  auto json = ckpt::json::parse(text, /*allow_nonfinite=*/false);
  if (!json) {
    std::cerr << "ckpt-preview: the case is not valid JSON: " << json.error().message << "\n";
    return 2;
  }
  try {
    return run(adapter::parse_case(*json), ckpt_bytes);
  } catch (const adapter::Malformed& m) {
    std::cerr << "ckpt-preview: " << m.reason << "\n";
    return 2;
  }
}
