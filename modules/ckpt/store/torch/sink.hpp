// The tensor store's byte sinks are the project's shared ones
// (ckpt/internal/sink.hpp): the fs store hands payload writers the same.
#pragma once
#include "ckpt/internal/sink.hpp"

namespace ckpt::torch_store {
using internal::FdSink;
using internal::HashingSink;
using internal::Sink;
}  // namespace ckpt::torch_store
