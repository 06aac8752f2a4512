// Publishing (E42) and the background saver write through the project's one
// durable write (ckpt/internal/durable.hpp: temporary file, fsync, rename,
// directory fsync); this adapts it to the tensor store's sinks and errors.
#pragma once
#include <functional>
#include <string>

#include "sink.hpp"

namespace ckpt::torch_store {

/// Streams `write(sink)` into a temporary file in `dir`; `write` returns
/// the final path, which must be in `dir` (publishing learns it from the
/// bytes' hash). On any failure, a failing directory fsync included, the
/// temporary file is removed and `Error` names the path and the errno.
/// Returns the final path.
std::string write_durably(const std::string& dir, const std::function<std::string(Sink&)>& write);

/// The folder part of `path` ("." when there is none).
std::string parent_folder(const std::string& path);

}  // namespace ckpt::torch_store
