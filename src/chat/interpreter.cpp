// Statement execution and expression evaluation. Semantics follow Python Jinja where the
// reference implementation (@huggingface/jinja) agrees, and the reference where they differ
// in ways real chat templates can observe (printing of none/booleans/lists; undefined
// attributes are undefined rather than errors).
#include "chat/interpreter.h"
#include "runtime/overflow.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

namespace nibble::chat {

Interpreter::~Interpreter() {
  scopes_.clear();
  for (auto& d : mutated_dicts_) d->clear();
  for (auto& l : mutated_lists_) l->clear();
}

void Interpreter::note_mutation(const Value& container, const Value& stored) {
  if (!stored.is_list() && !stored.is_dict()) return;
  if (container.is_dict()) mutated_dicts_.push_back(container.dict);
  if (container.is_list()) mutated_lists_.push_back(container.list);
}

void Interpreter::check_string(size_t bytes) const {
  if (bytes > limits_.max_output_bytes) {
    fail("string of " + std::to_string(bytes) + " bytes exceeds the limit of " +
         std::to_string(limits_.max_output_bytes));
  }
}

void Interpreter::step(size_t n) {
  steps_ += n;
  if (steps_ > limits_.max_steps) {
    fail("template ran more than " + std::to_string(limits_.max_steps) + " steps");
  }
}

void Interpreter::emit(std::string& out, std::string_view s) {
  emitted_ += s.size();
  if (emitted_ > limits_.max_output_bytes) {
    fail("output exceeds the limit of " + std::to_string(limits_.max_output_bytes) + " bytes");
  }
  out.append(s);
}

Value Interpreter::lookup(const std::string& name) const {
  for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
    for (const auto& [k, v] : *it) {
      if (k == name) return v;
    }
  }
  return Value::undefined();
}

void Interpreter::assign(const std::string& name, Value v) {
  ValueDict& scope = scopes_.back();
  for (auto& [k, old] : scope) {
    if (k == name) {
      old = std::move(v);
      return;
    }
  }
  scope.emplace_back(name, std::move(v));
}

std::string Interpreter::run(const std::vector<NodePtr>& body, ValueDict globals) {
  scopes_.clear();
  scopes_.push_back(std::move(globals));
  scopes_.emplace_back();  // template-level variables
  std::string out;
  Flow f = exec_block(body, out);
  if (f != Flow::normal) fail("'break' or 'continue' outside a loop");
  return out;
}

Interpreter::Flow Interpreter::exec_block(const std::vector<NodePtr>& body, std::string& out) {
  DepthGuard g(this);
  for (const auto& n : body) {
    Flow f = exec(*n, out);
    if (f != Flow::normal) return f;
  }
  return Flow::normal;
}

Interpreter::Flow Interpreter::exec(const Node& n, std::string& out) {
  step();
  cur_offset_ = n.offset;
  switch (n.kind) {
    case NodeKind::text:
      emit(out, n.str);
      return Flow::normal;
    case NodeKind::output: {
      Value v = eval(*n.kids[0]);
      emit(out, to_output(v));
      return Flow::normal;
    }
    case NodeKind::if_stmt:
      for (size_t i = 0; i < n.kids.size(); ++i) {
        if (truthy(eval(*n.kids[i]))) return exec_block(n.bodies[i], out);
      }
      return exec_block(n.else_body, out);
    case NodeKind::for_stmt: {
      Flow f = Flow::normal;
      exec_for(n, out, &f);
      return f;
    }
    case NodeKind::set_stmt:
      exec_set(n, out);
      return Flow::normal;
    case NodeKind::macro: {
      Value m;
      m.kind = Value::Kind::macro;
      m.macro = std::make_shared<const Macro>(Macro{&n});
      assign(n.str, std::move(m));
      return Flow::normal;
    }
    case NodeKind::break_stmt:
      return Flow::break_loop;
    case NodeKind::continue_stmt:
      return Flow::continue_loop;
    default:
      fail("internal: expression node in statement position");
  }
}

