// The typed hook arguments as the keyword arguments the policy reads.
#include <string>
#include <utility>
#include <vector>

#include "ckpt/checkpointer.hpp"

namespace ckpt {

namespace {

using checkpointer::Tree;

Tree strings(const std::vector<std::string>& xs) {
  Tree::List out;
  for (const auto& x : xs) out.emplace_back(x);
  return Tree(std::move(out));
}

void put(Tree::Dict& kw, const char* key, Tree value) { kw.emplace_back(key, std::move(value)); }

template <class T>
void put(Tree::Dict& kw, const char* key, const std::optional<T>& value) {
  if (value) {
    if constexpr (std::is_same_v<T, std::vector<std::string>>) put(kw, key, strings(*value));
    else put(kw, key, Tree(*value));
  }
}

}  // namespace

HookArgs::HookArgs(const MmengineHook& h) : profile_(Profile::mmengine) {
  Tree::Dict kw;
  put(kw, "interval", h.interval);
  put(kw, "by_epoch", h.by_epoch);
  put(kw, "save_optimizer", h.save_optimizer);
  put(kw, "save_param_scheduler", h.save_param_scheduler);
  put(kw, "out_dir", h.out_dir);
  put(kw, "max_keep_ckpts", h.max_keep_ckpts);
  put(kw, "save_last", h.save_last);
  if (!h.save_best.empty()) put(kw, "save_best", strings(h.save_best));
  if (!h.rule.empty()) put(kw, "rule", h.rule.size() == 1 ? Tree(h.rule[0]) : strings(h.rule));
  put(kw, "greater_keys", h.greater_keys);
  put(kw, "less_keys", h.less_keys);
  put(kw, "filename_tmpl", h.filename_tmpl);
  put(kw, "published_keys", h.published_keys);
  put(kw, "save_begin", h.save_begin);
  kwargs_ = Tree(std::move(kw));
}

HookArgs::HookArgs(const MmcvHook& h) : profile_(Profile::mmcv) {
  Tree::Dict kw;
  put(kw, "interval", h.interval);
  put(kw, "by_epoch", h.by_epoch);
  put(kw, "save_optimizer", h.save_optimizer);
  put(kw, "out_dir", h.out_dir);
  put(kw, "max_keep_ckpts", h.max_keep_ckpts);
  put(kw, "save_last", h.save_last);
  put(kw, "sync_buffer", h.sync_buffer);
  put(kw, "filename_tmpl", h.filename_tmpl);
  put(kw, "create_symlink", h.create_symlink);
  kwargs_ = Tree(std::move(kw));
}

}  // namespace ckpt
