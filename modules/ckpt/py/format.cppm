// ckpt.py:format — Python's `str.format`, for checkpoint file templates.
//
// The reference never checks `filename_tmpl` (E2, B61): a template with no
// `{}` names every checkpoint alike, two `{}` raise `IndexError`, a named
// field `KeyError`, and format specs such as `{:03d}` work. Reproducing that
// needs the real parser and the format-spec mini-language for the argument
// types a step can have (int, and whatever a resumed runtime info holds).
module;
#include <span>
#include <string>
#include <string_view>
export module ckpt.py:format;
import :value;

export namespace ckpt::py {

/// `tmpl.format(*args)` with Python's results and exceptions.
Result<std::string> format(std::string_view tmpl, std::span<const Value> args);

/// `tmpl.format(arg)` where `tmpl` is any value: a non-str raises
/// `AttributeError` as `5 .format` would.
Result<std::string> format_value(const Value& tmpl, const Value& arg);

/// `format(value, spec)`, the builtin, for one value.
Result<std::string> format_one(const Value& value, std::string_view spec);

}  // namespace ckpt::py
