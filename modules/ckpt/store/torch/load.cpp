// The reader: the zip central directory, then data.pkl through our
// unpickler, which asks for each storage entry as it meets its persistent
// id. Storages are mapped copy-on-write, or described (sized, no memory)
// and read once the pickle is done, all together (parallel_read.hpp): into
// memory allocated then, or into the caller's tensors (into.hpp), CRCs
// checked last. Every failure becomes an Error naming the file and the
// problem.
#include <ATen/ATen.h>

#include <memory>
#include <vector>

#include "archive.hpp"
#include "checkpoint.hpp"
#include "into.hpp"
#include "parallel_read.hpp"
#include "source_file.hpp"
#include "staged_read.hpp"
#include "unpickler.hpp"

namespace ckpt::torch_store {
namespace {

using namespace detail;

// Every described storage: host ones get their memory now, then the
// parallel read of host and direct ones, their CRCs in the order the
// pickle named them, then the device ones through the staging buffer.
void read_described(const Archive& archive, const Binding& binding, const LoadOptions& options) {
  const std::vector<Described>& described = archive.described();
  const ReadSettings settings{options.io_threads, options.direct_io, options.verify_crc};
  std::vector<ReadJob> jobs;
  std::vector<const Described*> read;
  std::vector<StagedStorage> staged;
  for (std::size_t i = 0; i < described.size(); ++i) {
    const Described& d = described[i];
    const Placement& p = binding.placements[i];
    if (p.route == Route::device) {
      // One local header read per storage, in series: the staged reader
      // wants true offsets. Cheap next to what a GPU load copies.
      staged.push_back({d.entry, archive.data_offset(*d.entry), p.device_bytes});
      continue;
    }
    char* dest = p.memory;
    if (p.route == Route::host) {
      d.storage.set_data_ptr_noswap(memory_for_read(d.offset, d.n()));
      dest = static_cast<char*>(d.storage.data_ptr().get());
    }
    jobs.push_back({d.offset, dest, d.n(), d.guessed ? d.entry : nullptr});
    read.push_back(&d);
  }
  const std::vector<ReadResult> results = archive.read(jobs, settings);
  for (std::size_t k = 0; options.verify_crc && k < read.size(); ++k) Archive::check_crc(*read[k]->entry, results[k].crc);
  if (staged.empty()) return;
  const at::Tensor staging = staging_buffer(/*pinned=*/true);
  read_staged(archive, staged, static_cast<char*>(staging.data_ptr()), static_cast<std::size_t>(staging.numel()), settings);
}

Value load_file(const std::string& path, const LoadOptions& options) {
  const File file(path, options.mmap);
  Archive archive(file, options.verify_crc);
  check_format(archive);
  const std::string pickle = archive.bytes("data.pkl");
  const StorageLoader load_storage = [&](const std::string& key, std::size_t nbytes, const std::string&) {
    return archive.storage("data/" + key, nbytes);
  };
  Value value = unpickle(pickle, load_storage);
  const Binding binding = bind(value, archive.described(), options.into);
  try {
    read_described(archive, binding, options);
  } catch (const std::exception& e) {
    if (!binding.writes_destinations) throw;
    const auto* c10_error = dynamic_cast<const c10::Error*>(&e);
    throw Error((c10_error ? c10_error->what_without_backtrace() : e.what()) +
                std::string("; the destination tensors may have been partly overwritten"));
  }
  finish(binding);
  return value;
}

}  // namespace

Value load(const std::string& path, const LoadOptions& options) {
  if (options.mmap && options.into)
    throw Error(path + ": LoadOptions::mmap and LoadOptions::into do not combine (mapped tensors are the file's "
                       "pages; into fills the caller's tensors)");
  try {
    return load_file(path, options);
  } catch (const c10::Error& e) {
    throw Error(path + ": " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw Error(path + ": " + e.what());
  }
}

}  // namespace ckpt::torch_store