// Items a for loop (or list filter) walks: list elements, dict keys, string characters.
static ValueList iterate(const Value& v) {
  switch (v.kind) {
    case Value::Kind::list:
      return *v.list;
    case Value::Kind::dict: {
      ValueList keys;
      keys.reserve(v.dict->size());
      for (const auto& kv : *v.dict) keys.push_back(Value::string(kv.first));
      return keys;
    }
    case Value::Kind::string: {
      ValueList chars;
      for (auto& c : utf8_chars(v.s)) chars.push_back(Value::string(std::move(c)));
      return chars;
    }
    case Value::Kind::undefined:
    case Value::Kind::none:
      return {};
    default:
      fail(std::string("cannot iterate over a ") + kind_name(v.kind));
  }
}

void Interpreter::exec_for(const Node& n, std::string& out, Flow* flow) {
  Value seq = eval(*n.kids[0]);
  if (seq.kind == Value::Kind::none) fail("cannot iterate over none");
  ValueList items = iterate(seq);
  auto bind = [&](const Value& item) {
    if (n.names.size() == 1) {
      assign(n.names[0], item);
      return;
    }
    if (!item.is_list() || item.list->size() != n.names.size()) {
      fail("cannot unpack a " + std::string(kind_name(item.kind)) + " into " +
           std::to_string(n.names.size()) + " loop variables");
    }
    for (size_t i = 0; i < n.names.size(); ++i) assign(n.names[i], (*item.list)[i]);
  };
  scopes_.emplace_back();
  struct PopScope {
    std::vector<ValueDict>* s;
    ~PopScope() { s->pop_back(); }
  } pop{&scopes_};
  if (n.kids[1]) {  // {% for x in xs if cond %}: filter first, so loop.length counts survivors
    ValueList kept;
    for (auto& item : items) {
      step();
      bind(item);
      if (truthy(eval(*n.kids[1]))) kept.push_back(std::move(item));
    }
    items = std::move(kept);
  }
  const int64_t len = static_cast<int64_t>(items.size());
  // One loop object per loop, updated in place: building a fresh dict per iteration was most of
  // the cost of an iteration.
  Value loop = Value::make_dict();
  for (const char* key : {"index", "index0", "revindex", "revindex0", "first", "last", "length",
                          "previtem", "nextitem"}) {
    loop.dict->emplace_back(key, Value());
  }
  ValueDict& ld = *loop.dict;
  assign("loop", loop);
  for (int64_t i = 0; i < len; ++i) {
    step();
    bind(items[i]);
    ld[0].second = Value::integer(i + 1);
    ld[1].second = Value::integer(i);
    ld[2].second = Value::integer(len - i);
    ld[3].second = Value::integer(len - i - 1);
    ld[4].second = Value::boolean(i == 0);
    ld[5].second = Value::boolean(i == len - 1);
    ld[6].second = Value::integer(len);
    ld[7].second = i > 0 ? items[i - 1] : Value::undefined();
    ld[8].second = i + 1 < len ? items[i + 1] : Value::undefined();
    Flow f = exec_block(n.body, out);
    if (f == Flow::break_loop) break;
  }
  if (len == 0) {
    Flow f = exec_block(n.else_body, out);
    if (f != Flow::normal) *flow = f;  // break/continue in a for-else belongs to an outer loop
  }
}

void Interpreter::exec_set(const Node& n, std::string& out) {
  Value v;
  if (n.kids[1]) {
    v = eval(*n.kids[1]);
  } else {
    std::string captured;
    Flow f = exec_block(n.body, captured);
    if (f != Flow::normal) fail("'break' or 'continue' inside a set block");
    v = Value::string(std::move(captured));
  }
  const Node& target = *n.kids[0];
  switch (target.kind) {
    case NodeKind::name:
      assign(target.str, std::move(v));
      return;
    case NodeKind::attr: {
      Value obj = eval(*target.kids[0]);
      if (!obj.is_dict() || !obj.is_namespace) {
        fail("cannot set attribute '" + target.str + "' on a " + kind_name(obj.kind) +
             " (only on a namespace())");
      }
      note_mutation(obj, v);
      obj.set(target.str, std::move(v));
      return;
    }
    case NodeKind::list_lit: {
      if (!v.is_list() || v.list->size() != target.kids.size()) {
        fail("cannot unpack into " + std::to_string(target.kids.size()) + " variables");
      }
      for (size_t i = 0; i < target.kids.size(); ++i) assign(target.kids[i]->str, (*v.list)[i]);
      return;
    }
    default:
      fail("bad set target");
  }
}

