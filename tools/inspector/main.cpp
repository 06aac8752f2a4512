// ckpt-inspect: what a checkpoint holds, and whether it is whole. Run as
// tools/inspect (see --help). C++17 + the tensor store; reads only.
#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "ckpt/store/torch/checkpoint.hpp"
#include "storage_types.hpp"

namespace {

namespace ts = ckpt::torch_store;

const char* usage = R"(usage: tools/inspect FILE... [--verify] [--json]

Prints what a checkpoint (torch's zip format: ours, torch.save's,
mmengine's, mmcv's) holds: its top-level keys, meta, every tensor with its
dtype, shape and bytes, and the hook's runtime info (message_hub's
runtime_info, or mmcv's meta.hook_msgs).

  --verify   check the zip structure, data.pkl and the CRC-32 of every
             record first (a flipped bit, a torn or truncated file fails)
  --json     one JSON object instead of the tree: path, bytes, valid,
             error, keys, meta, runtime_info, tensors [{key, dtype, shape,
             bytes}], tensor_bytes

Several FILEs: each in turn (with --json, one object per line).
Exit status: 0 when every file is valid (and, with --verify, verified);
1 when one is not, with a one-line reason on stderr; 2 for bad usage.
)";

struct Tensor {
  std::string key, dtype;
  std::vector<std::int64_t> shape;
  std::uint64_t bytes = 0;
};

std::string key_text(const ts::Value& k) {
  if (k.is<std::string>()) return k.as<std::string>();
  std::ostringstream s;
  s << k;
  return s.str();
}

void collect(const ts::Value& v, const std::string& key, std::vector<Tensor>& out, int depth = 0) {
  if (depth > 64) return;
  auto join = [&](const std::string& k) { return key.empty() ? k : key + "." + k; };
  if (v.is<at::Tensor>()) {
    const at::Tensor& t = v.as<at::Tensor>();
    const char* dtype = t.defined() ? ts::python_dtype(t.scalar_type()) : "undefined";
    Tensor x{key, dtype ? dtype : "unknown", {}, 0};
    if (t.defined()) {
      x.shape = t.sizes().vec();
      x.bytes = static_cast<std::uint64_t>(t.numel()) * t.element_size();
    }
    out.push_back(std::move(x));
  } else if (v.is<ts::Dict>()) {
    for (const auto& [k, x] : v.as<ts::Dict>().items) collect(x, join(key_text(k)), out, depth + 1);
  } else if (v.is<ts::List>() || v.is<ts::Tuple>()) {
    const auto& items = v.is<ts::List>() ? v.as<ts::List>().items : v.as<ts::Tuple>().items;
    for (std::size_t i = 0; i < items.size(); ++i) collect(items[i], join(std::to_string(i)), out, depth + 1);
  }
}

std::string shape_text(const std::vector<std::int64_t>& shape, const char* open = "[", const char* close = "]") {
  std::string s = open;
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + close;
}

std::string quoted(const std::string& s) { return ts::to_json(ts::Value(s)); }

// The hook's runtime info: message_hub.runtime_info (mmengine), meta.hook_msgs (mmcv).
const ts::Value* runtime_info(const ts::Dict& top) {
  if (const ts::Value* hub = top.find("message_hub"); hub && hub->is<ts::Dict>())
    if (const ts::Value* info = hub->as<ts::Dict>().find("runtime_info")) return info;
  if (const ts::Value* meta = top.find("meta"); meta && meta->is<ts::Dict>())
    if (const ts::Value* msgs = meta->as<ts::Dict>().find("hook_msgs")) return msgs;
  return nullptr;
}

