#include <sstream>

#include "handle.hpp"
#include "publish.hpp"

namespace ckpt::torch_store {

struct Handle::Impl {
  Value value;
};

struct HandleAccess {
  static Handle make(Value v) {
    Handle h;
    h.impl_ = std::make_shared<const Handle::Impl>(Handle::Impl{std::move(v)});
    return h;
  }
  static const Handle::Impl* impl(const Handle& h) { return h.impl_.get(); }
};

Handle::Handle() = default;
Handle::~Handle() = default;
Handle::Handle(const Handle&) = default;
Handle::Handle(Handle&&) noexcept = default;
Handle& Handle::operator=(const Handle&) = default;
Handle& Handle::operator=(Handle&&) noexcept = default;

Handle to_handle(Value checkpoint) { return HandleAccess::make(std::move(checkpoint)); }

const Value& value_of(const Handle& handle) {
  static const Value none;
  const Handle::Impl* impl = HandleAccess::impl(handle);
  return impl ? impl->value : none;
}

namespace {

void count_tensors(const Value& v, Summary& s) {
  if (v.is<at::Tensor>()) {
    const at::Tensor& t = v.as<at::Tensor>();
    ++s.tensor_count;
    if (t.defined()) s.tensor_bytes += static_cast<std::uint64_t>(t.numel()) * t.element_size();
  } else if (v.is<List>() || v.is<Tuple>()) {
    for (const Value& i : v.is<List>() ? v.as<List>().items : v.as<Tuple>().items) count_tensors(i, s);
  } else if (v.is<Dict>()) {
    for (const auto& [k, i] : v.as<Dict>().items) count_tensors(i, s);
  }
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
    return {};
  } catch (const std::exception& e) {
    return e.what();
  }
}

}  // namespace

LoadedHandle load_handle(const std::string& path) {
  LoadedHandle out;
  out.error = error_of([&] { out.handle = to_handle(load(path)); });
  return out;
}

std::string save_handle(const Handle& handle, int fd) {
  if (handle.empty()) return "cannot save an empty handle";
  return error_of([&] { save(value_of(handle), fd); });
}

Summary summarize(const Handle& handle) {
  Summary s;
  const Value& v = value_of(handle);
  if (v.is<Dict>())
    for (const auto& [k, i] : v.as<Dict>().items) {
      std::ostringstream key;
      if (k.is<std::string>()) key << k.as<std::string>(); else key << k;
      s.top_level_keys.push_back(key.str());
    }
  count_tensors(v, s);
  const Value* meta = v.is<Dict>() ? v.as<Dict>().find("meta") : nullptr;
  s.meta_json = meta ? to_json(*meta) : "null";
  return s;
}

LoadedSummary load_summary(const std::string& path) {
  LoadedSummary out;
  LoadOptions mapped;
  mapped.verify_crc = false;
  mapped.mmap = true;
  out.error = error_of([&] { out.summary = summarize(to_handle(load(path, mapped))); });
  return out;
}

PublishedFile publish_handle(const Handle& handle, const std::vector<std::string>& published_keys,
                             const std::function<std::string(std::string_view)>& name_for) {
  PublishedFile out;
  out.error = error_of([&] {
    const Published p = publish_as(published_subset(value_of(handle), published_keys), name_for);
    out.path = p.path;
    out.sha256 = p.sha256;
  });
  return out;
}

}  // namespace ckpt::torch_store