// Python-style index normalisation; false when out of range.
static bool norm_index(int64_t& i, size_t size) {
  if (i < 0) i += static_cast<int64_t>(size);
  return i >= 0 && static_cast<size_t>(i) < size;
}

static Value slice(const Value& obj, const Value* a, const Value* b, const Value* c) {
  auto as_int = [](const Value* v, const char* what) -> std::optional<int64_t> {
    if (!v || v->is_none() || v->is_undefined()) return std::nullopt;
    if (v->kind != Value::Kind::integer) fail(std::string("slice ") + what + " must be an integer");
    return v->i;
  };
  std::optional<int64_t> start = as_int(a, "start"), stop = as_int(b, "stop");
  int64_t step = as_int(c, "step").value_or(1);
  if (step == 0) fail("slice step cannot be zero");
  ValueList items;
  std::vector<std::string> chars;
  const bool is_str = obj.is_string();
  if (is_str) {
    chars = utf8_chars(obj.s);
  } else if (!obj.is_list()) {
    fail(std::string("cannot slice a ") + kind_name(obj.kind));
  }
  const int64_t len = static_cast<int64_t>(is_str ? chars.size() : obj.list->size());
  auto clamp = [&](std::optional<int64_t> x, int64_t dflt, int64_t lo, int64_t hi) {
    if (!x) return dflt;
    int64_t v = *x;
    if (v < 0) v += len;
    return std::clamp(v, lo, hi);
  };
  int64_t lo, hi;
  if (step > 0) {
    lo = clamp(start, 0, 0, len);
    hi = clamp(stop, len, 0, len);
  } else {
    lo = clamp(start, len - 1, -1, len - 1);
    hi = clamp(stop, -1, -1, len - 1);
  }
  std::string s;
  for (int64_t i = lo; step > 0 ? i < hi : i > hi; i += step) {
    if (is_str) {
      s += chars[static_cast<size_t>(i)];
    } else {
      items.push_back((*obj.list)[static_cast<size_t>(i)]);
    }
  }
  return is_str ? Value::string(std::move(s)) : Value::make_list(std::move(items));
}

