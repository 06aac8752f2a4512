// Zip record encoding and decoding (APPNOTE 6.3), in the dialect torch
// writes: flags 0x0808 (data descriptor, UTF-8 names), times zero, version
// fields zero as miniz leaves them, zip64 end records always.
#include "zip.hpp"

#include <algorithm>
#include <stdexcept>

namespace ckpt::torch_store::zip {
namespace {

constexpr std::uint32_t local_sig = 0x04034b50, descriptor_sig = 0x08074b50,
                        central_sig = 0x02014b50, end64_sig = 0x06064b50,
                        locator_sig = 0x07064b50, end_sig = 0x06054b50;
constexpr std::uint16_t flags = 0x0808, zip64_tag = 0x0001;
constexpr std::size_t local_size = 30, central_size = 46, end64_size = 56,
                      locator_size = 20, end_size = 22;

template <class T>
void put(std::string& out, T v) {
  for (std::size_t i = 0; i < sizeof(T); ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

std::uint64_t get(std::string_view s, std::size_t at, std::size_t bytes) {
  if (at + bytes > s.size()) throw std::runtime_error("zip record cut short");
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < bytes; ++i) v |= std::uint64_t(static_cast<unsigned char>(s[at + i])) << (8 * i);
  return v;
}

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what); }

std::uint32_t clamp32(std::uint64_t v) { return v >= zip64_threshold ? 0xFFFFFFFFu : static_cast<std::uint32_t>(v); }

// The zip64 extra field of a central header: only the fields that overflow,
// in the order the spec fixes (uncompressed, compressed, offset).
std::string central_zip64(const Entry& e) {
  std::string body;
  if (e.size >= zip64_threshold) {
    put<std::uint64_t>(body, e.size);
    put<std::uint64_t>(body, e.size);
  }
  if (e.header_offset >= zip64_threshold) put<std::uint64_t>(body, e.header_offset);
  if (body.empty()) return body;
  std::string extra;
  put<std::uint16_t>(extra, zip64_tag);
  put<std::uint16_t>(extra, static_cast<std::uint16_t>(body.size()));
  return extra + body;
}

}  // namespace

std::string local_header(std::string_view name, std::uint64_t size, std::uint64_t offset) {
  const bool big = size >= zip64_threshold;
  // Data starts after the header, name, zip64 extra (if any) and 'FB' + length.
  const std::uint64_t start = offset + local_size + name.size() + (big ? 20 : 0) + 4;
  const auto pad = static_cast<std::uint16_t>((alignment - start % alignment) % alignment);
  std::string h;
  put<std::uint32_t>(h, local_sig);
  put<std::uint16_t>(h, big ? 45 : 0);
  put<std::uint16_t>(h, flags);
  put<std::uint16_t>(h, 0);  // STORED
  put<std::uint32_t>(h, 0);  // time, date
  put<std::uint32_t>(h, 0);  // CRC: in the data descriptor
  put<std::uint32_t>(h, big ? 0xFFFFFFFFu : 0);
  put<std::uint32_t>(h, big ? 0xFFFFFFFFu : 0);
  put<std::uint16_t>(h, static_cast<std::uint16_t>(name.size()));
  put<std::uint16_t>(h, static_cast<std::uint16_t>((big ? 20 : 0) + 4 + pad));
  h.append(name);
  if (big) {
    put<std::uint16_t>(h, zip64_tag);
    put<std::uint16_t>(h, 16);
    put<std::uint64_t>(h, size);
    put<std::uint64_t>(h, size);
  }
  h.append("FB");
  put<std::uint16_t>(h, pad);
  h.append(pad, 'Z');
  return h;
}

std::string data_descriptor(std::uint32_t crc32, std::uint64_t size) {
  std::string d;
  put<std::uint32_t>(d, descriptor_sig);
  put<std::uint32_t>(d, crc32);
  if (size >= zip64_threshold) {
    put<std::uint64_t>(d, size);
    put<std::uint64_t>(d, size);
  } else {
    put<std::uint32_t>(d, static_cast<std::uint32_t>(size));
    put<std::uint32_t>(d, static_cast<std::uint32_t>(size));
  }
  return d;
}

