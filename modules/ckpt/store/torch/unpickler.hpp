// Our own small unpickler for what torch.save writes (pickle protocols 2-5,
// binary opcodes): builds a Value, maps torch's tensor rebuild functions over
// persistent storage ids to tensors, collections.OrderedDict to an ordered
// Dict, and any other global to an Unsupported leaf that keeps its recipe.
// Never runs code; any malformed input is an `Error` naming the offset.
#pragma once
#include <c10/core/Storage.h>

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "checkpoint.hpp"

namespace ckpt::torch_store {

/// The bytes of storage `key` (the entry `data/<key>`), at least `nbytes`
/// of them; called once per key.
using StorageLoader =
    std::function<c10::Storage(const std::string& key, std::size_t nbytes, const std::string& location)>;

Value unpickle(std::string_view pickle, const StorageLoader& load_storage);

}  // namespace ckpt::torch_store