Value Interpreter::eval(const Node& n) {
  DepthGuard g(this);
  cur_offset_ = n.offset;
  switch (n.kind) {
    case NodeKind::literal:
      return n.lit;
    case NodeKind::name:
      return lookup(n.str);
    case NodeKind::attr: {
      Value obj = eval(*n.kids[0]);
      cur_offset_ = n.offset;
      if (const Value* v = obj.find(n.str)) return *v;
      return Value::undefined();
    }
    case NodeKind::index: {
      Value obj = eval(*n.kids[0]);
      Value key = eval(*n.kids[1]);
      cur_offset_ = n.offset;
      if (obj.is_dict()) {
        if (key.is_string()) {
          if (const Value* v = obj.find(key.s)) return *v;
        }
        return Value::undefined();
      }
      if (obj.is_list() || obj.is_string()) {
        if (key.kind != Value::Kind::integer) {
          fail(std::string("index must be an integer, not a ") + kind_name(key.kind));
        }
        int64_t i = key.i;
        if (obj.is_list()) {
          return norm_index(i, obj.list->size()) ? (*obj.list)[static_cast<size_t>(i)]
                                                 : Value::undefined();
        }
        auto chars = utf8_chars(obj.s);
        return norm_index(i, chars.size()) ? Value::string(chars[static_cast<size_t>(i)])
                                           : Value::undefined();
      }
      return Value::undefined();
    }
    case NodeKind::slice: {
      Value obj = eval(*n.kids[0]);
      Value a, b, c;
      if (n.kids[1]) a = eval(*n.kids[1]);
      if (n.kids[2]) b = eval(*n.kids[2]);
      if (n.kids[3]) c = eval(*n.kids[3]);
      cur_offset_ = n.offset;
      return slice(obj, &a, &b, &c);
    }
    case NodeKind::call:
      return eval_call(n);
    case NodeKind::filter: {
      Value v = eval(*n.kids[0]);
      Args args;
      Kwargs kwargs;
      eval_args(n, 1, &args, &kwargs);
      cur_offset_ = n.offset;
      return apply_filter(n.str, std::move(v), args, kwargs);
    }
    case NodeKind::test: {
      Value v = eval(*n.kids[0]);
      Args args;
      Kwargs kwargs;
      eval_args(n, 1, &args, &kwargs);
      cur_offset_ = n.offset;
      bool r = apply_test(n.str, v, args);
      return Value::boolean(n.negate ? !r : r);
    }
    case NodeKind::unary: {
      Value v = eval(*n.kids[0]);
      cur_offset_ = n.offset;
      if (n.str == "not") return Value::boolean(!truthy(v));
      if (v.kind == Value::Kind::integer) {
        if (n.str == "-" && v.i == std::numeric_limits<int64_t>::min()) fail("integer overflow");
        return n.str == "-" ? Value::integer(-v.i) : v;
      }
      if (v.kind == Value::Kind::floating) return n.str == "-" ? Value::floating(-v.f) : v;
      fail("bad operand type for unary " + n.str + ": " + kind_name(v.kind));
    }
    case NodeKind::binary:
      return eval_binary(n);
    case NodeKind::ternary: {
      if (truthy(eval(*n.kids[1]))) return eval(*n.kids[0]);
      return n.kids[2] ? eval(*n.kids[2]) : Value::undefined();
    }
    case NodeKind::list_lit: {
      ValueList items;
      for (const auto& k : n.kids) items.push_back(eval(*k));
      return Value::make_list(std::move(items));
    }
    case NodeKind::dict_lit: {
      Value d = Value::make_dict();
      for (size_t i = 0; i + 1 < n.kids.size(); i += 2) {
        Value k = eval(*n.kids[i]);
        if (!k.is_string()) k = Value::string(to_output(k));
        d.set(k.s, eval(*n.kids[i + 1]));
      }
      return d;
    }
    default:
      fail("internal: statement node in expression position");
  }
}

static bool is_int(const Value& v) { return v.kind == Value::Kind::integer; }

// + - * / // % ** on two numbers, with Python's integer semantics (floor division and modulo,
// overflow is an error).
static Value arithmetic(const std::string& op, const Value& a, const Value& b) {
  if (is_int(a) && is_int(b) && op != "/") {
    int64_t x = a.i, y = b.i, r = 0;
    if (op == "+") {
      if (add_overflow(x, y, &r)) fail("integer overflow");
      return Value::integer(r);
    }
    if (op == "-") {
      if (sub_overflow(x, y, &r)) fail("integer overflow");
      return Value::integer(r);
    }
    if (op == "*") {
      if (mul_overflow(x, y, &r)) fail("integer overflow");
      return Value::integer(r);
    }
    if (op == "//" || op == "%") {
      if (y == 0) fail("integer division or modulo by zero");
      if (x == std::numeric_limits<int64_t>::min() && y == -1) fail("integer overflow");
      int64_t q = x / y, m = x % y;
      if (m != 0 && ((m < 0) != (y < 0))) {  // Python floors
        q -= 1;
        m += y;
      }
      return Value::integer(op == "//" ? q : m);
    }
    if (op == "**") {
      if (y < 0) return Value::floating(std::pow(double(x), double(y)));
      int64_t acc = 1;
      for (int64_t i = 0; i < y; ++i) {
        if (mul_overflow(acc, x, &acc)) fail("integer overflow");
        if (acc == 0 || acc == 1) break;
      }
      return Value::integer(acc);
    }
  }
  double x = a.as_double(), y = b.as_double();
  if (op == "+") return Value::floating(x + y);
  if (op == "-") return Value::floating(x - y);
  if (op == "*") return Value::floating(x * y);
  if (op == "**") return Value::floating(std::pow(x, y));
  if (y == 0) fail("division by zero");
  if (op == "/") return Value::floating(x / y);
  if (op == "//") return Value::floating(std::floor(x / y));
  if (op == "%") {
    double m = std::fmod(x, y);
    if (m != 0 && ((m < 0) != (y < 0))) m += y;
    return Value::floating(m);
  }
  fail("unsupported operand types for " + op + ": " + kind_name(a.kind) + " and " +
       kind_name(b.kind));
}