std::string central_directory(const std::vector<Entry>& entries, std::uint64_t offset) {
  std::string cd;
  for (const Entry& e : entries) {
    const std::string extra = central_zip64(e);
    put<std::uint32_t>(cd, central_sig);
    put<std::uint16_t>(cd, 0);  // made by
    put<std::uint16_t>(cd, extra.empty() ? 0 : 45);
    put<std::uint16_t>(cd, flags);
    put<std::uint16_t>(cd, e.method);
    put<std::uint32_t>(cd, 0);  // time, date
    put<std::uint32_t>(cd, e.crc32);
    put<std::uint32_t>(cd, clamp32(e.size));
    put<std::uint32_t>(cd, clamp32(e.size));
    put<std::uint16_t>(cd, static_cast<std::uint16_t>(e.name.size()));
    put<std::uint16_t>(cd, static_cast<std::uint16_t>(extra.size()));
    put<std::uint16_t>(cd, 0);  // comment
    put<std::uint16_t>(cd, 0);  // disk
    put<std::uint16_t>(cd, 0);  // internal attributes
    put<std::uint32_t>(cd, 0);  // external attributes
    put<std::uint32_t>(cd, clamp32(e.header_offset));
    cd.append(e.name);
    cd.append(extra);
  }
  const std::uint64_t cd_size = cd.size(), end64_at = offset + cd_size, n = entries.size();
  put<std::uint32_t>(cd, end64_sig);
  put<std::uint64_t>(cd, end64_size - 12);
  put<std::uint16_t>(cd, 0x031E);
  put<std::uint16_t>(cd, 45);
  put<std::uint32_t>(cd, 0);
  put<std::uint32_t>(cd, 0);
  put<std::uint64_t>(cd, n);
  put<std::uint64_t>(cd, n);
  put<std::uint64_t>(cd, cd_size);
  put<std::uint64_t>(cd, offset);
  put<std::uint32_t>(cd, locator_sig);
  put<std::uint32_t>(cd, 0);
  put<std::uint64_t>(cd, end64_at);
  put<std::uint32_t>(cd, 1);
  const auto n16 = static_cast<std::uint16_t>(n >= 0xFFFF ? 0xFFFF : n);
  put<std::uint32_t>(cd, end_sig);
  put<std::uint16_t>(cd, 0);
  put<std::uint16_t>(cd, 0);
  put<std::uint16_t>(cd, n16);
  put<std::uint16_t>(cd, n16);
  put<std::uint32_t>(cd, clamp32(cd_size));
  put<std::uint32_t>(cd, clamp32(offset));
  put<std::uint16_t>(cd, 0);
  return cd;
}

namespace {

struct End {
  std::uint64_t entries = 0, cd_size = 0, cd_offset = 0, at = 0;  // at: where the end records begin
};

// The end record is the last 22 bytes plus a comment of at most 64 KiB:
// search backwards for a signature whose comment length reaches the end.
End find_end(std::uint64_t file_size, const ReadAt& read_at) {
  if (file_size < end_size) fail("not a zip archive (" + std::to_string(file_size) + " bytes)");
  const std::uint64_t tail_len = std::min<std::uint64_t>(file_size, end_size + 0xFFFF);
  const std::string tail = read_at(file_size - tail_len, static_cast<std::size_t>(tail_len));
  if (tail.size() != tail_len) fail("cannot read the zip end record");
  for (std::size_t i = tail.size() - end_size + 1; i-- > 0;) {
    if (get(tail, i, 4) != end_sig || i + end_size + get(tail, i + 20, 2) != tail.size()) continue;
    End e{get(tail, i + 10, 2), get(tail, i + 12, 4), get(tail, i + 16, 4), file_size - tail_len + i};
    if (e.at < locator_size) return e;
    const std::string loc = read_at(e.at - locator_size, locator_size);
    if (get(loc, 0, 4) != locator_sig) return e;
    const std::uint64_t end64_at = get(loc, 8, 8);
    if (end64_at + end64_size > e.at) fail("zip64 end record out of bounds");
    const std::string end64 = read_at(end64_at, end64_size);
    if (get(end64, 0, 4) != end64_sig) fail("zip64 end record signature missing");
    return {get(end64, 32, 8), get(end64, 40, 8), get(end64, 48, 8), end64_at};
  }
  fail("no zip end record (not a zip-format torch file, or truncated)");
}

// Overflowed 32-bit fields are replaced, in order, from the zip64 extra field.
void apply_zip64(std::string_view extra, std::uint64_t& size, std::uint64_t& csize, std::uint64_t& offset) {
  for (std::size_t i = 0; i + 4 <= extra.size();) {
    const auto tag = get(extra, i, 2), len = get(extra, i + 2, 2);
    if (tag == zip64_tag) {
      std::size_t at = i + 4;
      for (std::uint64_t* field : {&size, &csize, &offset})
        if (*field == 0xFFFFFFFFu) {
          if (at + 8 > i + 4 + len) fail("zip64 extra field too short");
          *field = get(extra, at, 8);
          at += 8;
        }
      return;
    }
    i += 4 + len;
  }
}

}  // namespace

