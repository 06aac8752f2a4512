// Every tensor a Value holds, hidden ones included: an OrderedDict's
// attributes, an unsupported object's recipe, dict keys. Who shares a
// storage (into.cpp) and how many tensors a file describes (verify.cpp)
// must not miss one. Recursion is bounded by the unpickler's depth limit.
#pragma once
#include <ATen/core/Tensor.h>

#include "checkpoint.hpp"

namespace ckpt::torch_store::detail {

template <class F>
void for_each_tensor(const Value& v, F&& f) {
  if (v.is<at::Tensor>()) {
    if (v.as<at::Tensor>().defined()) f(v.as<at::Tensor>());
  } else if (v.is<List>() || v.is<Tuple>()) {
    for (const Value& i : v.is<List>() ? v.as<List>().items : v.as<Tuple>().items) for_each_tensor(i, f);
  } else if (v.is<Dict>()) {
    for (const auto* pairs : {&v.as<Dict>().items, &v.as<Dict>().attributes})
      for (const auto& [k, i] : *pairs) for_each_tensor(k, f), for_each_tensor(i, f);
  } else if (v.is<Unsupported>() && v.as<Unsupported>().recipe) {
    const Recipe& r = *v.as<Unsupported>().recipe;
    for_each_tensor(r.callable, f);
    for_each_tensor(r.args, f);
    for (const Value& i : r.list_items) for_each_tensor(i, f);
    for (const auto& [k, i] : r.dict_items) for_each_tensor(k, f), for_each_tensor(i, f);
    if (r.state) for_each_tensor(*r.state, f);
  }
}

}  // namespace ckpt::torch_store::detail