Value Interpreter::eval_binary(const Node& n) {
  const std::string& op = n.str;
  if (op == "and") {
    Value a = eval(*n.kids[0]);
    return truthy(a) ? eval(*n.kids[1]) : a;
  }
  if (op == "or") {
    Value a = eval(*n.kids[0]);
    return truthy(a) ? a : eval(*n.kids[1]);
  }
  Value a = eval(*n.kids[0]);
  Value b = eval(*n.kids[1]);
  cur_offset_ = n.offset;
  auto type_error = [&]() -> Value {
    fail("unsupported operand types for " + op + ": " + kind_name(a.kind) + " and " +
         kind_name(b.kind));
  };
  if (op == "==") return Value::boolean(equals(a, b));
  if (op == "!=") return Value::boolean(!equals(a, b));
  if (op == "~") {
    std::string s = to_output(a);
    std::string t = to_output(b);
    check_string(s.size() + t.size());
    return Value::string(s + t);
  }
  if (op == "in" || op == "not in") {
    bool r = false;
    if (b.is_string()) {
      if (!a.is_string()) fail("'in <string>' needs a string on the left");
      r = b.s.find(a.s) != std::string::npos;
    } else if (b.is_list()) {
      for (const auto& e : *b.list) {
        if (equals(a, e)) {
          r = true;
          break;
        }
      }
    } else if (b.is_dict()) {
      r = a.is_string() && b.find(a.s) != nullptr;
    } else if (!b.is_undefined() && !b.is_none()) {
      type_error();
    }
    return Value::boolean(op == "in" ? r : !r);
  }
  if (op == "<" || op == ">" || op == "<=" || op == ">=") {
    int c;
    if (a.is_number() && b.is_number()) {
      if (is_int(a) && is_int(b)) {
        c = a.i < b.i ? -1 : a.i > b.i ? 1 : 0;
      } else {
        double x = a.as_double(), y = b.as_double();
        if (std::isnan(x) || std::isnan(y)) return Value::boolean(false);
        c = x < y ? -1 : x > y ? 1 : 0;
      }
    } else if (a.is_string() && b.is_string()) {
      c = a.s.compare(b.s);
    } else {
      return type_error();
    }
    if (op == "<") return Value::boolean(c < 0);
    if (op == ">") return Value::boolean(c > 0);
    if (op == "<=") return Value::boolean(c <= 0);
    return Value::boolean(c >= 0);
  }
  if (op == "+") {
    if (a.is_string() && b.is_string()) {
      check_string(a.s.size() + b.s.size());
      return Value::string(a.s + b.s);
    }
    if (a.is_list() && b.is_list()) {
      step(a.list->size() + b.list->size());
      ValueList items = *a.list;
      items.insert(items.end(), b.list->begin(), b.list->end());
      return Value::make_list(std::move(items));
    }
  }
  if (op == "*" && ((a.is_string() || a.is_list()) && is_int(b))) std::swap(a, b);
  if (op == "*" && is_int(a) && (b.is_string() || b.is_list())) {
    const int64_t times = std::max<int64_t>(a.i, 0);
    if (b.is_string()) {
      if (times > 0 && b.s.size() > limits_.max_output_bytes / static_cast<size_t>(times)) {
        check_string(limits_.max_output_bytes + 1);
      }
      std::string s;
      for (int64_t i = 0; i < times; ++i) s += b.s;
      return Value::string(std::move(s));
    }
    if (times > 0 && b.list->size() > limits_.max_steps / static_cast<size_t>(times)) {
      step(limits_.max_steps + 1);
    }
    step(static_cast<size_t>(times) * b.list->size());
    ValueList items;
    for (int64_t i = 0; i < times; ++i) items.insert(items.end(), b.list->begin(), b.list->end());
    return Value::make_list(std::move(items));
  }
  if (!a.is_number() || !b.is_number()) return type_error();
  return arithmetic(op, a, b);
}

