// The checkpoint archive as load and verify read it: the zip directory, the
// archive folder, whole small entries (CRC checked), and storage entries as
// unpickling names them: mapped, or described (their size known, no memory
// yet) for a later parallel read, with their data offsets guessed from the
// central directory. Every failure is an Error naming the entry and the
// problem (the caller adds the file). Internal to the reader.
#pragma once
#include <c10/core/Storage.h>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "parallel_read.hpp"
#include "source_file.hpp"
#include "zip.hpp"

namespace ckpt::torch_store::detail {

/// A storage named by the pickle, not read yet. Its c10::Storage has the
/// entry's size and no memory (a null data pointer) until the reader gives
/// it some, or never, when its bytes go straight into a caller's tensor.
struct Described {
  const zip::Entry* entry = nullptr;
  c10::Storage storage;
  std::uint64_t offset = 0;  // of its data in the file
  bool guessed = false;      // `offset` is the padding rule's guess: the local header is read along and checked
  std::size_t n() const { return static_cast<std::size_t>(entry->size); }
};

class Archive {
 public:
  Archive(const File& file, bool verify_crc);
  Archive(const Archive&) = delete;
  Archive& operator=(const Archive&) = delete;

  bool has(const std::string& relative) const;
  /// A whole entry, CRC checked (data.pkl, version).
  std::string bytes(const std::string& relative) const;
  /// For the unpickler: storage `relative`, at least `at_least` bytes;
  /// mapped (and CRC checked now) when the file is, described otherwise.
  c10::Storage storage(const std::string& relative, std::size_t at_least);
  const std::vector<Described>& described() const { return described_; }
  /// Reads `jobs`, each with its guessed offset checked against the local
  /// header where it has an entry, again from where the header says when
  /// the guess missed. The results' CRCs are the bytes read.
  std::vector<ReadResult> read(const std::vector<ReadJob>& jobs, const ReadSettings& settings) const;
  /// Where an entry's data starts, from its local header; inside the file.
  std::uint64_t data_offset(const zip::Entry& e) const;
  /// Where an entry's data starts as the padding rule guesses it (`guessed`),
  /// or, where the guess runs past the end, as its local header says.
  struct Located {
    std::uint64_t offset = 0;
    bool guessed = false;
  };
  Located locate(const zip::Entry& e) const;
  /// An entry of this archive, stored uncompressed (what torch writes).
  const zip::Entry& entry(const std::string& relative) const;
  /// `e`, after checking it is stored uncompressed.
  static const zip::Entry& stored(const zip::Entry& e);
  static void check_crc(const zip::Entry& e, std::uint32_t crc);
  /// Every entry of the zip, by name.
  const std::unordered_map<std::string, zip::Entry>& entries() const { return entries_; }
  std::uint64_t checked_fit(const zip::Entry& e, std::uint64_t at) const;

 private:
  zip::ReadAt read_at() const;
  bool has_zip64_offset(const zip::Entry& e) const;

  const File& file_;
  bool verify_crc_;
  bool zip64_offsets_ = false;  // see zip::expected_data_offset
  std::vector<Described> described_;
  std::unordered_map<std::string, zip::Entry> entries_;
  std::string prefix_;
};

/// The `version` record this reader understands, little-endian byte order.
void check_format(const Archive& archive);

}  // namespace ckpt::torch_store::detail
