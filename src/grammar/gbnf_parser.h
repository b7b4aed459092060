// GBNF (llama.cpp's grammar syntax) -> compiled Rules. docs/grammar.md describes the syntax.
#pragma once

#include <memory>
#include <string_view>

#include "grammar/rules.h"

namespace nibble::grammar {

inline constexpr uint32_t kMaxRepeat = 10000;          // largest count in x{m,n}
inline constexpr size_t kMaxGrammarElems = 1u << 20;  // elements after expanding repetitions
inline constexpr int kMaxNesting = 200;                // parentheses inside each other

// Errors are invalid_argument "grammar:LINE:COL: what".
Result<std::shared_ptr<const Rules>> parse_gbnf(std::string_view text,
                                               std::string_view root = "root");

}  // namespace nibble::grammar
