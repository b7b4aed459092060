// Values of the chat-template interpreter: the Jinja/Python data model reduced to what chat
// templates use. Lists and dicts are shared by reference (as in Python), which is what makes
// `namespace()` attribute assignment visible outside a loop scope.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nibble::chat {

struct Value;
using ValueList = std::vector<Value>;
// Insertion-ordered (Python dicts keep insertion order; tojson and items() show it).
using ValueDict = std::vector<std::pair<std::string, Value>>;
struct Macro;

// Thrown inside the interpreter (never across the public API): ChatTemplate::render catches it
// and turns it into nibble::Error(template_error) with the position of the node being run.
struct TemplateFailure {
  std::string message;
  uint32_t offset = UINT32_MAX;  // source offset when known at the throw site
};
[[noreturn]] void fail(std::string message);

// Nesting bound for the recursive value walks (JSON, equality): a namespace can be made to
// contain itself, so cycles are possible.
inline constexpr int kMaxValueDepth = 128;

struct Value {
  enum class Kind : uint8_t {
    undefined,
    none,
    boolean,
    integer,
    floating,
    string,
    list,
    dict,
    macro
  };

  Kind kind = Kind::undefined;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::string s;
  std::shared_ptr<ValueList> list;
  std::shared_ptr<ValueDict> dict;
  bool is_namespace = false;  // dict made by namespace(): attribute assignment allowed
  std::shared_ptr<const Macro> macro;

  static Value undefined() { return {}; }
  static Value none() {
    Value v;
    v.kind = Kind::none;
    return v;
  }
  static Value boolean(bool x) {
    Value v;
    v.kind = Kind::boolean;
    v.b = x;
    return v;
  }
  static Value integer(int64_t x) {
    Value v;
    v.kind = Kind::integer;
    v.i = x;
    return v;
  }
  static Value floating(double x) {
    Value v;
    v.kind = Kind::floating;
    v.f = x;
    return v;
  }
  static Value string(std::string x) {
    Value v;
    v.kind = Kind::string;
    v.s = std::move(x);
    return v;
  }
  static Value make_list(ValueList items = {}) {
    Value v;
    v.kind = Kind::list;
    v.list = std::make_shared<ValueList>(std::move(items));
    return v;
  }
  static Value make_dict(ValueDict items = {}) {
    Value v;
    v.kind = Kind::dict;
    v.dict = std::make_shared<ValueDict>(std::move(items));
    return v;
  }

  bool is_undefined() const { return kind == Kind::undefined; }
  bool is_none() const { return kind == Kind::none; }
  bool is_string() const { return kind == Kind::string; }
  bool is_number() const { return kind == Kind::integer || kind == Kind::floating; }
  bool is_list() const { return kind == Kind::list; }
  bool is_dict() const { return kind == Kind::dict; }
  double as_double() const { return kind == Kind::integer ? double(i) : f; }

  // Dict lookup; nullptr when absent (or not a dict).
  const Value* find(std::string_view key) const;
  // Insert or replace (dicts only).
  void set(std::string_view key, Value v);
};

// Python truthiness.
bool truthy(const Value& v);
// Equality as Jinja's == (1 == 1.0, lists and dicts element-wise).
bool equals(const Value& a, const Value& b, int depth = 0);
// What {{ v }} prints. Follows @huggingface/jinja (the project's reference): none and
// undefined print nothing, booleans print true/false, lists/dicts print as JSON with Python
// separators, floats keep a ".0".
std::string to_output(const Value& v);
// tojson: JSON with ", " and ": " separators (Python json.dumps defaults), non-ASCII kept.
// indent < 0: single line. depth bounded by the caller's recursion limit.
std::string to_json(const Value& v, int indent, int depth = 0);
std::string format_float(double f);
const char* kind_name(Value::Kind k);

}  // namespace nibble::chat
