// Writing a file so that its name never points at a partial one: the bytes
// go to a fresh temporary file in the target folder, which is synced and
// then renamed over the final name (rename is atomic within a folder), and
// the folder is synced so that the rename survives a crash. Publishing
// (E42) and the background saver both write this way.
#pragma once
#include <functional>
#include <string>

#include "sink.hpp"

namespace ckpt::torch_store {

/// Streams `write(sink)` into a temporary file in `dir`; `write` returns
/// the final path (in `dir`: publishing learns it from the bytes' hash).
/// On any failure the temporary file is removed and `Error` names it.
/// Returns the final path.
std::string write_durably(const std::string& dir, const std::function<std::string(Sink&)>& write);

/// The folder part of `path` ("." when there is none).
std::string parent_folder(const std::string& path);

}  // namespace ckpt::torch_store
