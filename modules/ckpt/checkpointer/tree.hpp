// Conversions between the policy's py::Value and the engine's Tree (C++20
// only: it needs the modules).
#pragma once
#include "engine.hpp"
import ckpt;

namespace ckpt::checkpointer {
Tree to_tree(const py::Value& v);
Tree::Dict to_tree(const py::Dict& d);
py::Value to_value(const Tree& t);
py::Dict to_dict(const Tree::Dict& d);
}  // namespace ckpt::checkpointer