void print_tree(const ts::Value& v, int indent, int depth = 0) {
  const std::string pad(static_cast<std::size_t>(indent), ' ');
  if (!v.is<ts::Dict>() || depth > 8) return;
  for (const auto& [k, x] : v.as<ts::Dict>().items) {
    std::cout << pad << key_text(k);
    if (x.is<at::Tensor>()) {
      std::vector<Tensor> t;
      collect(x, "", t);
      std::cout << "  " << t[0].dtype << shape_text(t[0].shape) << "  " << t[0].bytes << " B\n";
    } else if (x.is<ts::Dict>()) {
      std::vector<Tensor> t;
      collect(x, "", t);
      std::uint64_t bytes = 0;
      for (const auto& y : t) bytes += y.bytes;
      std::cout << ": " << (x.as<ts::Dict>().ordered ? "OrderedDict" : "dict") << " of "
                << x.as<ts::Dict>().items.size();
      if (!t.empty()) std::cout << ", " << t.size() << " tensors, " << bytes << " B";
      std::cout << "\n";
      print_tree(x, indent + 2, depth + 1);
    } else {
      std::ostringstream s;
      s << x;
      std::string text = s.str();
      if (text.size() > 200) text = text.substr(0, 197) + "...";
      std::cout << ": " << text << "\n";
    }
  }
}

std::uint64_t file_size(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
}

int fail(const std::string& path, const std::string& why, bool json) {
  if (json)
    std::cout << "{\"path\": " << quoted(path) << ", \"bytes\": " << file_size(path)
              << ", \"valid\": false, \"error\": " << quoted(why) << "}\n";
  std::cerr << "inspect: " << path << ": " << why << "\n";
  return 1;
}

int inspect(const std::string& path, bool verify, bool json) {
  const std::uint64_t size = file_size(path);
  if (!json && size > (64u << 20)) std::cerr << "inspect: reading " << path << " (" << (size >> 20) << " MiB)...\n";
  if (verify) {
    ts::Verified checked = ts::verify(path);  // names the file first: said once
    if (checked.error.rfind(path + ": ", 0) == 0) checked.error.erase(0, path.size() + 2);
    if (!checked.error.empty()) return fail(path, checked.error, json);
  }
  ts::Value file;
  try {
    ts::LoadOptions options;
    options.verify_crc = false;  // --verify checked them; the tree needs none
    options.mmap = true;         // tensors' bytes are not read to print their shapes
    file = ts::load(path, options);
  } catch (const std::exception& e) {
    return fail(path, e.what(), json);
  }
  if (!file.is<ts::Dict>()) return fail(path, "not a checkpoint: the top level is not a dict", json);
  const ts::Dict& top = file.as<ts::Dict>();
  std::vector<Tensor> tensors;
  collect(file, "", tensors);
  std::uint64_t tensor_bytes = 0;
  for (const auto& t : tensors) tensor_bytes += t.bytes;
  const ts::Value* info = runtime_info(top);
  const ts::Value* meta = top.find("meta");
  if (json) {
    std::cout << "{\"path\": " << quoted(path) << ", \"bytes\": " << size << ", \"valid\": true, \"verified\": "
              << (verify ? "true" : "false") << ", \"keys\": [";
    for (std::size_t i = 0; i < top.items.size(); ++i) std::cout << (i ? ", " : "") << quoted(key_text(top.items[i].first));
    std::cout << "], \"meta\": " << (meta ? ts::to_json(*meta) : "null")
              << ", \"runtime_info\": " << (info ? ts::to_json(*info) : "null") << ", \"tensors\": [";
    for (std::size_t i = 0; i < tensors.size(); ++i)
      std::cout << (i ? ", " : "") << "{\"key\": " << quoted(tensors[i].key) << ", \"dtype\": " << quoted(tensors[i].dtype)
                << ", \"shape\": " << shape_text(tensors[i].shape) << ", \"bytes\": " << tensors[i].bytes << "}";
    std::cout << "], \"tensor_bytes\": " << tensor_bytes << "}" << std::endl;
    return 0;
  }
  std::cout << path << "  " << size << " B, " << tensors.size() << " tensors (" << tensor_bytes << " B)"
            << (verify ? ", verified (zip structure, every CRC-32)" : "") << "\n";
  print_tree(file, 2);
  if (info) std::cout << "runtime info: " << ts::to_json(*info) << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> paths;
  bool verify = false, json = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::cout << usage;
      return 0;
    }
    if (a == "--verify") verify = true;
    else if (a == "--json") json = true;
    else if (!a.empty() && a[0] == '-') {
      std::cerr << "inspect: unknown option '" << a << "' (see --help)\n";
      return 2;
    } else paths.push_back(a);
  }
  if (paths.empty()) {
    std::cerr << usage;
    return 2;
  }
  int status = 0;
  for (const auto& path : paths) status = std::max(status, inspect(path, verify, json));
  return status;
}
