// Test support for the tensor store: scratch folders, the Python side
// (tests/store.torch.py, skipped when the venv has no torch), the canonical
// description that both sides print, and sample checkpoints.
#pragma once
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ckpt/store/torch/checkpoint.hpp"
#include "ckpt/internal/sha256.hpp"
#include "sink.hpp"
#include "storage_types.hpp"
#include "writer.hpp"

namespace store_test {

namespace ts = ckpt::torch_store;
using ts::Dict;
using ts::List;
using ts::None;
using ts::Tuple;
using ts::Value;

// Files through POSIX, not std::filesystem: pip's libtorch 2.11 exports a
// broken std::filesystem::remove_all that calls address 0 when bound first.
inline bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

/// The names in a folder, sorted.
inline std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (const dirent* e = ::readdir(d))
      if (std::string(e->d_name) != "." && std::string(e->d_name) != "..") names.push_back(e->d_name);
    ::closedir(d);
  }
  std::sort(names.begin(), names.end());
  return names;
}

/// A fresh folder under $TMPDIR (or /tmp), removed with everything in it.
struct TempDir {
  std::string path;
  TempDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/store.torch.XXXXXX";
    path = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    ::nftw(path.c_str(), [](const char* p, const struct stat*, int, FTW*) { return ::remove(p); }, 16,
           FTW_DEPTH | FTW_PHYS);
  }
  std::string operator/(const std::string& name) const { return path + "/" + name; }
};

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

struct Ran {
  int status = -1;
  std::string output;  // stdout and stderr
};

inline Ran run(const std::string& command) {
  Ran r;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) r.output.append(buf, n);
  r.status = ::pclose(p);
  return r;
}

/// The venv's Python can import torch (and so run tests/store.torch.py).
inline bool python_available() {
  static const bool ok = run(std::string("'") + CKPT_PYTHON + "' -c 'import torch'").status == 0;
  return ok;
}

inline bool mmengine_available() {
  static const bool ok = python_available() &&
                         run(std::string("'") + CKPT_PYTHON + "' -W ignore -c 'import mmengine'").status == 0;
  return ok;
}

#define SKIP_WITHOUT_MMENGINE() \
  if (!store_test::mmengine_available()) GTEST_SKIP() << CKPT_PYTHON << " cannot import torch and mmengine"

#define SKIP_WITHOUT_PYTHON() \
  if (!store_test::python_available()) GTEST_SKIP() << CKPT_PYTHON << " cannot import torch"

/// tests/store.torch.py with arguments (paths without quotes in them).
inline Ran python(const std::string& args) {
  return run(std::string("'") + CKPT_PYTHON + "' -W ignore '" + CKPT_STORE_TORCH_SCRIPT + "' " + args);
}

/// A checkpoint file as save lays it out, but with any pickle (hostile ones
/// included) and storage entries `data/<key>` holding the given bytes.
inline void write_raw_checkpoint(const std::string& path, const std::string& pickle,
                                 const std::vector<std::pair<std::string, std::string>>& storages = {}) {
  std::vector<ts::StorageEntry> entries;
  for (const auto& [key, bytes] : storages) entries.emplace_back(key, bytes.size());
  std::ofstream(path, std::ios::trunc).close();
  const int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  ASSERT_GE(fd, 0) << path;
  ts::FdSink sink(fd);
  ts::write_archive(sink, {}, pickle, entries, [&](std::size_t i, ts::ZipStream& zip) {
    zip.write(storages[i].second.data(), storages[i].second.size());
  });
  sink.flush();
  ::close(fd);
}

// ---- the canonical description (tests/store.torch.py's `describe`) ----

inline std::string text(const std::string& s) {
  static const char hex[] = "0123456789abcdef";
  std::string out = "\"";
  for (char c : s) {
    const auto b = static_cast<unsigned char>(c);
    if (b >= 0x20 && b < 0x7f && c != '"' && c != '\\')
      out += c;
    else
      out += std::string("\\x") + hex[b >> 4] + hex[b & 15];
  }
  return out + "\"";
}

inline std::string key(const Value& k) {
  if (k.is<std::string>()) return text(k.as<std::string>());
  if (k.is<bool>()) return k.as<bool>() ? "True" : "False";
  if (k.is<None>()) return "None";
  if (k.is<std::int64_t>()) return std::to_string(k.as<std::int64_t>());
  return k.is<double>() ? "<float>" : k.is<Tuple>() ? "<tuple>" : "<?>";
}

inline std::string tensor_sha(const at::Tensor& t) {
  const at::Tensor c = t.detach().cpu().resolve_conj().resolve_neg().contiguous();
  ckpt::internal::Sha256 h;
  if (c.nbytes() > 0) h.update(c.data_ptr(), c.nbytes());
  return ckpt::internal::Sha256::hex(h.finish());
}

