// Optimizer.state_dict() as torch.optim writes it (state_dict.hpp). The layouts are pinned against the
// installed Python torch by tests/checkpointer.state_dict.test.cpp.
#include "layout_support.hpp"

namespace ckpt::checkpointer::layout {

using namespace detail;

namespace {

// Python's constructors default these to the int 0.
ts::Value zero_as_int(double x) { return x == 0.0 ? ts::Value(0) : ts::Value(x); }

ts::Dict group_options(Kind kind, const torch::optim::OptimizerOptions& options) {
  if (kind == Kind::sgd) {
    const auto& o = static_cast<const torch::optim::SGDOptions&>(options);
    return ts::Dict({{"lr", o.lr()}, {"momentum", zero_as_int(o.momentum())},
                     {"dampening", zero_as_int(o.dampening())}, {"weight_decay", zero_as_int(o.weight_decay())},
                     {"nesterov", o.nesterov()}, {"maximize", false}, {"foreach", ts::None{}},
                     {"differentiable", false}});
  }
  auto adam = [](const auto& o) {
    return std::make_tuple(ts::Value(o.lr()), ts::Value(ts::Tuple{{std::get<0>(o.betas()), std::get<1>(o.betas())}}),
                           ts::Value(o.eps()), o.weight_decay(), ts::Value(o.amsgrad()));
  };
  if (kind == Kind::adam) {
    const auto [lr, betas, eps, weight_decay, amsgrad] = adam(static_cast<const torch::optim::AdamOptions&>(options));
    return ts::Dict({{"lr", lr}, {"betas", betas}, {"eps", eps}, {"weight_decay", zero_as_int(weight_decay)},
                     {"amsgrad", amsgrad}, {"maximize", false}, {"foreach", ts::None{}}, {"capturable", false},
                     {"differentiable", false}, {"fused", false}});
  }
  // 1.13's AdamW has its own key order and neither differentiable nor fused.
  const auto [lr, betas, eps, weight_decay, amsgrad] = adam(static_cast<const torch::optim::AdamWOptions&>(options));
  return ts::Dict({{"lr", lr}, {"betas", betas}, {"eps", eps}, {"weight_decay", weight_decay}, {"amsgrad", amsgrad},
                   {"foreach", ts::None{}}, {"maximize", false}, {"capturable", false}});
}

template <class State>
ts::Dict adam_state(const torch::optim::OptimizerParamState& base) {
  const auto& s = static_cast<const State&>(base);
  // Python 1.13 keeps step as a 0-dim tensor of the default dtype.
  const auto dtype = c10::get_default_dtype_as_scalartype();
  ts::Dict d({{"step", at::scalar_tensor(static_cast<double>(s.step()), at::TensorOptions().dtype(dtype))},
              {"exp_avg", s.exp_avg()},
              {"exp_avg_sq", s.exp_avg_sq()}});
  if (s.max_exp_avg_sq().defined()) d.items.emplace_back("max_exp_avg_sq", s.max_exp_avg_sq());
  return d;
}

ts::Dict param_state(Kind kind, const torch::optim::OptimizerParamState& base) {
  if (kind == Kind::adam) return adam_state<torch::optim::AdamParamState>(base);
  if (kind == Kind::adamw) return adam_state<torch::optim::AdamWParamState>(base);
  const auto& buffer = static_cast<const torch::optim::SGDParamState&>(base).momentum_buffer();
  return ts::Dict({{"momentum_buffer", buffer.defined() ? ts::Value(buffer) : ts::Value(ts::None{})}});
}

}  // namespace

void check_supported(const Optimizer& optimizer) { kind_of(optimizer); }

ts::Dict optimizer_state(const Optimizer& optimizer) {
  const Kind kind = kind_of(optimizer);
  ts::Dict state;
  ts::List groups;
  std::int64_t index = 0;
  for (const auto& group : optimizer.param_groups()) {
    ts::List params;
    for (const auto& param : group.params()) {
      if (const auto* s = find_state(optimizer, param)) state.items.emplace_back(index, param_state(kind, *s));
      params.items.emplace_back(index++);
    }
    ts::Dict saved = group_options(kind, group.options());
    saved.items.emplace_back("params", std::move(params));
    groups.items.emplace_back(std::move(saved));
  }
  return ts::Dict({{"state", std::move(state)}, {"param_groups", std::move(groups)}});
}

std::vector<std::pair<std::vector<ts::Value>, torch::Tensor>> optimizer_tensors(Optimizer& optimizer) {
  const Kind kind = kind_of(optimizer);
  std::vector<std::pair<std::vector<ts::Value>, torch::Tensor>> out;
  std::int64_t index = 0;
  for (const auto& group : optimizer.param_groups()) {
    for (const auto& param : group.params()) {
      const auto* s = find_state(optimizer, param);
      const std::int64_t i = index++;
      if (!s) continue;
      const ts::Dict tree = param_state(kind, *s);
      for (const auto& [name, value] : tree.items)
        if (value.is<at::Tensor>() && name != ts::Value("step"))
          out.push_back({{"state", i, name}, value.as<at::Tensor>()});
    }
  }
  return out;
}

}  // namespace ckpt::checkpointer::layout
