// Helpers for the grammar tests: run text through a compiled grammar's automaton.
#pragma once

#include <string_view>

#include "grammar/gbnf_parser.h"
#include "grammar/machine.h"

namespace nibble::grammar::testing {

// Whether `text` is a complete string of the grammar's language.
inline bool accepts(const std::shared_ptr<const Rules>& rules, std::string_view text) {
  Machine m(rules);
  int32_t s = m.initial();
  for (char c : text) {
    if (s == kDead) return false;
    s = m.step(s, static_cast<uint8_t>(c));
  }
  return s != kDead && m.accepting(s);
}

// Whether `text` can be continued into a string of the language.
inline bool viable_prefix(const std::shared_ptr<const Rules>& rules, std::string_view text) {
  Machine m(rules);
  int32_t s = m.initial();
  for (char c : text) {
    if (s == kDead) return false;
    s = m.step(s, static_cast<uint8_t>(c));
  }
  return s != kDead;
}

}  // namespace nibble::grammar::testing
