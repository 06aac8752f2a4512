// ckpt.store.torch — the tensor store for C++20 code: checkpoints in torch's
// zip format (load, summarise, save, publish, verify) through narrow.hpp,
// which has no torch types (LibTorch 1.13's headers do not compile as
// C++20). The store itself is the C++17 library ckpt_torch_store in this
// folder.
module;
#include "ckpt/store/torch/narrow.hpp"
export module ckpt.store.torch;

export namespace ckpt::store::torch {
using ckpt::torch_store::DirectIo;
using ckpt::torch_store::Handle;
using ckpt::torch_store::LoadedHandle;
using ckpt::torch_store::LoadedSummary;
using ckpt::torch_store::PublishedFile;
using ckpt::torch_store::Summary;
using ckpt::torch_store::load_handle;
using ckpt::torch_store::load_summary;
using ckpt::torch_store::publish_handle;
using ckpt::torch_store::save_handle;
using ckpt::torch_store::summarize;
using ckpt::torch_store::verify;
using ckpt::torch_store::Verified;
using ckpt::torch_store::VerifyOptions;
}  // namespace ckpt::store::torch
