// The archive torch 1.13 writes, entry by entry, in its order: `data.pkl`,
// `data/<key>` per storage, `version` ("3\n"), then the central directory.
// Who supplies a storage's bytes differs: the synchronous save streams them
// from the tensors, the background saver from its snapshot.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "checkpoint.hpp"
#include "zip_stream.hpp"

namespace ckpt::torch_store {

/// A storage entry to come: its key and byte count.
using StorageEntry = std::pair<std::string, std::uint64_t>;

/// Throws `Error` for an archive name that is not one path segment.
void check_archive_name(const SaveOptions& options);

/// Writes the whole archive; `write_bytes(i, zip)` must write exactly
/// `storages[i].second` bytes of storage i.
void write_archive(Sink& sink, const SaveOptions& options, const std::string& pickle,
                   const std::vector<StorageEntry>& storages,
                   const std::function<void(std::size_t, ZipStream&)>& write_bytes);

}  // namespace ckpt::torch_store
