// E42, publishing: keep the top-level keys named in `published_keys`, write
// the result to `<stem>-<sha8>.pth`. The hash is taken over the bytes as
// they are written (through a hashing sink into a temporary file in the
// target folder), then the file is synced and renamed to its final name, so
// a published name never points at a partial file.
//
// Deliberate difference from mmengine 0.10.7: it hashes `pickle.dumps` of
// the filtered checkpoint (a second serialisation, never written), we hash
// the file itself, so `sha256sum` of a published file starts with its sha8.
#pragma once
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "checkpoint.hpp"

namespace ckpt::torch_store {

/// The checkpoint without the top-level keys not in `published_keys`, in
/// its own order (mmengine pops the others). Throws Error for a non-dict.
Value published_subset(const Value& checkpoint, const std::vector<std::string>& published_keys);

struct Published {
  std::string path;
  std::string sha256;  // hex digest of the whole file
};

/// Writes `checkpoint` (already filtered) to `name_for(sha256_hex)`; the
/// folder of that name must not depend on the hash. Throws Error.
Published publish_as(const Value& checkpoint, const std::function<std::string(std::string_view)>& name_for,
                     const SaveOptions& options = {});

/// E42 as mmengine names it: `splitext(source_path)[0] + '-' + sha8 + '.pth'`.
Published publish(const Value& checkpoint, const std::vector<std::string>& published_keys,
                  const std::string& source_path, const SaveOptions& options = {});

}  // namespace ckpt::torch_store
