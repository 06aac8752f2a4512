// Optimizer.load_state_dict() (state_dict.hpp). The layouts are pinned against the
// installed Python torch by tests/checkpointer.state_dict.test.cpp.
#include "layout_support.hpp"

namespace ckpt::checkpointer::layout {

using namespace detail;

namespace {

// Reads a saved optimizer tree, naming the file and the place of anything wrong.
struct Reader {
  const std::string& where;

  [[noreturn]] void fail(const std::string& path, const std::string& what) const {
    throw ts::Error(where + ": optimizer state_dict: " + path + ": " + what);
  }
  const ts::Value& need(const ts::Dict& d, const std::string& key, const std::string& path) const {
    const ts::Value* v = d.find(key);
    if (!v) fail(path, "no '" + key + "'");
    return *v;
  }
  template <class T>
  const T& as(const ts::Value& v, const std::string& path, const char* what) const {
    if (!v.is<T>()) fail(path, std::string("expected a ") + what + ", found " + python_type(v));
    return v.as<T>();
  }
  // torch 2.x also allows a tensor lr.
  double number(const ts::Value& v, const std::string& path) const {
    if (v.is<double>()) return v.as<double>();
    if (v.is<std::int64_t>()) return static_cast<double>(v.as<std::int64_t>());
    if (v.is<at::Tensor>() && v.as<at::Tensor>().numel() == 1) return v.as<at::Tensor>().item<double>();
    fail(path, "expected a number, found " + python_type(v));
  }
  // None counts as false: torch 2.x writes fused=None.
  bool flag(const ts::Value& v, const std::string& path) const {
    if (v.is<bool>()) return v.as<bool>();
    if (v.is<ts::None>()) return false;
    if (v.is<std::int64_t>()) return v.as<std::int64_t>() != 0;
    fail(path, "expected a bool, found " + python_type(v));
  }
  bool flag(const ts::Dict& d, const char* key, const std::string& path) const {
    const ts::Value* v = d.find(key);
    return v && flag(*v, path + "." + key);
  }
  // Older torch saved step as a number.
  std::int64_t step(const ts::Value& v, const std::string& path) const {
    const double s = number(v, path);
    if (!(s >= 0) || s != std::floor(s) || s > 9.0e15) fail(path, "not a step count: " + repr(v));
    return static_cast<std::int64_t>(s);
  }
  // Cast as Python's Optimizer.load_state_dict does: to a floating
  // parameter's dtype, and to its device; otherwise the tensor as it is.
  at::Tensor state_tensor(const ts::Value& v, const at::Tensor& param, const std::string& path) const {
    at::Tensor t = as<at::Tensor>(v, path, "tensor");
    if (t.sizes() != param.sizes()) fail(path, "shape " + shape(t) + ", the parameter's is " + shape(param));
    if (param.is_floating_point() && t.scalar_type() != param.scalar_type()) t = t.to(param.scalar_type());
    if (t.device() != param.device()) t = t.to(param.device());
    return t;
  }
};

// Settings with no LibTorch counterpart that change the result.
void refuse_unsupported(Kind kind, const ts::Dict& group, const Reader& r, const std::string& path,
                        const std::string& type) {
  for (const char* key : {"maximize", "differentiable", "fused"})
    if (r.flag(group, key, path)) r.fail(path + "." + key, "True is not supported by LibTorch's " + type);
  // torch >= 2.7 writes it in Adam's groups and, as True, in AdamW's.
  if (const ts::Value* v = group.find("decoupled_weight_decay")) {
    const bool decoupled = r.flag(*v, path + ".decoupled_weight_decay");
    if (kind != Kind::sgd && decoupled != (kind == Kind::adamw))
      r.fail(path + ".decoupled_weight_decay", std::string(decoupled ? "True" : "False") + " does not match " + type);
  }
}

std::unique_ptr<torch::optim::OptimizerOptions> read_options(Kind kind, const torch::optim::OptimizerOptions& current,
                                                             const ts::Dict& g, const Reader& r,
                                                             const std::string& path) {
  auto options = current.clone();
  auto number = [&](const char* key) { return r.number(r.need(g, key, path), path + "." + key); };
  if (kind == Kind::sgd) {
    auto& o = static_cast<torch::optim::SGDOptions&>(*options);
    o.lr(number("lr")).momentum(number("momentum")).dampening(number("dampening"));
    o.weight_decay(number("weight_decay")).nesterov(r.flag(g, "nesterov", path));
    return options;
  }
  const ts::Value& betas = r.need(g, "betas", path);
  const auto& items =
      betas.is<ts::List>() ? betas.as<ts::List>().items : r.as<ts::Tuple>(betas, path + ".betas", "tuple").items;
  if (items.size() != 2) r.fail(path + ".betas", "expected 2 betas, found " + std::to_string(items.size()));
  const auto pair = std::make_tuple(r.number(items[0], path + ".betas[0]"), r.number(items[1], path + ".betas[1]"));
  auto set = [&](auto& o) {
    o.lr(number("lr")).betas(pair).eps(number("eps")).weight_decay(number("weight_decay"));
    o.amsgrad(r.flag(g, "amsgrad", path));
  };
  if (kind == Kind::adam)
    set(static_cast<torch::optim::AdamOptions&>(*options));
  else
    set(static_cast<torch::optim::AdamWOptions&>(*options));
  return options;
}

template <class State>
std::unique_ptr<State> read_adam_state(const ts::Dict& s, const at::Tensor& param, bool amsgrad, const Reader& r,
                                       const std::string& path) {
  auto state = std::make_unique<State>();
  state->step(r.step(r.need(s, "step", path), path + ".step"));
  state->exp_avg(r.state_tensor(r.need(s, "exp_avg", path), param, path + ".exp_avg"));
  state->exp_avg_sq(r.state_tensor(r.need(s, "exp_avg_sq", path), param, path + ".exp_avg_sq"));
  if (const ts::Value* max = s.find("max_exp_avg_sq"))
    state->max_exp_avg_sq(r.state_tensor(*max, param, path + ".max_exp_avg_sq"));
  else if (amsgrad)  // LibTorch's step would index the missing tensor
    r.fail(path, "no 'max_exp_avg_sq', and its group has amsgrad=True");
  return state;
}

std::unique_ptr<torch::optim::OptimizerParamState> read_state(Kind kind, const ts::Dict& s, const at::Tensor& param,
                                                              bool amsgrad, const Reader& r, const std::string& path) {
  if (kind == Kind::adam) return read_adam_state<torch::optim::AdamParamState>(s, param, amsgrad, r, path);
  if (kind == Kind::adamw) return read_adam_state<torch::optim::AdamWParamState>(s, param, amsgrad, r, path);
  // 1.13 writes momentum_buffer=None for momentum 0: no state, as here.
  const ts::Value* buffer = s.find("momentum_buffer");
  if (!buffer || buffer->is<ts::None>()) return nullptr;
  auto state = std::make_unique<torch::optim::SGDParamState>();
  state->momentum_buffer(r.state_tensor(*buffer, param, path + ".momentum_buffer"));
  return state;
}

}  // namespace

void restore_optimizer(Optimizer& optimizer, const ts::Value& state_dict, const std::string& where) {
  const Kind kind = kind_of(optimizer, where);
  const std::string type = type_name(optimizer);
  const Reader r{where};
  const auto& top = r.as<ts::Dict>(state_dict, "the top", "dict");
  const auto& saved_state = r.as<ts::Dict>(r.need(top, "state", "the top"), "state", "dict");
  const auto& saved_groups = r.as<ts::List>(r.need(top, "param_groups", "the top"), "param_groups", "list").items;
  auto& groups = optimizer.param_groups();
  if (saved_groups.size() != groups.size())
    r.fail("param_groups", std::to_string(saved_groups.size()) + " parameter groups in the file, " +
                               std::to_string(groups.size()) + " in the optimizer");

  // Saved indices name the parameters in order over all groups, as in Python.
  std::unordered_map<std::int64_t, std::pair<at::Tensor, bool>> by_index;  // -> parameter, its group's amsgrad
  std::vector<std::unique_ptr<torch::optim::OptimizerOptions>> options;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const std::string path = "param_groups[" + std::to_string(g) + "]";
    const auto& saved = r.as<ts::Dict>(saved_groups[g], path, "dict");
    const auto& indices = r.as<ts::List>(r.need(saved, "params", path), path + ".params", "list").items;
    const auto& params = groups[g].params();
    if (indices.size() != params.size())
      r.fail(path, std::to_string(indices.size()) + " parameters in the file, " + std::to_string(params.size()) +
                     " in the optimizer's group");
    refuse_unsupported(kind, saved, r, path, type);
    options.push_back(read_options(kind, groups[g].options(), saved, r, path));
    const bool amsgrad = r.flag(saved, "amsgrad", path);
    for (std::size_t i = 0; i < params.size(); ++i) {
      const auto index = r.as<std::int64_t>(indices[i], path + ".params[" + std::to_string(i) + "]", "int");
      by_index[index] = {params[i], amsgrad};
    }
  }

  // Python keeps state under keys that name no parameter; it is never used.
  std::vector<std::pair<at::Tensor, std::unique_ptr<torch::optim::OptimizerParamState>>> states;
  for (const auto& [key, value] : saved_state.items) {
    const auto it = key.is<std::int64_t>() ? by_index.find(key.as<std::int64_t>()) : by_index.end();
    if (it == by_index.end()) continue;
    const std::string path = "state[" + repr(key) + "]";
    const auto& [param, amsgrad] = it->second;
    if (auto s = read_state(kind, r.as<ts::Dict>(value, path, "dict"), param, amsgrad, r, path))
      states.emplace_back(param, std::move(s));
  }

  // All valid: replace the options and the whole state, as Python does.
  for (std::size_t g = 0; g < groups.size(); ++g) groups[g].set_options(std::move(options[g]));
  auto& slots = optimizer.state();
  for (const auto& group : groups)
    for (const auto& param : group.params()) slots.erase(state_key(slots, param));
  for (auto& [param, s] : states) slots[state_key(slots, param)] = std::move(s);
}

}  // namespace ckpt::checkpointer::layout
