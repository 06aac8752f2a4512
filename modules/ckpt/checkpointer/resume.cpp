#include "resume.hpp"

#include <cstdint>
#include <exception>
#include <optional>
#include <utility>
#include <vector>

#include "values.hpp"

namespace ckpt::checkpointer {

namespace {

namespace ts = torch_store;

std::int64_t counter(const ts::Dict& meta, const char* key, const std::string& where) {
  const ts::Value* v = meta.find(key);
  if (!v || !v->is<std::int64_t>()) throw ts::Error(where + ": meta has no integer '" + key + "' to resume from");
  return v->as<std::int64_t>();
}

// The runtime info the file's message hub (mmengine) or meta's hook_msgs
// (mmcv, C51) holds: plain values for the hook, the rest kept aside.
std::pair<Tree::Dict, ts::Dict> runtime_info(const ts::Dict& file, Profile profile) {
  const ts::Value* info = nullptr;
  if (profile == Profile::mmcv) {
    const ts::Value* meta = file.find("meta");
    info = meta && meta->is<ts::Dict>() ? meta->as<ts::Dict>().find("hook_msgs") : nullptr;
  } else if (const ts::Value* hub = file.find("message_hub"); hub && hub->is<ts::Dict>()) {
    info = hub->as<ts::Dict>().find("runtime_info");
  }
  std::pair<Tree::Dict, ts::Dict> out;
  if (!info || !info->is<ts::Dict>()) return out;
  for (const auto& [key, value] : info->as<ts::Dict>().items) {
    if (!key.is<std::string>()) continue;
    if (auto plain = to_plain(value)) out.first.emplace_back(key.as<std::string>(), std::move(*plain));
    else out.second.items.emplace_back(key, value);
  }
  return out;
}

// Loads `path` (every record's CRC-32 checked) straight into the tracked
// tensors where shapes and dtypes agree, then restores the rest from it. A
// file that fails halfway may have overwritten some tracked tensors: the
// next candidate overwrites them all again, and when none loads the error
// says so.
// X5: a preemption save's meta names the hook call it followed. Only one
// made right after an epoch ended (after_train_epoch) was saved before its
// step's validation; the others came after it, or mid-epoch, where
// validating again would score a half-trained epoch.
bool validated(const ts::Dict& meta) {
  const ts::Value* after = meta.find("preempted_after");
  return after && after->is<std::string>() && after->as<std::string>() != "after_train_epoch";
}

ResumePoint restore(const std::string& path, Engine& engine, const Tracked& tracked, FileFacts& facts) {
  ts::LoadOptions options;
  options.into = tracked.destinations();
  ts::Value file = ts::load(path, options);
  if (!file.is<ts::Dict>()) throw ts::Error(path + ": not a checkpoint (the top level is not a dict)");
  const ts::Dict& top = file.as<ts::Dict>();
  const ts::Value* meta = top.find("meta");
  if (!meta || !meta->is<ts::Dict>()) throw ts::Error(path + ": has no meta to resume from");
  ResumePoint at{counter(meta->as<ts::Dict>(), "epoch", path), counter(meta->as<ts::Dict>(), "iter", path), path};
  at.validate_first = !validated(meta->as<ts::Dict>());  // "may": converged() decides
  tracked.restore(file, path);
  auto [plain, foreign] = runtime_info(top, facts.profile);
  engine.set_runtime_info(plain);
  facts.foreign_runtime_info = std::move(foreign);
  return at;
}

// What a file's message hub records as keep_ckpt_ids (E30): read without
// its tensors' bytes (mapped, not checked; this only decides a removal of
// a file the runtime info has already let go).
std::optional<std::vector<std::int64_t>> keep_ids_of(const std::string& path) {
  try {
    ts::LoadOptions options;
    options.mmap = true;
    options.verify_crc = false;
    const ts::Value file = ts::load(path, options);
    auto [plain, foreign] = runtime_info(file.is<ts::Dict>() ? file.as<ts::Dict>() : ts::Dict{}, Profile::mmengine);
    for (const auto& [key, value] : plain) {
      if (key != "keep_ckpt_ids" || !value.is<Tree::List>()) continue;
      std::vector<std::int64_t> ids;
      for (const auto& id : value.as<Tree::List>()) {
        if (!id.is<std::int64_t>()) return std::nullopt;
        ids.push_back(id.as<std::int64_t>());
      }
      return ids;
    }
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

// The rest of resuming: what the killed run left unfinished (engine.hpp).
ResumePoint converged(ResumePoint at, Engine& engine, const std::function<void(LogLevel, const std::string&)>& log) {
  Converged c = engine.converge(at.path, at.epoch, keep_ids_of);
  for (const auto& path : c.removed) log(LogLevel::warning, "removed " + path + ", left behind by a killed run");
  at.validate_first = c.validate_first && (at.validate_first || !at.resumed());
  if (at.validate_first)
    log(LogLevel::info, "epoch " + std::to_string(at.epoch) + " was saved before its validation: validate first");
  return at;
}

}  // namespace

ResumePoint resume_run(Engine& engine, const Tracked& tracked, FileFacts& facts, const Ranks& ranks,
                       const std::function<void(LogLevel, const std::string&)>& log,
                       const std::optional<std::string>& path) {
  ResumePoint at;
  std::vector<std::string> failures;
  if (ranks.main()) {
    std::vector<std::string> candidates = path ? std::vector<std::string>{*path} : engine.resume_candidates();
    for (std::size_t i = 0; i < candidates.size() && !at.resumed(); ++i) {
      try {
        at = restore(candidates[i], engine, tracked, facts);
        if (i > 0) log(LogLevel::warning, "resumed from " + candidates[i] + " instead");
      } catch (const std::exception& e) {
        failures.push_back(e.what());
        log(LogLevel::warning, std::string("cannot resume from ") + candidates[i] + ": " + e.what() +
                                   (i + 1 < candidates.size() ? "; trying " + candidates[i + 1] : ""));
      }
    }
  }
  // Rank 0's verdict for every rank: "=<path>", "!<why not>", or nothing.
  std::string reasons;
  for (const auto& f : failures) reasons += "\n  " + f;
  std::string verdict = broadcast(ranks, at.resumed() ? "=" + at.path : failures.empty() ? "" : "!" + reasons);
  if (verdict.empty()) return converged({}, engine, log);
  if (verdict[0] == '!') throw Error("resume: no checkpoint of this run could be restored (the tracked tensors may hold part of one; "
                                          "nothing was resumed):" + verdict.substr(1), "RuntimeError");
  const std::string chosen = verdict.substr(1);
  if (!ranks.main()) at = restore(chosen, engine, tracked, facts);
  log(LogLevel::info, "resumed from " + chosen + " at epoch " + std::to_string(at.epoch) + ", iter " +
                          std::to_string(at.iter));
  return converged(at, engine, log);
}

}  // namespace ckpt::checkpointer
