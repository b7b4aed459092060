// Tree-walking interpreter for parsed chat templates. Bounded: evaluation depth, executed
// steps (statements, loop iterations, macro calls) and bytes of output and of any one string.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chat/ast.h"
#include "chat/value.h"

namespace nibble::chat {

struct Limits {
  size_t max_output_bytes = size_t{16} << 20;  // also the bound on any one string value
  size_t max_steps = 1'000'000;
  int max_depth = 400;
};

using Args = std::vector<Value>;
using Kwargs = std::vector<std::pair<std::string, Value>>;

class Interpreter {
 public:
  Interpreter(const Limits& limits, std::string_view source) : limits_(limits), source_(source) {}
  ~Interpreter();
  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  // Runs the statements with `globals` as the outermost scope; throws TemplateFailure.
  std::string run(const std::vector<NodePtr>& body, ValueDict globals);
  // Offset of the node being evaluated when a failure happened (for the error position).
  uint32_t current_offset() const { return cur_offset_; }

  // Used by the builtins.
  void check_string(size_t bytes) const;
  void step(size_t n = 1);
  size_t limits_max_steps_hint() const { return limits_.max_steps; }
  Value apply_filter(const std::string& name, Value v, const Args& args, const Kwargs& kwargs);
  bool apply_test(const std::string& name, const Value& v, const Args& args);
  Value call_method(Value& obj, const std::string& name, const Args& args, const Kwargs& kwargs);
  Value call_global(const std::string& name, const Args& args, const Kwargs& kwargs);
  // A container was made to hold another container (namespace attribute, list append): the
  // only ways a template can build a reference cycle. They are emptied when the interpreter
  // ends, so cycles do not leak.
  void note_mutation(const Value& container, const Value& stored);

 private:
  enum class Flow { normal, break_loop, continue_loop };
  struct DepthGuard {
    Interpreter* in;
    explicit DepthGuard(Interpreter* i) : in(i) {
      if (++in->depth_ > in->limits_.max_depth) fail("template recursion too deep");
    }
    ~DepthGuard() { --in->depth_; }
  };

  Flow exec_block(const std::vector<NodePtr>& body, std::string& out);
  Flow exec(const Node& n, std::string& out);
  void exec_for(const Node& n, std::string& out, Flow* flow);
  void exec_set(const Node& n, std::string& out);
  Value eval(const Node& n);
  Value eval_binary(const Node& n);
  Value eval_call(const Node& n);
  Value call_macro(const Macro& m, const Args& args, const Kwargs& kwargs);
  void eval_args(const Node& n, size_t first, Args* args, Kwargs* kwargs);
  void emit(std::string& out, std::string_view s);

  Value lookup(const std::string& name) const;
  void assign(const std::string& name, Value v);

  Limits limits_;
  std::string_view source_;
  std::vector<ValueDict> scopes_;
  std::vector<std::shared_ptr<ValueDict>> mutated_dicts_;
  std::vector<std::shared_ptr<ValueList>> mutated_lists_;
  size_t steps_ = 0;
  size_t emitted_ = 0;  // bytes written to any output, captures included
  int depth_ = 0;
  uint32_t cur_offset_ = 0;
};

// Unicode-aware helpers shared by filters and methods.
std::vector<std::string> utf8_chars(std::string_view s);
std::string strip_chars(std::string_view s, const Value* chars, bool left, bool right);

}  // namespace nibble::chat
