// The typed-storage classes torch.save names in a tensor's persistent id
// (`torch.FloatStorage`, ...), one per dtype: the single table both the
// pickler and the unpickler use.
#pragma once
#include <c10/core/ScalarType.h>

#include <optional>
#include <string_view>

namespace ckpt::torch_store {

struct StorageType {
  c10::ScalarType dtype;
  const char* name;    // in module `torch`
  const char* python;  // the dtype as Python prints it, without `torch.`
};

inline constexpr StorageType storage_types[] = {
    {c10::ScalarType::Float, "FloatStorage", "float32"},
    {c10::ScalarType::Double, "DoubleStorage", "float64"},
    {c10::ScalarType::Half, "HalfStorage", "float16"},
    {c10::ScalarType::BFloat16, "BFloat16Storage", "bfloat16"},
    {c10::ScalarType::Long, "LongStorage", "int64"},
    {c10::ScalarType::Int, "IntStorage", "int32"},
    {c10::ScalarType::Short, "ShortStorage", "int16"},
    {c10::ScalarType::Char, "CharStorage", "int8"},
    {c10::ScalarType::Byte, "ByteStorage", "uint8"},
    {c10::ScalarType::Bool, "BoolStorage", "bool"},
    {c10::ScalarType::ComplexFloat, "ComplexFloatStorage", "complex64"},
    {c10::ScalarType::ComplexDouble, "ComplexDoubleStorage", "complex128"},
};

/// The storage class for a dtype, or null when torch has none we write.
inline const char* storage_name(c10::ScalarType dtype) {
  for (const auto& t : storage_types)
    if (t.dtype == dtype) return t.name;
  return nullptr;
}

/// "float32" for Float: the name Python gives a dtype; null if unknown.
inline const char* python_dtype(c10::ScalarType dtype) {
  for (const auto& t : storage_types)
    if (t.dtype == dtype) return t.python;
  return nullptr;
}

/// The dtype of `torch.<name>` (or the legacy `torch.cuda.<name>`);
/// `UntypedStorage` holds bytes.
inline std::optional<c10::ScalarType> storage_dtype(std::string_view module, std::string_view name) {
  if (module != "torch" && module != "torch.cuda") return std::nullopt;
  if (name == "UntypedStorage") return c10::ScalarType::Byte;
  for (const auto& t : storage_types)
    if (name == t.name) return t.dtype;
  return std::nullopt;
}

}  // namespace ckpt::torch_store