std::vector<Entry> read_directory(std::uint64_t file_size, const ReadAt& read_at) {
  const End end = find_end(file_size, read_at);
  if (end.cd_offset > end.at || end.cd_size > end.at - end.cd_offset)
    fail("central directory out of bounds (truncated file?)");
  const std::string cd = read_at(end.cd_offset, static_cast<std::size_t>(end.cd_size));
  if (cd.size() != end.cd_size) fail("cannot read the central directory");
  std::vector<Entry> entries;
  std::size_t i = 0;
  while (i < cd.size()) {
    if (get(cd, i, 4) != central_sig) fail("central directory entry " + std::to_string(entries.size()) + " is corrupt");
    Entry e;
    const auto gp_flags = get(cd, i + 8, 2);
    e.method = static_cast<std::uint16_t>(get(cd, i + 10, 2));
    e.crc32 = static_cast<std::uint32_t>(get(cd, i + 16, 4));
    std::uint64_t csize = get(cd, i + 20, 4);
    e.size = get(cd, i + 24, 4);
    const auto name_len = get(cd, i + 28, 2), extra_len = get(cd, i + 30, 2), comment_len = get(cd, i + 32, 2);
    e.header_offset = get(cd, i + 42, 4);
    if (i + central_size + name_len + extra_len + comment_len > cd.size()) fail("central directory cut short");
    e.name = cd.substr(i + central_size, name_len);
    apply_zip64(std::string_view(cd).substr(i + central_size + name_len, extra_len), e.size, csize, e.header_offset);
    if (gp_flags & 1) fail("entry '" + e.name + "' is encrypted");
    if (e.method == 0 && csize != e.size) fail("entry '" + e.name + "' has inconsistent sizes");
    entries.push_back(std::move(e));
    i += central_size + name_len + extra_len + comment_len;
  }
  if (entries.size() != end.entries)
    fail("central directory lists " + std::to_string(entries.size()) + " entries, the end record " +
         std::to_string(end.entries));
  return entries;
}

std::uint64_t data_offset(const Entry& entry, const ReadAt& read_at) {
  const std::string h = read_at(entry.header_offset, local_size + entry.name.size());
  if (h.size() != local_size + entry.name.size() || get(h, 0, 4) != local_sig)
    fail("local header of '" + entry.name + "' is missing or corrupt");
  const auto name_len = get(h, 26, 2), extra_len = get(h, 28, 2);
  if (name_len != entry.name.size() || h.compare(local_size, name_len, entry.name) != 0)
    fail("local header of '" + entry.name + "' names another entry");
  // Without a data descriptor (flag bit 3) the local header carries the
  // CRC and sizes too (0xFFFFFFFF: in its zip64 field, not compared).
  const auto agrees = [](std::uint64_t local, std::uint64_t central) { return local == 0xFFFFFFFFu || local == central; };
  const bool descriptor = get(h, 6, 2) & 8;
  if (get(h, 8, 2) != entry.method ||
      (!descriptor && (get(h, 14, 4) != entry.crc32 || !agrees(get(h, 18, 4), entry.size) || !agrees(get(h, 22, 4), entry.size))))
    fail("local header of '" + entry.name + "' disagrees with the central directory");
  return entry.header_offset + local_size + name_len + extra_len;
}

// torch's getPadding (caffe2/serialize/inline_container.cc); local_header
// is the same rule without the offset field.
std::uint64_t expected_data_offset(const Entry& entry, bool zip64_offset) {
  const bool big_size = entry.size >= zip64_threshold, big_offset = zip64_offset && entry.header_offset >= zip64_threshold;
  std::uint64_t start = entry.header_offset + local_size + entry.name.size() + 4;  // 'FB' + its length
  if (big_size || big_offset) start += 4 + (big_size ? 16 : 0) + (big_offset ? 8 : 0);
  return start + (alignment - start % alignment) % alignment;
}

}  // namespace ckpt::torch_store::zip
