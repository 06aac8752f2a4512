// verify (verify.hpp): load's checks without load's memory. data.pkl is
// unpickled over described storages (sized, never allocated), then every
// other record is read once by the parallel reader with no destination:
// each piece lands in its thread's buffer, is folded into its CRC and
// dropped. Sizes the file claims are compared with the file's before
// anything is allocated (Archive), so a hostile directory costs nothing.
#include <ATen/ATen.h>

#include <algorithm>
#include <new>
#include <unordered_set>

#include "archive.hpp"
#include "unpickler.hpp"
#include "walk.hpp"

namespace ckpt::torch_store {
namespace {

using namespace detail;

std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s;
}

void check(const std::string& path, const VerifyOptions& options, Verified& out) {
  const File file(path, /*map=*/false);
  out.file_bytes = file.size();
  Archive archive(file, /*verify_crc=*/true);
  check_format(archive);
  const Value value = unpickle(archive.bytes("data.pkl"), [&](const std::string& key, std::size_t n, const std::string&) {
    return archive.storage("data/" + key, n);
  });
  std::unordered_set<const c10::TensorImpl*> tensors;
  for_each_tensor(value, [&](const at::Tensor& t) { tensors.insert(t.unsafeGetTensorImpl()); });
  out.tensors = tensors.size();
  // Every record but data.pkl (read whole above), in file order.
  std::vector<const zip::Entry*> records;
  for (const auto& [name, e] : archive.entries()) records.push_back(&Archive::stored(e));
  std::sort(records.begin(), records.end(), [](auto* a, auto* b) { return a->header_offset < b->header_offset; });
  const zip::Entry* pickle = &archive.entry("data.pkl");
  std::vector<ReadJob> jobs;
  std::vector<const zip::Entry*> read;
  for (const zip::Entry* e : records) {
    if (e == pickle) continue;
    const Archive::Located at = archive.locate(*e);
    jobs.push_back({at.offset, nullptr, static_cast<std::size_t>(e->size), at.guessed ? e : nullptr});
    read.push_back(e);
  }
  const std::vector<ReadResult> results = archive.read(jobs, {options.io_threads, options.direct_io, true});
  for (std::size_t i = 0; i < read.size(); ++i) Archive::check_crc(*read[i], results[i].crc);
  out.records = records.size();
}

}  // namespace

Verified verify(const std::string& path, const VerifyOptions& options) {
  Verified out;
  try {
    check(path, options, out);
  } catch (const c10::Error& e) {
    out.error = one_line(path + ": " + e.what_without_backtrace());
  } catch (const std::bad_alloc&) {
    out.error = path + ": out of memory";
  } catch (const std::exception& e) {
    out.error = one_line(path + ": " + e.what());
  } catch (...) {
    out.error = path + ": unknown failure";
  }
  return out;
}

}  // namespace ckpt::torch_store