inline void describe(const Value& v, const std::string& path, std::ostringstream& out) {
  const std::string p = path.empty() ? "." : path;
  if (v.is<at::Tensor>()) {
    const at::Tensor& t = v.as<at::Tensor>();
    out << p << " tensor " << ts::python_dtype(t.scalar_type()) << " [";
    for (std::int64_t i = 0; i < t.dim(); ++i) out << (i ? ", " : "") << t.size(i);
    out << "] rg=" << t.requires_grad() << " sha=" << tensor_sha(t) << "\n";
  } else if (v.is<Dict>()) {
    const Dict& d = v.as<Dict>();
    out << p << (d.ordered ? " odict n=" : " dict n=") << d.items.size() << "\n";
    for (const auto& [k, i] : d.items) describe(i, path + "/" + key(k), out);
    for (const auto& [k, i] : d.attributes) describe(i, path + "@" + key(k), out);
  } else if (v.is<List>() || v.is<Tuple>()) {
    const auto& items = v.is<List>() ? v.as<List>().items : v.as<Tuple>().items;
    out << p << (v.is<List>() ? " list n=" : " tuple n=") << items.size() << "\n";
    for (std::size_t i = 0; i < items.size(); ++i) describe(items[i], path + "[" + std::to_string(i) + "]", out);
  } else if (v.is<None>()) {
    out << p << " None\n";
  } else if (v.is<bool>()) {
    out << p << (v.as<bool>() ? " True\n" : " False\n");
  } else if (v.is<std::int64_t>()) {
    out << p << " int " << v.as<std::int64_t>() << "\n";
  } else if (v.is<double>()) {
    std::uint64_t bits;
    const double d = v.as<double>();
    std::memcpy(&bits, &d, 8);
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%016llx", static_cast<unsigned long long>(bits));
    out << p << " float " << buf << "\n";
  } else if (v.is<std::string>()) {
    out << p << " str " << text(v.as<std::string>()) << "\n";
  } else {
    out << p << " object " << v.as<ts::Unsupported>().class_name << "\n";
  }
}

inline std::string describe(const Value& v) {
  std::ostringstream out;
  describe(v, "", out);
  return out.str();
}

// ---- sample checkpoints ----

/// A tensor with distinct, deterministic values of any dtype.
inline at::Tensor sample(at::IntArrayRef sizes, at::ScalarType dtype, double scale = 0.37) {
  const std::int64_t n = c10::multiply_integers(sizes);
  at::Tensor base = at::arange(n, at::kDouble).mul(scale).sin().mul(100);
  if (dtype == at::kBool) return base.gt(0).reshape(sizes);
  if (at::isIntegralType(dtype, /*includeBool=*/false)) base = base.round().remainder(dtype == at::kByte ? 256 : 120);
  return base.to(dtype).reshape(sizes);
}

/// E29's shape as mmengine's runner saves it, for a module with a Linear(3, 2)
/// `lin` and a BatchNorm1d(2) `bn` (tests/store.torch.py's Net).
inline Value runner_checkpoint() {
  Dict meta{{{"epoch", 3}, {"iter", 120}, {"cfg", "model = dict(type='Net')\n"}, {"seed", 42},
             {"experiment_name", "exp_20240101"}, {"time", "20240101_000000"}, {"mmengine_version", "0.10.7"},
             {"hook_msgs", Dict{{{"last_ckpt", "/w/epoch_3.pth"}}}}}};
  Dict state_dict{{{"lin.weight", sample({2, 3}, at::kFloat)},
                   {"lin.bias", sample({2}, at::kFloat, 1.1)},
                   {"bn.weight", at::ones({2})},
                   {"bn.bias", at::zeros({2})},
                   {"bn.running_mean", sample({2}, at::kFloat, 0.2)},
                   {"bn.running_var", at::full({2}, 0.9)},
                   {"bn.num_batches_tracked", at::scalar_tensor(8, at::kLong)}},
                  /*ordered=*/true};
  Dict momentum{{{0, Dict{{{"momentum_buffer", sample({2, 3}, at::kFloat, 0.5)}}}},
                 {1, Dict{{{"momentum_buffer", sample({2}, at::kFloat, 0.7)}}}}}};
  Dict group{{{"lr", 0.1}, {"momentum", 0.9}, {"dampening", 0}, {"weight_decay", 0}, {"nesterov", false},
              {"maximize", false}, {"foreach", None{}}, {"differentiable", false}, {"initial_lr", 0.1},
              {"params", List{{0, 1, 2, 3}}}}};
  Dict optimizer{{{"state", momentum}, {"param_groups", List{{group}}}}};
  Dict scheduler{{{"milestones", List{{8, 11}}}, {"gamma", 0.1}, {"base_values", List{{0.1}}},
                  {"last_step", 3}, {"by_epoch", true}, {"_get_lr_called_within_step", false}}};
  Dict message_hub{{{"log_scalars", Dict{{}, true}},
                    {"runtime_info", Dict{{{"epoch", 3}, {"iter", 120}, {"max_epochs", 12}}, true}},
                    {"resumed_keys", Dict{{{"epoch", true}, {"iter", true}}, true}}}};
  return Dict{{{"meta", meta},
               {"state_dict", state_dict},
               {"message_hub", message_hub},
               {"optimizer", optimizer},
               {"param_schedulers", List{{scheduler}}}}};
}

}  // namespace store_test
