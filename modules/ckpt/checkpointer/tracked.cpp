#include "tracked.hpp"

#include <ctime>
#include <map>
#include <memory>
#include <utility>

#include "ckpt/internal/overload.hpp"
#include "state_dict.hpp"
#include "values.hpp"

namespace ckpt::checkpointer {

using internal::overload;

namespace {

Error usage_error(const std::string& what) { return Error(what, "ValueError"); }

// mmengine's MessageHub.state_dict(): the runtime info with every key marked
// as resumed, so that a resumed MessageHub keeps saving it.
ts::Dict message_hub(const Tree::Dict& info, const ts::Dict& foreign) {
  ts::Dict runtime = to_torch(info), resumed;
  for (const auto& item : foreign.items)
    if (!runtime.find(item.first.as<std::string>())) runtime.items.push_back(item);
  for (const auto& item : runtime.items) resumed.items.emplace_back(item.first, true);
  ts::Dict hub;
  hub.set("log_scalars", ts::Dict{});
  hub.set("runtime_info", std::move(runtime));
  hub.set("resumed_keys", std::move(resumed));
  return hub;
}

}  // namespace

std::string wall_time(Profile profile) {
  std::time_t now = std::time(nullptr);
  std::tm local{};
  ::localtime_r(&now, &local);
  char text[64];
  std::strftime(text, sizeof text, profile == Profile::mmcv ? "%a %b %e %H:%M:%S %Y" : "%Y%m%d_%H%M%S", &local);
  return text;
}

std::string Tracked::key_of(const std::string& name) { return name == "model" ? "state_dict" : name; }

void Tracked::add(const std::string& name,
                  std::variant<torch::nn::Module*, torch::optim::Optimizer*, torch::Tensor*, Custom> what) {
  std::string key = key_of(name);
  if (name.empty()) throw usage_error("track: the name must not be empty");
  if (key == "meta" || key == "message_hub")
    throw usage_error("track: '" + name + "' is the file's own key (E29); choose another name");
  for (const Entry& e : entries_)
    if (e.key == key) throw usage_error("track: '" + name + "' is tracked already (as the file's '" + key + "')");
  if (auto* o = std::get_if<torch::optim::Optimizer*>(&what)) {
    try {
      layout::check_supported(**o);
    } catch (const std::exception& e) {
      throw Error(std::string("track: ") + e.what(), "TypeError");
    }
  }
  entries_.push_back(Entry{name, std::move(key), std::move(what)});
}

ts::Value Tracked::file_for(const SaveRequest& save, const FileFacts& facts) const {
  ts::Dict meta = to_torch(save.meta);
  if (facts.profile == Profile::mmcv) {
    meta.set("time", wall_time(facts.profile));  // C55: the runner's clock (the policy leaves a placeholder)
  } else {
    if (facts.seed) meta.set("seed", *facts.seed);
    meta.set("experiment_name", facts.experiment_name);
    meta.set("time", wall_time(facts.profile));
    if (facts.preempted_after) meta.set("preempted_after", *facts.preempted_after);
  }
  ts::Dict file;
  file.set("meta", std::move(meta));
  auto add = [&](const Entry& e) {
    std::visit(overload{
                   [&](torch::nn::Module* m) { file.set(e.key, layout::module_state(*m)); },
                   [&](torch::optim::Optimizer* o) { file.set(e.key, layout::optimizer_state(*o)); },
                   [&](torch::Tensor* t) { file.set(e.key, t->detach()); },
                   [&](const Custom& c) { file.set(e.key, c.save()); },
               },
               e.what);
  };
  for (const Entry& e : entries_)  // E29's order: meta, state_dict, message_hub, optimizer, ...
    if (e.key == "state_dict") add(e);
  if (facts.profile != Profile::mmcv) file.set("message_hub", message_hub(save.runtime_info, facts.foreign_runtime_info));
  for (const Entry& e : entries_) {
    if (e.key == "state_dict") continue;
    if (e.key == "optimizer" && !save.save_optimizer) continue;                 // E36, C55
    if (e.key == "param_schedulers" && !save.save_param_scheduler) continue;   // E36
    add(e);
  }
  return file;
}

void Tracked::restore(const ts::Value& file, const std::string& where) const {
  if (!file.is<ts::Dict>()) throw ts::Error(where + ": not a checkpoint (the top level is not a dict)");
  const ts::Dict& top = file.as<ts::Dict>();
  for (const Entry& e : entries_) {
    const ts::Value* v = top.find(e.key);
    if (!v) {
      // a best checkpoint has no optimizer (E36): resuming from one keeps the optimizer as it is
      if (std::holds_alternative<torch::optim::Optimizer*>(e.what) || e.key == "param_schedulers") continue;
      throw ts::Error(where + ": has no '" + e.key + "' for the tracked '" + e.name + "'");
    }
    std::visit(overload{
                   [&](torch::nn::Module* m) { layout::restore_module(*m, *v, where); },
                   [&](torch::optim::Optimizer* o) { layout::restore_optimizer(*o, *v, where); },
                   [&](torch::Tensor* t) {
                     if (!v->is<at::Tensor>()) throw ts::Error(where + ": '" + e.key + "' is not a tensor");
                     const at::Tensor& loaded = v->as<at::Tensor>();
                     if (loaded.sizes() != t->sizes() || loaded.scalar_type() != t->scalar_type())
                       throw ts::Error(where + ": '" + e.key + "' has another shape or dtype than the tracked tensor");
                     if (loaded.data_ptr() != t->data_ptr()) {
                       torch::NoGradGuard no_grad;
                       t->copy_(loaded);
                     }
                   },
                   [&](const Custom& c) { c.restore(*v); },
               },
               e.what);
  }
}

ts::Into Tracked::destinations() const {
  // The file's key path of each tracked tensor, as text ("state_dict\0fc1.weight").
  auto path_of = [](const std::vector<ts::Value>& keys) {
    std::string out;
    for (const auto& k : keys) {
      if (k.is<std::string>()) out += k.as<std::string>();
      else if (k.is<std::int64_t>()) out += "#" + std::to_string(k.as<std::int64_t>());
      else return std::string("\x01");  // a key no tracked tensor has
      out += '\0';
    }
    return out;
  };
  auto places = std::make_shared<std::map<std::string, torch::Tensor>>();
  for (const Entry& e : entries_) {
    std::visit(overload{
                   [&](torch::nn::Module* m) {
                     for (auto& [name, t] : layout::module_tensors(*m)) (*places)[path_of({e.key, name})] = t;
                   },
                   [&](torch::optim::Optimizer* o) {
                     for (auto& [keys, t] : layout::optimizer_tensors(*o)) {
                       std::vector<ts::Value> full{e.key};
                       full.insert(full.end(), keys.begin(), keys.end());
                       (*places)[path_of(full)] = t;
                     }
                   },
                   [&](torch::Tensor* t) { (*places)[path_of({e.key})] = *t; },
                   [&](const Custom&) {},
               },
               e.what);
  }
  return [places, path_of](const std::vector<ts::Value>& keys, const at::Tensor& described) -> at::Tensor {
    auto it = places->find(path_of(keys));
    if (it == places->end()) return {};
    const at::Tensor& t = it->second;
    // another shape or dtype: loaded fresh, and restore() names the mismatch
    if (t.sizes() != described.sizes() || t.scalar_type() != described.scalar_type()) return {};
    return t;
  };
}

std::vector<torch::Tensor> Tracked::buffers() const {
  std::vector<torch::Tensor> out;
  for (const Entry& e : entries_)
    if (auto* const* m = std::get_if<torch::nn::Module*>(&e.what))
      for (auto& b : (*m)->buffers())
        if (b.is_floating_point()) out.push_back(b);
  return out;
}

}  // namespace ckpt::checkpointer
