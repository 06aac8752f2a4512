#include "publish.hpp"

#include <algorithm>

#include "durable.hpp"
#include "sink.hpp"

namespace ckpt::torch_store {
namespace {

// os.path.splitext: the last dot of the file name, leading dots excluded
// (the same rule as ckpt.policy's published_name).
std::string drop_extension(const std::string& p) {
  const auto sep = p.rfind('/');
  const auto base = sep == std::string::npos ? 0 : sep + 1;
  const auto dot = p.rfind('.');
  if (dot == std::string::npos || dot < base) return p;
  for (auto i = base; i < dot; ++i)
    if (p[i] != '.') return p.substr(0, dot);
  return p;
}

}  // namespace

Value published_subset(const Value& checkpoint, const std::vector<std::string>& published_keys) {
  if (!checkpoint.is<Dict>()) throw Error("a checkpoint to publish must be a dict");
  Dict kept = checkpoint.as<Dict>();
  kept.items.erase(std::remove_if(kept.items.begin(), kept.items.end(),
                                  [&](const auto& item) {
                                    return !item.first.template is<std::string>() ||
                                           std::find(published_keys.begin(), published_keys.end(),
                                                     item.first.template as<std::string>()) == published_keys.end();
                                  }),
                   kept.items.end());
  return kept;
}

Published publish_as(const Value& checkpoint, const std::function<std::string(std::string_view)>& name_for,
                     const SaveOptions& options) {
  Published out;
  out.path = write_durably(parent_folder(name_for(std::string(64, '0'))), [&](Sink& file) {
    HashingSink hashing(file);
    save(checkpoint, hashing, options);
    out.sha256 = hashing.hex_digest();
    return name_for(out.sha256);
  });
  return out;
}

Published publish(const Value& checkpoint, const std::vector<std::string>& published_keys,
                  const std::string& source_path, const SaveOptions& options) {
  const std::string stem = drop_extension(source_path);
  return publish_as(published_subset(checkpoint, published_keys),
                    [&](std::string_view sha) { return stem + "-" + std::string(sha.substr(0, 8)) + ".pth"; }, options);
}

}  // namespace ckpt::torch_store
