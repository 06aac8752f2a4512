// JSON text of a Value (for meta in summaries): json.dumps's choices for
// what JSON lacks, markers for tensors and unsupported objects.
#include <charconv>
#include <cmath>

#include "checkpoint.hpp"
#include "ckpt/internal/overload.hpp"
#include "storage_types.hpp"

namespace ckpt::torch_store {
namespace {

void quoted(std::string& out, const std::string& s) {
  static const char hex[] = "0123456789abcdef";
  out += '"';
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\b') {
      out += "\\b";
    } else if (c == '\f') {
      out += "\\f";
    } else if (u < 0x20) {
      out += "\\u00";
      out += hex[u >> 4];
      out += hex[u & 15];
    } else {
      out += c;
    }
  }
  out += '"';
}

// Shortest round trip (as float.__repr__, though exponents may start at a
// different magnitude), and a '.0' on integral values.
std::string float_text(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, d);
  std::string s(buf, r.ptr);
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  return s;
}

void emit(std::string& out, const Value& v);

// json.dumps turns scalar keys into strings; other keys have no JSON form.
std::string key_text(const Value& k) {
  if (k.is<std::string>()) return k.as<std::string>();
  if (k.is<bool>()) return k.as<bool>() ? "true" : "false";
  if (k.is<None>()) return "null";
  if (k.is<double>()) return float_text(k.as<double>());
  std::string s;
  emit(s, k);
  return s;
}

void emit(std::string& out, const Value& v) {
  const auto array = [&](const std::vector<Value>& items) {
    out += '[';
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i) out += ", ";
      emit(out, items[i]);
    }
    out += ']';
  };
  std::visit(ckpt::internal::overload{[&](None) { out += "null"; },
                      [&](bool b) { out += b ? "true" : "false"; },
                      [&](std::int64_t i) { out += std::to_string(i); },
                      [&](double d) { out += float_text(d); },
                      [&](const std::string& s) { quoted(out, s); },
                      [&](const List& l) { array(l.items); },
                      [&](const Tuple& t) { array(t.items); },
                      [&](const Dict& d) {
                        out += '{';
                        for (std::size_t i = 0; i < d.items.size(); ++i) {
                          if (i) out += ", ";
                          quoted(out, key_text(d.items[i].first));
                          out += ": ";
                          emit(out, d.items[i].second);
                        }
                        out += '}';
                      },
                      [&](const at::Tensor& t) {
                        const char* dtype = t.defined() ? python_dtype(t.scalar_type()) : nullptr;
                        out += "{\"__tensor__\": {\"dtype\": ";
                        quoted(out, dtype ? dtype : "unknown");
                        out += ", \"shape\": [";
                        for (std::int64_t i = 0; t.defined() && i < t.dim(); ++i)
                          out += (i ? ", " : "") + std::to_string(t.size(i));
                        out += "]}}";
                      },
                      [&](const Unsupported& u) {
                        out += "{\"__object__\": ";
                        quoted(out, u.class_name);
                        out += '}';
                      }},
             v.data);
}

}  // namespace

std::string to_json(const Value& v) {
  std::string out;
  emit(out, v);
  return out;
}

}  // namespace ckpt::torch_store
