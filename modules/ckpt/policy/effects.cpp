// Printers for ckpt.policy:effects (gtest and rapidcheck show plans with them).
module;
#include "ckpt/internal/overload.hpp"
#include <ostream>
#include <string>
#include <variant>
module ckpt.policy;
import ckpt.py;

namespace ckpt {

namespace {
using internal::overload;
std::string q(const std::string& s) { return py::str_repr(s); }
}  // namespace

std::ostream& operator<<(std::ostream& os, const Effect& effect) {
  std::visit(overload{
                 [&](const SaveCheckpoint& e) {
                   os << "SaveCheckpoint(" << q(e.out_dir) << ", " << q(e.filename)
                      << ", save_optimizer=" << e.save_optimizer << ", save_param_scheduler=" << e.save_param_scheduler
                      << ", meta=" << Value(e.meta) << ", by_epoch=" << e.by_epoch;
                   for (const auto& [k, v] : e.extra) os << ", " << k << "=" << v;
                   os << ")";
                 },
                 [&](const LegacySaveCheckpoint& e) {
                   os << "LegacySaveCheckpoint(" << q(e.filepath) << ", save_optimizer=" << e.save_optimizer
                      << ", create_symlink=" << e.create_symlink << ", meta=" << e.meta << ")";
                 },
                 [&](const RemoveCheckpoint& e) {
                   os << "RemoveCheckpoint(" << q(e.path) << (e.can_remove_tree ? "" : ", no rmtree") << ")";
                 },
                 [&](const RemoveUntilGap& e) {
                   os << "RemoveUntilGap(" << q(e.out_dir) << ", " << q(e.filename_tmpl) << ", range(" << e.start
                      << ", 0, " << e.step << "))";
                 },
                 [&](const SetRuntimeInfo& e) { os << "SetRuntimeInfo(" << q(e.key) << ", " << e.value << ")"; },
                 [&](const SetRunnerMeta& e) { os << "SetRunnerMeta(" << e.meta << ")"; },
                 [&](const WriteText& e) { os << "WriteText(" << q(e.path) << ", " << q(e.content) << ")"; },
                 [&](const Publish& e) {
                   os << "Publish(" << q(e.source) << ", [";
                   for (std::size_t i = 0; i < e.keys.size(); ++i) os << (i ? ", " : "") << q(e.keys[i]);
                   os << "])";
                 },
                 [&](const Symlink& e) { os << "Symlink(" << q(e.link) << " -> " << q(e.target) << ")"; },
                 [&](const SyncBuffers&) { os << "SyncBuffers()"; },
                 [&](const Log& e) {
                   os << "Log(" << (e.level == LogLevel::warning ? "warning" : "info") << ", " << q(e.message) << ")";
                 },
             },
             effect);
  return os;
}

std::ostream& operator<<(std::ostream& os, const Plan& plan) {
  os << "[";
  for (std::size_t i = 0; i < plan.size(); ++i) os << (i ? ", " : "") << plan[i];
  return os << "]";
}

}  // namespace ckpt
