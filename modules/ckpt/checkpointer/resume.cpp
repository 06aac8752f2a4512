#include "resume.hpp"

#include <exception>
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
ResumePoint restore(const std::string& path, Engine& engine, const Tracked& tracked, FileFacts& facts) {
  ts::LoadOptions options;
  options.into = tracked.destinations();
  ts::Value file = ts::load(path, options);
  if (!file.is<ts::Dict>()) throw ts::Error(path + ": not a checkpoint (the top level is not a dict)");
  const ts::Dict& top = file.as<ts::Dict>();
  const ts::Value* meta = top.find("meta");
  if (!meta || !meta->is<ts::Dict>()) throw ts::Error(path + ": has no meta to resume from");
  ResumePoint at{counter(meta->as<ts::Dict>(), "epoch", path), counter(meta->as<ts::Dict>(), "iter", path), path};
  tracked.restore(file, path);
  auto [plain, foreign] = runtime_info(top, facts.profile);
  engine.set_runtime_info(plain);
  facts.foreign_runtime_info = std::move(foreign);
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
  if (verdict.empty()) return {};
  if (verdict[0] == '!') throw Error("resume: no checkpoint of this run could be restored (the tracked tensors may hold part of one; "
                                          "nothing was resumed):" + verdict.substr(1), "RuntimeError");
  const std::string chosen = verdict.substr(1);
  if (!ranks.main()) at = restore(chosen, engine, tracked, facts);
  log(LogLevel::info, "resumed from " + chosen + " at epoch " + std::to_string(at.epoch) + ", iter " +
                          std::to_string(at.iter));
  return at;
}

}  // namespace ckpt::checkpointer
