// The archive (see archive.hpp).
#include "archive.hpp"

namespace ckpt::torch_store::detail {
namespace {

[[noreturn]] void fail(const std::string& what) { throw Error(what); }

// Newest `version` record this reader understands (torch 1.13 writes 3).
constexpr std::uint64_t max_version = 3;

// A storage of `n` bytes without memory: its tensors can be built and
// described, and touching their data before the reader fills it would
// fault at address 0 rather than read garbage.
c10::Storage described_storage(std::size_t n) {
  return c10::Storage(c10::Storage::use_byte_size_t(), n, c10::DataPtr(nullptr, c10::Device(c10::kCPU)), nullptr,
                      false);
}

}  // namespace

Archive::Archive(const File& file, bool verify_crc) : file_(file), verify_crc_(verify_crc) {
  if (file_.size() >= 2 && file_.read(0, 2) == "\x80\x02")
    fail("legacy (pre-1.6, non-zip) torch format is not supported");
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

bool Archive::has(const std::string& relative) const { return entries_.count(prefix_ + relative) > 0; }

// Mapped storages are checked now. Others are only described, with their
// data where the padding rule puts it: reading each local header now would
// be one small read from the disk per storage, in series. The reader
// checks the guesses.
c10::Storage Archive::storage(const std::string& relative, std::size_t at_least) {
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
  const Located at = locate(e);
  described_.push_back({&e, described_storage(n), at.offset, at.guessed});
  return described_.back().storage;
}

Archive::Located Archive::locate(const zip::Entry& e) const {
  const std::uint64_t guess = zip::expected_data_offset(e, zip64_offsets_);
  const bool fits = guess <= file_.size() && e.size <= file_.size() - guess;
  return {fits ? guess : data_offset(e), fits};  // data_offset names the problem, if any
}

std::vector<ReadResult> Archive::read(const std::vector<ReadJob>& jobs, const ReadSettings& settings) const {
  std::vector<ReadResult> results = read_jobs(file_.fd(), jobs, settings);
  std::vector<ReadJob> again;
  std::vector<std::size_t> moved;
  for (std::size_t i = 0; i < results.size(); ++i)
    if (results[i].moved_to) {
      moved.push_back(i);
      again.push_back({checked_fit(*jobs[i].entry, *results[i].moved_to), jobs[i].dest, jobs[i].n, nullptr});
    }
  if (!again.empty()) {
    std::vector<ReadResult> reread = read_jobs(file_.fd(), again, settings);
    for (std::size_t k = 0; k < moved.size(); ++k) results[moved[k]] = reread[k];
  }
  return results;
}

std::string Archive::bytes(const std::string& relative) const {
  const zip::Entry& e = entry(relative);
  const std::uint64_t at = data_offset(e);  // fits in the file: only then allocate what it claims
  std::string s(static_cast<std::size_t>(e.size), '\0');
  std::uint32_t crc = 0;
  file_.read_into(s.data(), at, s.size(), &crc);
  check_crc(e, crc);
  return s;
}

zip::ReadAt Archive::read_at() const {
  return [this](std::uint64_t o, std::size_t n) { return file_.read(o, n); };
}

const zip::Entry& Archive::entry(const std::string& relative) const {
  auto it = entries_.find(prefix_ + relative);
  if (it == entries_.end()) fail("missing entry '" + prefix_ + relative + "'");
  return stored(it->second);
}

const zip::Entry& Archive::stored(const zip::Entry& e) {
  if (e.method != 0)
    fail("entry '" + e.name + "' is compressed (method " + std::to_string(e.method) + "); torch stores entries uncompressed");
  return e;
}

std::uint64_t Archive::data_offset(const zip::Entry& e) const { return checked_fit(e, zip::data_offset(e, read_at())); }

bool Archive::has_zip64_offset(const zip::Entry& e) const {
  try {
    return zip::data_offset(e, read_at()) == zip::expected_data_offset(e, true);
  } catch (const std::runtime_error&) {
    return false;  // a broken header fails where its entry is read, if it is
  }
}

std::uint64_t Archive::checked_fit(const zip::Entry& e, std::uint64_t at) const {
  if (at > file_.size() || e.size > file_.size() - at)
    fail("entry '" + e.name + "' runs past the end of the file (truncated?)");
  return at;
}

// Small entries (data.pkl, version) are always checked: a corrupt pickle
// should fail as corrupt, not as whatever garbage it decodes to.
void Archive::check_crc(const zip::Entry& e, std::uint32_t crc) {
  if (crc != e.crc32) fail("entry '" + e.name + "' fails its CRC-32 check (corrupt file)");
}

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

}  // namespace ckpt::torch_store::detail