void Interpreter::eval_args(const Node& n, size_t first, Args* args, Kwargs* kwargs) {
  for (size_t i = first; i < n.kids.size(); ++i) {
    const std::string& kw = n.names[i - first];
    Value v = eval(*n.kids[i]);
    if (kw.empty()) {
      if (!kwargs->empty()) fail("positional argument after a keyword argument");
      args->push_back(std::move(v));
    } else {
      kwargs->emplace_back(kw, std::move(v));
    }
  }
}

Value Interpreter::eval_call(const Node& n) {
  const Node& callee = *n.kids[0];
  Args args;
  Kwargs kwargs;
  if (callee.kind == NodeKind::attr) {
    Value obj = eval(*callee.kids[0]);
    // A dict member that is a macro is called as such; otherwise a method of the value.
    if (const Value* member = obj.find(callee.str); member && member->macro) {
      eval_args(n, 1, &args, &kwargs);
      return call_macro(*member->macro, args, kwargs);
    }
    eval_args(n, 1, &args, &kwargs);
    cur_offset_ = callee.offset;
    return call_method(obj, callee.str, args, kwargs);
  }
  if (callee.kind == NodeKind::name) {
    Value fn = lookup(callee.str);
    eval_args(n, 1, &args, &kwargs);
    cur_offset_ = callee.offset;
    if (fn.macro) return call_macro(*fn.macro, args, kwargs);
    if (!fn.is_undefined()) fail("'" + callee.str + "' is not callable");
    return call_global(callee.str, args, kwargs);
  }
  Value fn = eval(callee);
  if (!fn.macro) fail(std::string("a ") + kind_name(fn.kind) + " is not callable");
  eval_args(n, 1, &args, &kwargs);
  return call_macro(*fn.macro, args, kwargs);
}

Value Interpreter::call_macro(const Macro& m, const Args& args, const Kwargs& kwargs) {
  DepthGuard g(this);
  step();
  const Node& def = *m.node;
  if (args.size() > def.names.size()) {
    fail("macro '" + def.str + "' takes " + std::to_string(def.names.size()) +
         " arguments but got " + std::to_string(args.size()));
  }
  ValueDict scope;
  for (size_t i = 0; i < def.names.size(); ++i) {
    Value v;
    if (i < args.size()) {
      v = args[i];
    } else if (def.kids[i]) {
      v = eval(*def.kids[i]);
    }
    scope.emplace_back(def.names[i], std::move(v));
  }
  for (const auto& [k, v] : kwargs) {
    bool found = false;
    for (auto& [name, slot] : scope) {
      if (name == k) {
        slot = v;
        found = true;
      }
    }
    if (!found) fail("macro '" + def.str + "' has no parameter '" + k + "'");
  }
  scopes_.push_back(std::move(scope));
  std::string out;
  Flow f;
  try {
    f = exec_block(def.body, out);
  } catch (...) {
    scopes_.pop_back();
    throw;
  }
  scopes_.pop_back();
  if (f != Flow::normal) fail("'break' or 'continue' outside a loop in macro '" + def.str + "'");
  return Value::string(std::move(out));
}

}  // namespace nibble::chat
