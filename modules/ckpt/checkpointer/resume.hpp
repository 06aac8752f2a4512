// Resume: choose the file (rank 0), verify it by loading it, put its state
// into the tracked objects and the hook's runtime info into the engine.
#pragma once
#include <functional>
#include <optional>
#include <string>

#include "ckpt/checkpointer.hpp"
#include "ranks.hpp"
#include "tracked.hpp"

namespace ckpt::checkpointer {

/// `path`: that file only; none: the engine's candidates, first that loads.
ResumePoint resume_run(Engine& engine, const Tracked& tracked, FileFacts& facts, const Ranks& ranks,
                       const std::function<void(LogLevel, const std::string&)>& log,
                       const std::optional<std::string>& path);

}  // namespace ckpt::checkpointer
