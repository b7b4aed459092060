// Syntax tree of a parsed chat template. One node type with a kind tag keeps the parser and
// interpreter short; the field comments say which kinds use which fields.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "chat/value.h"

namespace nibble::chat {

enum class NodeKind : uint8_t {
  // expressions
  literal,   // lit
  name,      // str
  attr,      // kids[0].str
  index,     // kids[0][kids[1]]
  slice,     // kids[0][kids[1]:kids[2]:kids[3]] (null kids = omitted)
  call,      // kids[0](kids[1..]) with names[i-1] the keyword or "" (positional)
  filter,    // kids[0] | str(kids[1..]) with names as for call
  test,      // kids[0] is [not] str(kids[1..]); negate
  unary,     // str in {"not", "-", "+"} kids[0]
  binary,    // kids[0] str kids[1]
  ternary,   // kids[0] if kids[1] else kids[2] (kids[2] may be null)
  list_lit,  // kids
  dict_lit,  // kids: key0, value0, key1, value1, ...
  // statements
  text,        // str
  output,      // {{ kids[0] }}
  if_stmt,     // kids: cond0, cond1, ...; bodies[i] for each; else_body
  for_stmt,    // names: targets; kids[0]: iterable; kids[1]: filter condition (or null); body;
               // else_body
  set_stmt,    // kids[0]: target (name/attr/list_lit of names); kids[1]: value or null (block set:
               // body)
  macro,       // str: name; names: params; kids: defaults (null = none); body
  call_block,  // kids[0]: call expression; body: caller()
  filter_block,  // kids[0]: filter chain applied to the body's output (kids[0] filter on literal)
  break_stmt,
  continue_stmt,
};

struct Node;
using NodePtr = std::unique_ptr<Node>;

struct Node {
  NodeKind kind;
  uint32_t offset = 0;  // source offset, for error messages
  std::string str;
  Value lit;
  bool negate = false;
  std::vector<NodePtr> kids;
  std::vector<std::string> names;
  std::vector<std::vector<NodePtr>> bodies;
  std::vector<NodePtr> body;
  std::vector<NodePtr> else_body;
};

struct Macro {
  const Node* node;  // the macro statement (owned by the template)
};

// Parse a token stream into statements. Throws TemplateFailure with an offset.
std::vector<NodePtr> parse(std::string_view source);

// Parser nesting bound (untrusted templates must not overflow the stack).
inline constexpr int kMaxParseDepth = 200;

}  // namespace nibble::chat
