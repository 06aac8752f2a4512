// Internals shared by the state_dict layouts (module_state.cpp,
// optimizer_state.cpp, optimizer_restore.cpp): how values and tensors are
// named in messages, and which LibTorch optimizer is which. C++17.
#pragma once
#include <c10/core/DefaultDtype.h>
#include <c10/util/Type.h>
#include <torch/nn/functional/instancenorm.h>  // 1.13's modules/instancenorm.h needs it first
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/instancenorm.h>
#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <sstream>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <string>
#include <typeinfo>
#include <vector>

#include "ckpt/checkpointer/state_dict.hpp"

namespace ckpt::checkpointer::layout::detail {

using torch::nn::Module;
using torch::optim::Optimizer;
using Tensors = std::vector<std::pair<std::string, torch::Tensor>>;

inline std::string python_type(const ts::Value& v) {
  if (v.is<ts::None>()) return "None";
  if (v.is<bool>()) return "bool";
  if (v.is<std::int64_t>()) return "int";
  if (v.is<double>()) return "float";
  if (v.is<std::string>()) return "str";
  if (v.is<ts::List>()) return "list";
  if (v.is<ts::Tuple>()) return "tuple";
  if (v.is<ts::Dict>()) return v.as<ts::Dict>().ordered ? "OrderedDict" : "dict";
  if (v.is<at::Tensor>()) return "tensor";
  return v.as<ts::Unsupported>().class_name;
}

inline std::string repr(const ts::Value& v) {
  if (v.is<std::string>()) return '"' + v.as<std::string>() + '"';
  std::ostringstream os;
  os << v;
  return os.str();
}

inline std::string shape(const at::Tensor& t) {
  std::ostringstream os;
  os << '[';
  for (std::int64_t i = 0; i < t.dim(); ++i) os << (i ? ", " : "") << t.size(i);
  os << ']';
  return os.str();
}

inline std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

// Loaded in place: the very tensor, or the same memory viewed the same way.
inline bool same_tensor(const at::Tensor& a, const at::Tensor& b) {
  if (a.unsafeGetTensorImpl() == b.unsafeGetTensorImpl()) return true;
  return a.has_storage() && b.has_storage() && a.data_ptr() == b.data_ptr() && a.device() == b.device() &&
         a.scalar_type() == b.scalar_type() && a.sizes() == b.sizes() && a.strides() == b.strides();
}

enum class Kind { sgd, adam, adamw };

inline std::string type_name(const Optimizer& optimizer) { return c10::demangle(typeid(optimizer).name()); }

inline Kind kind_of(const Optimizer& optimizer, const std::string& where = {}) {
  if (dynamic_cast<const torch::optim::SGD*>(&optimizer)) return Kind::sgd;
  if (dynamic_cast<const torch::optim::Adam*>(&optimizer)) return Kind::adam;
  if (dynamic_cast<const torch::optim::AdamW*>(&optimizer)) return Kind::adamw;
  throw ts::Error((where.empty() ? "" : where + ": ") + "no state_dict layout for optimizer " + type_name(optimizer) +
                  " (there is one for torch::optim::SGD, Adam and AdamW)");
}

// LibTorch keys an optimizer's state by the parameter's TensorImpl: up to
// 2.1 as the text c10::guts::to_string made of the pointer (it streamed it),
// from 2.2 as the pointer itself (void*), when c10::guts::to_string went
// away. The key type is read off the map, so both compile.
template <class Map>
inline typename Map::key_type state_key(const Map&, const at::Tensor& param) {
  using Key = typename Map::key_type;
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream text;
    text << param.unsafeGetTensorImpl();
    return text.str();
  } else {
    return static_cast<Key>(param.unsafeGetTensorImpl());
  }
}

inline const torch::optim::OptimizerParamState* find_state(const Optimizer& optimizer, const at::Tensor& param) {
  const auto& slots = optimizer.state();
  const auto it = slots.find(state_key(slots, param));
  return it == slots.end() ? nullptr : it->second.get();
}

}  // namespace ckpt::checkpointer::layout::detail
