// Meta and runtime info cross the narrow trainer header as JSON text (C++20
// code cannot share types with this C++17 file). The tensor store writes
// JSON (ckpt::torch_store::to_json); this reads it back, for those two small
// dicts.
#include "checkpoint_io.hpp"

#include <cmath>
#include <cstdlib>
#include <string>

namespace demo {

namespace ts = ckpt::torch_store;

namespace {

struct JsonReader {
  const std::string& s;
  std::size_t i = 0;
  void ws() { while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r')) ++i; }
  [[noreturn]] void fail() const { throw ts::Error("bad JSON at offset " + std::to_string(i)); }
  bool eat(char c) { ws(); if (i < s.size() && s[i] == c) { ++i; return true; } return false; }
  std::string str() {
    if (!eat('"')) fail();
    std::string out;
    while (i < s.size() && s[i] != '"') {
      char c = s[i++];
      if (c != '\\') { out += c; continue; }
      if (i >= s.size()) fail();
      char e = s[i++];
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'u': {  // ASCII-range escapes only: the hook's values are paths and keys
          if (i + 4 > s.size()) fail();
          out += static_cast<char>(std::strtol(s.substr(i, 4).c_str(), nullptr, 16));
          i += 4;
          break;
        }
        default: out += e;
      }
    }
    if (!eat('"')) fail();
    return out;
  }
  ts::Value value() {
    ws();
    if (i >= s.size()) fail();
    char c = s[i];
    if (c == '{') {
      ++i;
      ts::Dict d;
      if (eat('}')) return d;
      do { std::string k = str(); if (!eat(':')) fail(); d.set(k, value()); } while (eat(','));
      if (!eat('}')) fail();
      return d;
    }
    if (c == '[') {
      ++i;
      ts::List l;
      if (eat(']')) return l;
      do l.items.push_back(value()); while (eat(','));
      if (!eat(']')) fail();
      return l;
    }
    if (c == '"') {
      std::string x = str();
      if (x == "NaN") return std::nan("");  // the conformance spelling of non-finite floats
      if (x == "Infinity") return HUGE_VAL;
      if (x == "-Infinity") return -HUGE_VAL;
      return x;
    }
    if (s.compare(i, 4, "null") == 0) { i += 4; return ts::None{}; }
    if (s.compare(i, 4, "true") == 0) { i += 4; return true; }
    if (s.compare(i, 5, "false") == 0) { i += 5; return false; }
    std::size_t end = i;
    bool is_float = false;
    while (end < s.size() && std::string("+-0123456789.eE").find(s[end]) != std::string::npos) {
      if (s[end] == '.' || s[end] == 'e' || s[end] == 'E') is_float = true;
      ++end;
    }
    if (end == i) fail();
    std::string num = s.substr(i, end - i);
    i = end;
    if (is_float) return std::strtod(num.c_str(), nullptr);
    return static_cast<std::int64_t>(std::strtoll(num.c_str(), nullptr, 10));
  }
};

}  // namespace

ts::Value from_json(const std::string& text) {
  JsonReader r{text};
  return r.value();
}

}  // namespace demo
