// ckpt_state_dict: LibTorch modules and optimizers as the state_dict() trees
// of Python's torch (1.13, the project's reference), and back. Python's torch
// and mmengine read what this writes, and a LibTorch trainer resumes from
// what they wrote. Imperative shell (LibTorch); C++17 because LibTorch 1.13's
// headers do not compile as C++20. Built and tested against LibTorch 1.13;
// written for 2.x as well (state_dict.cpp notes where the two differ).
#pragma once
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include <string>
#include <utility>
#include <vector>

#include "ckpt/store/torch/checkpoint.hpp"

namespace ckpt::checkpointer::layout {
namespace ts = ckpt::torch_store;

/// torch.nn.Module.state_dict(): an OrderedDict in Python's order (per module
/// in pre-order, its own parameters then its own buffers, dotted names), with
/// the `_metadata` attribute Python attaches (per-module versions: 2 for the
/// batch and instance norms, 1 otherwise). The tensors are the module's own,
/// detached, not copied: the caller snapshots them.
ts::Dict module_state(const torch::nn::Module& module);

/// The module's tensors by state_dict name, in module_state's order, detached
/// aliases of the module's own (for loading straight into them).
std::vector<std::pair<std::string, torch::Tensor>> module_tensors(torch::nn::Module& module);

/// Module.load_state_dict(strict=True): a dict or OrderedDict (attributes
/// such as `_metadata` ignored) whose keys are exactly the module's; keys are
/// taken verbatim (a DataParallel `module.` prefix is unexpected). Missing
/// and unexpected keys, shape mismatches and non-tensor values throw one
/// ts::Error naming `where` and all of them, before anything is copied. Like
/// Python, a dtype or device difference is converted by the copy. A tensor
/// that already is the module's (same TensorImpl, or the same memory viewed
/// the same way: it was loaded in place) is not copied again.
void restore_module(torch::nn::Module& module, const ts::Value& state_dict, const std::string& where);

/// torch.optim.Optimizer.state_dict() of the Python class matching a
/// torch::optim::SGD, Adam or AdamW, with torch 1.13's keys, types and order:
///   {"state": {index: {...}}, "param_groups": [{hyper-parameters..., "params": [indices]}]}
/// Indices run over all groups' parameters in order. State tensors are the
/// optimizer's own (no copy), except Adam's `step`, which LibTorch keeps as
/// an integer and Python as a 0-dim tensor of the default dtype: a new one.
/// Other optimizers throw ts::Error naming their type.
ts::Dict optimizer_state(const torch::optim::Optimizer& optimizer);

/// Throws ts::Error naming the optimizer's type unless it is SGD, Adam or AdamW.
void check_supported(const torch::optim::Optimizer& optimizer);

/// The optimizer's existing state tensors by their path in optimizer_state's
/// tree, e.g. {"state", 3, "exp_avg"}, for loading straight into them; empty
/// for an optimizer that has not stepped. (Adam's `step` is not a tensor here.)
std::vector<std::pair<std::vector<ts::Value>, torch::Tensor>> optimizer_tensors(torch::optim::Optimizer& optimizer);

/// Optimizer.load_state_dict: the number of groups and of parameters per group
/// must match; the per-parameter state replaces the optimizer's, and each
/// group's hyper-parameters that LibTorch models (lr, momentum, dampening,
/// weight_decay, nesterov, betas, eps, amsgrad) are set. `step` may be a
/// tensor or a number. State tensors are adopted as they are (in place, or
/// fresh from the file: no clone), converted only where Python would convert
/// them (to the parameter's floating dtype and device). Keys LibTorch does not
/// model (foreach, capturable, initial_lr, ...) are ignored; settings it
/// cannot honour (maximize, differentiable or fused set to true, Adam's
/// decoupled_weight_decay) throw ts::Error naming them and `where`, as do a
/// malformed tree and state tensors whose shape is not the parameter's.
/// Nothing changes unless all of it is valid.
void restore_optimizer(torch::optim::Optimizer& optimizer, const ts::Value& state_dict, const std::string& where);

}  // namespace ckpt::checkpointer::layout
