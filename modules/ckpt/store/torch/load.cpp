// The reader: the zip central directory, then data.pkl through our
// unpickler, which asks for each storage entry as it meets its persistent
// id. Storages are mapped copy-on-write, or allocated then and read once
// the pickle is done, all together (parallel_read.hpp), CRCs checked last.
// Every failure becomes an Error naming the file and the problem.
#include <ATen/ATen.h>
#include <cerrno>
#include <cstring>
#include <memory>
#include <unordered_map>
#include <vector>

#include "checkpoint.hpp"
#include "crc32.hpp"
#include "parallel_read.hpp"
#include "source_file.hpp"
#include "unpickler.hpp"
#include "zip.hpp"

namespace ckpt::torch_store {
namespace {

using detail::File;

[[noreturn]] void fail(const std::string& what) { throw Error(what); }

// Newest `version` record this reader understands (torch 1.13 writes 3).
constexpr std::uint64_t max_version = 3;

class Archive {
 public:
  Archive(const File& file, bool verify_crc) : file_(file), verify_crc_(verify_crc) {
    const std::vector<zip::Entry> entries = zip::read_directory(file_.size(), read_at());
    // As torch's reader: the archive folder is the first entry's; its name is free.
    const auto slash = entries.empty() ? std::string::npos : entries.front().name.find('/');
    if (slash == std::string::npos) fail("no archive folder: not a file written by torch.save");
    prefix_ = entries.front().name.substr(0, slash + 1);
    for (const zip::Entry& e : entries) entries_.emplace(e.name, e);
    if (!has("data.pkl")) fail("no entry '" + prefix_ + "data.pkl': not a file written by torch.save");
    // Past 4 GiB torch's local headers and ours differ; the first there tells.
    const zip::Entry* first_far = nullptr;
    for (const auto& [name, e] : entries_)
      if (e.header_offset >= zip::zip64_threshold && (!first_far || e.header_offset < first_far->header_offset))
        first_far = &e;
    zip64_offsets_ = first_far && has_zip64_offset(*first_far);
  }

  bool has(const std::string& relative) const { return entries_.count(prefix_ + relative) > 0; }

  // Mapped storages are checked now. Others are only allocated, where the
  // padding rule puts their data: reading each local header now would be
  // one small read from the disk per storage, in series. read_storages
  // fills them and checks the guesses.
  c10::Storage storage(const std::string& relative, std::size_t at_least) {
    const zip::Entry& e = entry(relative);
    if (e.size < at_least)
      fail("entry '" + e.name + "' holds " + std::to_string(e.size) + " bytes, its tensor needs " + std::to_string(at_least));
    const auto n = static_cast<std::size_t>(e.size);
    if (file_.mapped()) {
      std::uint32_t crc = 0;
      c10::Storage s = file_.mapped_storage(data_offset(e), n, verify_crc_ ? &crc : nullptr);
      if (verify_crc_) check_crc(e, crc);
      return s;
    }
    const std::uint64_t guess = zip::expected_data_offset(e, zip64_offsets_);
    const bool fits = guess <= file_.size() && e.size <= file_.size() - guess;
    const std::uint64_t at = fits ? guess : data_offset(e);  // which names the problem, if any
    c10::Storage s = detail::storage_for_read(at, n);
    pending_.push_back({&e, s, {at, static_cast<char*>(s.data_ptr().get()), n, fits ? &e : nullptr}});
    return s;
  }

  // Reads every storage handed out so far (again from where its local
  // header says, for a writer that pads otherwise), then checks their
  // CRCs in the order the pickle named them.
  void read_storages(const LoadOptions& options) {
    if (pending_.empty()) return;
    const detail::ReadSettings settings{options.io_threads, options.direct_io, verify_crc_};
    std::vector<detail::ReadJob> jobs, again;
    for (const Pending& p : pending_) jobs.push_back(p.job);
    std::vector<detail::ReadResult> results = detail::read_jobs(file_.fd(), jobs, settings);
    std::vector<std::size_t> moved;
    for (std::size_t i = 0; i < results.size(); ++i)
      if (results[i].moved_to) {
        moved.push_back(i);
        again.push_back({checked_fit(*pending_[i].entry, *results[i].moved_to), jobs[i].dest, jobs[i].n, nullptr});
      }
    if (!again.empty()) {
      std::vector<detail::ReadResult> reread = detail::read_jobs(file_.fd(), again, settings);
      for (std::size_t k = 0; k < moved.size(); ++k) results[moved[k]] = reread[k];
    }
    for (std::size_t i = 0; verify_crc_ && i < pending_.size(); ++i) check_crc(*pending_[i].entry, results[i].crc);
    pending_.clear();
  }

