// Module.state_dict() both ways (state_dict.hpp). The layouts are pinned against the
// installed Python torch by tests/checkpointer.state_dict.test.cpp.
#include "layout_support.hpp"

namespace ckpt::checkpointer::layout {

using namespace detail;

namespace {

// Python's norm layers (_NormBase) save version 2, which their loader reads.
bool is_norm(const Module& m) {
  namespace nn = torch::nn;
  return dynamic_cast<const nn::BatchNorm1dImpl*>(&m) || dynamic_cast<const nn::BatchNorm2dImpl*>(&m) ||
         dynamic_cast<const nn::BatchNorm3dImpl*>(&m) || dynamic_cast<const nn::InstanceNorm1dImpl*>(&m) ||
         dynamic_cast<const nn::InstanceNorm2dImpl*>(&m) || dynamic_cast<const nn::InstanceNorm3dImpl*>(&m);
}

// Python's recursion: the module, then each child under "<prefix><name>.";
// a module registered twice is visited twice, as there.
void walk(const Module& module, const std::string& prefix,
          const std::function<void(const Module&, const std::string&)>& visit) {
  visit(module, prefix);
  for (const auto& child : module.named_children()) walk(*child.value(), prefix + child.key() + ".", visit);
}

// Not detached. Undefined tensors (a Linear without bias) are left out, as
// Python leaves out its None entries.
Tensors own_tensors(const Module& module) {
  Tensors out;
  walk(module, "", [&](const Module& m, const std::string& prefix) {
    for (const auto& p : m.named_parameters(/*recurse=*/false))
      if (p.value().defined()) out.emplace_back(prefix + p.key(), p.value());
    for (const auto& b : m.named_buffers(/*recurse=*/false))
      if (b.value().defined()) out.emplace_back(prefix + b.key(), b.value());
  });
  return out;
}

}  // namespace

ts::Dict module_state(const Module& module) {
  ts::Dict state({}, /*ordered=*/true);
  for (auto& [name, tensor] : own_tensors(module)) state.items.emplace_back(name, tensor.detach());
  ts::Dict metadata({}, /*ordered=*/true);
  walk(module, "", [&](const Module& m, const std::string& prefix) {
    std::string name = prefix.empty() ? prefix : prefix.substr(0, prefix.size() - 1);
    metadata.items.emplace_back(std::move(name), ts::Dict(ts::Dict::Items{{"version", is_norm(m) ? 2 : 1}}));
  });
  state.attributes.emplace_back("_metadata", std::move(metadata));
  return state;
}

Tensors module_tensors(Module& module) {
  Tensors out = own_tensors(module);
  for (auto& item : out) item.second = item.second.detach();
  return out;
}

void restore_module(Module& module, const ts::Value& state_dict, const std::string& where) {
  if (!state_dict.is<ts::Dict>()) throw ts::Error(where + ": a state_dict is a dict, not " + python_type(state_dict));
  const Tensors targets = own_tensors(module);
  std::unordered_set<std::string> names;
  for (const auto& item : targets) names.insert(item.first);
  std::unordered_map<std::string, const ts::Value*> given;
  std::vector<std::string> unexpected, missing, mismatched;
  for (const auto& [key, value] : state_dict.as<ts::Dict>().items) {
    if (key.is<std::string>() && names.count(key.as<std::string>()))
      given.emplace(key.as<std::string>(), &value);
    else
      unexpected.push_back(repr(key));
  }
  for (const auto& [name, target] : targets) {
    const auto it = given.find(name);
    if (it == given.end()) {
      missing.push_back(repr(name));
    } else if (!it->second->is<at::Tensor>()) {
      mismatched.push_back(repr(name) + " is a " + python_type(*it->second) + ", not a tensor");
    } else if (const auto& t = it->second->as<at::Tensor>(); t.sizes() != target.sizes()) {
      mismatched.push_back("shape mismatch for " + repr(name) + ": " + shape(t) + " in the file, " + shape(target) +
                           " in the module");
    }
  }
  if (!missing.empty() || !unexpected.empty() || !mismatched.empty()) {
    std::string message = where + ": the state_dict does not fit " + module.name() + " (strict):";
    if (!missing.empty()) message += "\n  missing keys: " + joined(missing);
    if (!unexpected.empty()) message += "\n  unexpected keys: " + joined(unexpected);
    for (const auto& line : mismatched) message += "\n  " + line;
    throw ts::Error(message);
  }
  torch::NoGradGuard no_grad;
  for (const auto& [name, target] : targets) {
    const at::Tensor& source = given.at(name)->as<at::Tensor>();
    if (!same_tensor(source, target)) target.copy_(source);
  }
}

}  // namespace ckpt::checkpointer::layout
