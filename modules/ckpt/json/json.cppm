// ckpt.json — JSON text to and from `py::Value`, as Python's json module
// reads and writes it: key order kept, ints distinct from floats, duplicate
// keys keep the last value, bare NaN/Infinity accepted on input. On output,
// non-finite floats are the strings "NaN", "Infinity", "-Infinity" (the
// conformance protocol's spelling). Pure.
module;
#include <string>
#include <string_view>
export module ckpt.json;
export import ckpt.py;

export namespace ckpt::json {

/// Parses one JSON document; `JSONDecodeError` with the offset on bad input.
/// `allow_nonfinite` accepts Python's bare NaN/Infinity/-Infinity literals.
py::Result<py::Value> parse(std::string_view text, bool allow_nonfinite = true);

/// Serialises compactly on one line (", " and ": " separators, like json.dumps).
std::string dump(const py::Value& value);

}  // namespace ckpt::json
