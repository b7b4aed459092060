// A compiled grammar: rules over Unicode code points, flattened for the matcher.
//
// Every rule is a list of alternatives; an alternative is a run of elements in `elems` that
// ends with an `end` element. An element matches one code point from a set of ranges
// (`chars`) or a whole rule (`ref`). Repetition, grouping and optionals were rewritten into
// generated rules by the parser, so the matcher knows only these three kinds.
//
// compile() guarantees (or fails with an error naming the rule and its line:column): every
// referenced rule is defined, no rule is left-recursive (also not through elements that can
// match the empty string), every remaining alternative can match some finite string (those
// that cannot are dropped), and the root can. So every parse stack the matcher builds can
// still be completed, and expanding rule references always terminates.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "nibble/result.h"

namespace nibble::grammar {

enum class ElemKind : uint8_t { end, chars, ref };

struct Elem {
  ElemKind kind = ElemKind::end;
  uint32_t a = 0;  // chars: first range in Rules::ranges; ref: rule id
  uint32_t b = 0;  // chars: one past the last range
};

struct Range {
  uint32_t lo, hi;  // inclusive code points, sorted, disjoint
};

inline constexpr uint32_t kMaxCodePoint = 0x10FFFF;
inline constexpr uint32_t kInfiniteLength = 1u << 30;  // "no finite string" for min lengths

struct Rules {
  std::vector<Elem> elems;
  std::vector<Range> ranges;
  std::vector<std::vector<uint32_t>> alts;  // per rule: index in elems of each alternative
  std::vector<std::string> names;
  uint32_t root = 0;
  // Per element: the fewest UTF-8 bytes that match the elements from it to its `end`.
  std::vector<uint32_t> rest_min;

  bool matches(const Elem& e, uint32_t cp) const;
  // Whether some code point in [lo, hi] matches.
  bool matches_any(const Elem& e, uint32_t lo, uint32_t hi) const;
};

// --- What the parser produces, before compilation --------------------------------------------

struct RawElem {
  ElemKind kind = ElemKind::chars;
  std::vector<Range> ranges;  // chars
  uint32_t rule = 0;          // ref
  size_t at = 0;              // byte offset in the source (errors)
};
using RawAlt = std::vector<RawElem>;

struct RawRule {
  std::string name;
  std::vector<RawAlt> alts;
  bool defined = false;
  bool generated = false;  // made by the parser for a group or repetition
  size_t at = 0;           // definition (or the construct it was generated for)
};

struct RawGrammar {
  std::string_view source;  // for line:column in messages
  std::vector<RawRule> rules;
};

// "grammar:LINE:COL" for a byte offset.
std::string location(std::string_view source, size_t offset);

Result<std::shared_ptr<const Rules>> compile(const RawGrammar& raw, std::string_view root);

}  // namespace nibble::grammar
