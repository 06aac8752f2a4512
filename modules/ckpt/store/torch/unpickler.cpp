// The opcode machine (as CPython's _Unpickler, minus running code) and the
// copy of its result into a Value.
#include "unpickler.hpp"

#include <cstring>
#include <unordered_map>

#include "opcodes.hpp"
#include "unpickle_node.hpp"

namespace ckpt::torch_store {
namespace {

using detail::Node;
using detail::Ref;
using Kind = Node::Kind;

constexpr int max_depth = 1000;

// A copy of bytes decoded as Latin-1 into UTF-8: how bytes travel through
// protocol 2 (`_codecs.encode(str, 'latin1')`), which save writes back.
std::string latin1_to_utf8(std::string_view bytes) {
  std::string s;
  for (unsigned char c : bytes) {
    if (c < 0x80) {
      s += static_cast<char>(c);
    } else {
      s += static_cast<char>(0xC0 | (c >> 6));
      s += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return s;
}

// Frees a node graph without recursion: each node's children are moved out
// before the node itself can die, so no destructor frees a child. A chain
// of 10^5 nested lists (a 300 KB pickle) overflowed the stack in nested
// shared_ptr destructors otherwise, and a list that contains itself leaked.
void dismantle(std::vector<Ref> work) {
  while (!work.empty()) {
    Ref n = std::move(work.back());
    work.pop_back();
    if (!n) continue;
    for (Ref& r : n->items) work.push_back(std::move(r));
    for (auto* pairs : {&n->pairs, &n->attributes})
      for (auto& [k, v] : *pairs) work.push_back(std::move(k)), work.push_back(std::move(v));
    n->items.clear(), n->pairs.clear(), n->attributes.clear();
    for (Ref* r : {&n->callable, &n->args, &n->state}) work.push_back(std::move(*r));
  }
}

class Machine {
 public:
  Machine(std::string_view in, detail::Context& ctx) : in_(in), ctx_(ctx) {}
  Machine(const Machine&) = delete;
  Machine& operator=(const Machine&) = delete;
  ~Machine() {
    std::vector<Ref> all = std::move(stack_);
    for (auto& [index, r] : memo_) all.push_back(std::move(r));
    // A container filled with itself and then popped is on neither the stack
    // nor the memo: its cycle would leak (the unpickle fuzzer found one).
    for (auto& r : mutated_) all.push_back(std::move(r));
    dismantle(std::move(all));
  }

  Ref run() {
    while (true) {
      const std::size_t at = pos_;
      const char code = take(1)[0];
      if (code == op::STOP) {
        if (stack_.empty()) fail_at(at, "STOP with an empty stack");
        return stack_.back();
      }
      step(code, at);
    }
  }

  std::size_t nodes_created() const { return created_; }

 private:
  [[noreturn]] void fail_at(std::size_t at, const std::string& what) {
    throw Error("pickle: " + what + " at offset " + std::to_string(at));
  }

  std::string_view take(std::size_t n) {
    if (n > in_.size() - pos_) fail_at(pos_, "data ends early (truncated pickle)");
    std::string_view s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }

  std::uint64_t le(std::size_t n) {
    const std::string_view s = take(n);
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v |= std::uint64_t(static_cast<unsigned char>(s[i])) << (8 * i);
    return v;
  }

  std::string line() {
    const std::size_t end = in_.find('\n', pos_);
    if (end == std::string_view::npos) fail_at(pos_, "unterminated GLOBAL");
    std::string s(in_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return s;
  }

  Ref push(Ref r) {
    ++created_;
    stack_.push_back(r);
    return r;
  }

  Ref pop(std::size_t at) {
    if (stack_.size() <= floor()) fail_at(at, "stack underflow");
    Ref r = std::move(stack_.back());
    stack_.pop_back();
    return r;
  }

  Ref& top(std::size_t at) {
    if (stack_.size() <= floor()) fail_at(at, "stack underflow");
    return stack_.back();
  }

  std::size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }

  std::vector<Ref> pop_mark(std::size_t at) {
    if (marks_.empty()) fail_at(at, "MARK expected");
    std::vector<Ref> items(stack_.begin() + static_cast<std::ptrdiff_t>(marks_.back()), stack_.end());
    stack_.resize(marks_.back());
    marks_.pop_back();
    return items;
  }

  Ref str(std::size_t n) { return detail::make_str(std::string(take(n))); }

  // Ints beyond 64 bits become `int('<hex>', 16)`: an object that saves back.
  Ref long_int(std::string_view bytes) {
    if (bytes.size() <= 8) {
      std::uint64_t v = 0;
      for (std::size_t i = 0; i < bytes.size(); ++i) v |= std::uint64_t(static_cast<unsigned char>(bytes[i])) << (8 * i);
      if (!bytes.empty() && bytes.size() < 8 && (bytes.back() & 0x80)) v |= ~std::uint64_t(0) << (8 * bytes.size());
      return detail::make_int(static_cast<std::int64_t>(v));
    }
    const bool negative = bytes.back() & 0x80;
    std::string digits;  // magnitude in hex, most significant first
    std::vector<unsigned char> mag(bytes.begin(), bytes.end());
    if (negative) {  // two's complement -> magnitude
      bool carry = true;
      for (auto& b : mag) {
        b = static_cast<unsigned char>(~b + (carry ? 1 : 0));
        carry = carry && b == 0;
      }
    }
    static const char hex[] = "0123456789abcdef";
    for (std::size_t i = mag.size(); i-- > 0;) digits += {hex[mag[i] >> 4], hex[mag[i] & 15]};
    digits.erase(0, std::min(digits.find_first_not_of('0'), digits.size() - 1));
    return detail::reduce(detail::make_global("builtins", "int"),
                          detail::make_tuple({detail::make_str((negative ? "-" : "") + digits), detail::make_int(16)}));
  }

  Ref bytes_object(std::string_view bytes) {
    return detail::reduce(detail::make_global("_codecs", "encode"),
                          detail::make_tuple({detail::make_str(latin1_to_utf8(bytes)), detail::make_str("latin1")}));
  }

  // set()/frozenset() as protocol 2 writes them: REDUCE(set, ([items],)).
  Ref set_object(const char* name, std::vector<Ref> items) {
    auto list = detail::make(Kind::list);
    list->items = std::move(items);
    return detail::reduce(detail::make_global("builtins", name), detail::make_tuple({list}));
  }

  void memo_put(std::uint64_t index, std::size_t at) { memo_[index] = top(at); }

  void memo_get(std::uint64_t index, std::size_t at) {
    auto it = memo_.find(index);
    if (it == memo_.end()) fail_at(at, "memo entry " + std::to_string(index) + " was never stored");
    push(it->second);
  }

  void append(const Ref& target, const std::vector<Ref>& items, std::size_t at) {
    mutated_.push_back(target);
    const bool instance = target->kind == Kind::object && target->recipe != Recipe::Kind::global;
    if (target->kind != Kind::list && !instance) fail_at(at, "APPEND to something that is not a list");
    target->items.insert(target->items.end(), items.begin(), items.end());
  }

  void set_items(const Ref& target, const std::vector<Ref>& items, std::size_t at) {
    mutated_.push_back(target);
    if (items.size() % 2) fail_at(at, "SETITEMS with an odd number of items");
    const bool instance = target->kind == Kind::object && target->recipe != Recipe::Kind::global;
    if (target->kind != Kind::dict && !instance) fail_at(at, "SETITEM on something that is not a dict");
    for (std::size_t i = 0; i < items.size(); i += 2) target->pairs.emplace_back(items[i], items[i + 1]);
  }

  void add_items(const Ref& target, const std::vector<Ref>& items, std::size_t at) {
    mutated_.push_back(target);
    if (target->kind != Kind::object || !target->args || target->args->items.empty() ||
        target->args->items[0]->kind != Kind::list)
      fail_at(at, "ADDITEMS on something that is not a set");
    auto& dest = target->args->items[0]->items;
    dest.insert(dest.end(), items.begin(), items.end());
  }

  void build(const Ref& target, const Ref& state, std::size_t at) {
    mutated_.push_back(target);
    switch (target->kind) {
      case Kind::dict: {
        // OrderedDict state is (dict) or (dict, slots): keep the instance dict.
        Ref d = state->kind == Kind::tuple && !state->items.empty() ? state->items[0] : state;
        if (d->kind == Kind::dict) target->attributes.insert(target->attributes.end(), d->pairs.begin(), d->pairs.end());
        return;
      }
      case Kind::object:
        if (target->recipe == Recipe::Kind::global) fail_at(at, "BUILD on a class");
        target->state = state;
        return;
      case Kind::tensor: return;  // a tensor subclass's python state: not modelled
      default: fail_at(at, "BUILD on a value that takes no state");
    }
  }

  void step(char code, std::size_t at) {
    switch (code) {
      case op::PROTO:
        if (static_cast<unsigned char>(take(1)[0]) > 5) fail_at(at, "unsupported pickle protocol");
        return;
      case op::FRAME: le(8); return;
      case op::MARK: marks_.push_back(stack_.size()); return;
      case op::POP:
        if (stack_.size() > floor()) stack_.pop_back();
        else pop_mark(at);
        return;
      case op::POP_MARK: pop_mark(at); return;
      case op::DUP: push(top(at)); return;
      case op::NONE: push(detail::make(Kind::none)); return;
      case op::NEWTRUE:
      case op::NEWFALSE: {
        auto b = detail::make(Kind::boolean);
        b->boolean = code == op::NEWTRUE;
        push(b);
        return;
      }
      case op::BININT: push(detail::make_int(static_cast<std::int32_t>(le(4)))); return;
      case op::BININT1: push(detail::make_int(static_cast<std::int64_t>(le(1)))); return;
      case op::BININT2: push(detail::make_int(static_cast<std::int64_t>(le(2)))); return;
      case op::LONG1: push(long_int(take(le(1)))); return;
      case op::LONG4: {
        const auto n = static_cast<std::int32_t>(le(4));
        if (n < 0) fail_at(at, "negative LONG4 length");
        push(long_int(take(static_cast<std::size_t>(n))));
        return;
      }
      case op::BINFLOAT: {
        std::uint64_t bits = 0;
        for (char c : take(8)) bits = bits << 8 | static_cast<unsigned char>(c);
        auto f = detail::make(Kind::floating);
        std::memcpy(&f->floating, &bits, 8);
        push(f);
        return;
      }
      case op::SHORT_BINUNICODE:
      case op::SHORT_BINSTRING: push(str(le(1))); return;
      case op::BINUNICODE: push(str(le(4))); return;
      case op::BINSTRING: {
        const auto n = static_cast<std::int32_t>(le(4));
        if (n < 0) fail_at(at, "negative BINSTRING length");
        push(str(static_cast<std::size_t>(n)));
        return;
      }
      case op::BINUNICODE8: push(str(le(8))); return;
      case op::SHORT_BINBYTES: push(bytes_object(take(le(1)))); return;
      case op::BINBYTES: push(bytes_object(take(le(4)))); return;
      case op::BINBYTES8:
      case op::BYTEARRAY8: push(bytes_object(take(le(8)))); return;
      case op::EMPTY_DICT: push(detail::make(Kind::dict)); return;
      case op::EMPTY_LIST: push(detail::make(Kind::list)); return;
      case op::EMPTY_TUPLE: push(detail::make_tuple({})); return;
      case op::EMPTY_SET: push(set_object("set", {})); return;
      case op::FROZENSET: push(set_object("frozenset", pop_mark(at))); return;
      case op::TUPLE: push(detail::make_tuple(pop_mark(at))); return;
      case op::TUPLE1:
      case op::TUPLE2:
      case op::TUPLE3: {
        std::vector<Ref> items(static_cast<std::size_t>(code - op::TUPLE1 + 1));
        for (auto i = items.size(); i-- > 0;) items[i] = pop(at);
        push(detail::make_tuple(std::move(items)));
        return;
      }
      case op::LIST: {
        auto l = detail::make(Kind::list);
        l->items = pop_mark(at);
        push(l);
        return;
      }
      case op::DICT: {
        auto d = detail::make(Kind::dict);
        set_items(d, pop_mark(at), at);
        push(d);
        return;
      }
      case op::APPEND: {
        Ref v = pop(at);
        append(top(at), {v}, at);
        return;
      }
      case op::APPENDS: {
        auto items = pop_mark(at);
        append(top(at), items, at);
        return;
      }
      case op::SETITEM: {
        Ref v = pop(at), k = pop(at);
        set_items(top(at), {k, v}, at);
        return;
      }
      case op::SETITEMS: {
        auto items = pop_mark(at);
        set_items(top(at), items, at);
        return;
      }
      case op::ADDITEMS: {
        auto items = pop_mark(at);
        add_items(top(at), items, at);
        return;
      }
      case op::GLOBAL: {
        std::string module = line();
        push(detail::make_global(std::move(module), line()));
        return;
      }
      case op::STACK_GLOBAL: {
        Ref name = pop(at), module = pop(at);
        if (name->kind != Kind::str || module->kind != Kind::str) fail_at(at, "STACK_GLOBAL needs two str");
        push(detail::make_global(module->str, name->str));
        return;
      }
      case op::REDUCE: {
        Ref args = pop(at), callable = pop(at);
        push(detail::reduce(callable, args));
        return;
      }
      case op::NEWOBJ: {
        Ref args = pop(at), cls = pop(at);
        push(detail::newobj(cls, args));
        return;
      }
      case op::NEWOBJ_EX: {
        Ref kwargs = pop(at), args = pop(at), cls = pop(at);
        push(detail::reduce(detail::make_global("copyreg", "__newobj_ex__"), detail::make_tuple({cls, args, kwargs})));
        return;
      }
      case op::BUILD: {
        Ref state = pop(at);
        build(top(at), state, at);
        return;
      }
      case op::BINPUT: memo_put(le(1), at); return;
      case op::LONG_BINPUT: memo_put(le(4), at); return;
      case op::MEMOIZE: memo_put(memo_.size(), at); return;
      case op::BINGET: memo_get(le(1), at); return;
      case op::LONG_BINGET: memo_get(le(4), at); return;
      case op::BINPERSID: {
        Ref pid = pop(at);
        push(detail::persistent_load(pid, ctx_));
        return;
      }
      default: {
        static const char hex[] = "0123456789abcdef";
        const auto c = static_cast<unsigned char>(code);
        fail_at(at, std::string("unsupported opcode 0x") + hex[c >> 4] + hex[c & 15]);
      }
    }
  }

  std::string_view in_;
  detail::Context& ctx_;
  std::size_t pos_ = 0;
  std::vector<Ref> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<std::uint64_t, Ref> memo_;
  // Every node an opcode added to after creating it: the only nodes a cycle
  // can run through (one entry per such opcode, so bounded by the input).
  std::vector<Ref> mutated_;
  std::size_t created_ = 0;
};

// Copies the node graph into a Value tree. Shared nodes are copied each time
// they are reached, so a budget (a multiple of the nodes the pickle made)
// stops a crafted pickle from expanding exponentially, and the depth limit
// stops cycles (a list containing itself).
class Converter {
 public:
  explicit Converter(std::size_t budget) : budget_(budget) {}

  Value value(const Ref& n, int depth) {
    if (depth > max_depth) throw Error("pickle: nesting deeper than " + std::to_string(max_depth) + " (a cycle?)");
    if (budget_-- == 0) throw Error("pickle: object graph too large once shared references are expanded");
    switch (n->kind) {
      case Kind::none: return None{};
      case Kind::boolean: return n->boolean;
      case Kind::integer: return n->integer;
      case Kind::floating: return n->floating;
      case Kind::str: return n->str;
      case Kind::list: return List{values(n->items, depth)};
      case Kind::tuple: return Tuple{values(n->items, depth)};
      case Kind::dict: return Dict{pairs(n->pairs, depth), n->ordered, pairs(n->attributes, depth)};
      case Kind::tensor: return n->tensor;
      case Kind::storage: return Unsupported{"torch.storage.TypedStorage", nullptr};
      case Kind::object: break;
    }
    auto recipe = std::make_shared<Recipe>();
    recipe->kind = n->recipe;
    recipe->module = n->module;
    recipe->name = n->name;
    if (n->callable) recipe->callable = value(n->callable, depth + 1);
    if (n->args) recipe->args = value(n->args, depth + 1);
    recipe->list_items = values(n->items, depth);
    recipe->dict_items = pairs(n->pairs, depth);
    if (n->state) recipe->state = value(n->state, depth + 1);
    return Unsupported{n->class_name, std::move(recipe)};
  }

 private:
  std::vector<Value> values(const std::vector<Ref>& refs, int depth) {
    std::vector<Value> out;
    out.reserve(refs.size());
    for (const Ref& r : refs) out.push_back(value(r, depth + 1));
    return out;
  }

  std::vector<std::pair<Value, Value>> pairs(const std::vector<std::pair<Ref, Ref>>& refs, int depth) {
    std::vector<std::pair<Value, Value>> out;
    out.reserve(refs.size());
    for (const auto& [k, v] : refs) out.emplace_back(value(k, depth + 1), value(v, depth + 1));
    return out;
  }

  std::size_t budget_;
};

}  // namespace

Value unpickle(std::string_view pickle, const StorageLoader& load_storage) {
  detail::Context ctx{load_storage, {}};
  Machine machine(pickle, ctx);
  const Ref root = machine.run();  // the machine's stack holds it too: dismantled with it
  return Converter(16 * machine.nodes_created() + 1024).value(root, 0);
}

}  // namespace ckpt::torch_store