  std::string bytes(const std::string& relative) const {
    const zip::Entry& e = entry(relative);
    // Where, first: that checks the size the directory claims against the
    // file, before a 4 GiB claim in a 16 KB file is allocated and zeroed.
    const std::uint64_t at = data_offset(e);
    std::string s(static_cast<std::size_t>(e.size), '\0');
    std::uint32_t crc = 0;
    file_.read_into(s.data(), at, s.size(), &crc);
    check_crc(e, crc);
    return s;
  }

 private:
  // What the zip reader asks the file for.
  zip::ReadAt read_at() const {
    return [this](std::uint64_t o, std::size_t n) { return file_.read(o, n); };
  }

  const zip::Entry& entry(const std::string& relative) const {
    auto it = entries_.find(prefix_ + relative);
    if (it == entries_.end()) fail("missing entry '" + prefix_ + relative + "'");
    if (it->second.method != 0)
      fail("entry '" + it->first + "' is compressed (method " + std::to_string(it->second.method) +
           "); torch stores entries uncompressed");
    return it->second;
  }

  std::uint64_t data_offset(const zip::Entry& e) const {
    return checked_fit(e, zip::data_offset(e, read_at()));
  }

  bool has_zip64_offset(const zip::Entry& e) const {
    try {
      return zip::data_offset(e, read_at()) ==
             zip::expected_data_offset(e, true);
    } catch (const std::runtime_error&) {
      return false;  // a broken header fails where its entry is read, if it is
    }
  }

  std::uint64_t checked_fit(const zip::Entry& e, std::uint64_t at) const {
    if (at > file_.size() || e.size > file_.size() - at)
      fail("entry '" + e.name + "' runs past the end of the file (truncated?)");
    return at;
  }

  // Small entries (data.pkl, version) are always checked: a corrupt pickle
  // should fail as corrupt, not as whatever garbage it decodes to.
  static void check_crc(const zip::Entry& e, std::uint32_t crc) {
    if (crc != e.crc32)
      fail("entry '" + e.name + "' fails its CRC-32 check (corrupt file)");
  }

  // A storage to read; holding it keeps its memory alive even when the
  // pickle dropped it (a bare storage becomes an Unsupported leaf).
  struct Pending {
    const zip::Entry* entry;
    c10::Storage storage;
    detail::ReadJob job;
  };

  const File& file_;
  bool verify_crc_;
  bool zip64_offsets_ = false;  // see zip::expected_data_offset
  std::vector<Pending> pending_;
  std::unordered_map<std::string, zip::Entry> entries_;
  std::string prefix_;
};

void check_format(const Archive& archive) {
  const std::string version_entry = archive.has("version") ? "version" : ".data/version";
  const std::string text = archive.bytes(version_entry);
  std::uint64_t version = 0;
  std::size_t digits = 0;
  for (; digits < text.size() && text[digits] >= '0' && text[digits] <= '9' && digits < 6; ++digits)
    version = version * 10 + static_cast<std::uint64_t>(text[digits] - '0');
  if (digits == 0) fail("unreadable version record");
  if (version > max_version)
    fail("format version " + std::to_string(version) + " is newer than this reader's (" + std::to_string(max_version) + ")");
  if (archive.has("byteorder") && archive.bytes("byteorder") != "little")
    fail("big-endian checkpoints are not supported");
}

Value load_file(const std::string& path, const LoadOptions& options) {
  const File file(path, options.mmap);
  if (file.size() >= 2 && file.read(0, 2) == "\x80\x02")
    fail("legacy (pre-1.6, non-zip) torch format is not supported");
  Archive archive(file, options.verify_crc);
  check_format(archive);
  const std::string pickle = archive.bytes("data.pkl");
  const StorageLoader load_storage = [&](const std::string& key, std::size_t nbytes, const std::string&) {
    return archive.storage("data/" + key, nbytes);
  };
  Value value = unpickle(pickle, load_storage);
  archive.read_storages(options);
  return value;
}

}  // namespace

Value load(const std::string& path, const LoadOptions& options) {
  try {
    return load_file(path, options);
  } catch (const c10::Error& e) {
    throw Error(path + ": " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw Error(path + ": " + e.what());
  }
}

}  // namespace ckpt::torch_store
