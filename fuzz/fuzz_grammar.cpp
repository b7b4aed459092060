// libFuzzer target for the grammar layer (untrusted grammars and schemas from API users and
// HTTP requests).
//
// Input: the first byte picks the mode, the rest up to the first 0x00 byte is the grammar
// text, what follows it is "generated" text fed to the automaton byte by byte.
//   first byte even: GBNF; odd: a JSON Schema (converted to GBNF, then parsed).
// Checks: parsing never crashes or hangs (errors are fine); on a grammar that compiles, every
// live state can still be completed (finite distance), a dead byte stays dead, an accepting
// state has distance 0, and the automaton's bounds hold.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "grammar/gbnf_parser.h"
#include "grammar/json_schema.h"
#include "grammar/machine.h"

using namespace nibble::grammar;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const bool schema = data[0] & 1;
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const size_t zero = rest.find('\0');
  std::string_view text = rest.substr(0, zero);
  std::string_view input = zero == std::string_view::npos ? std::string_view() : rest.substr(zero + 1);

  std::string gbnf(text);
  if (schema) {
    auto g = json_schema_to_gbnf(text);
    if (!g.ok()) return 0;
    gbnf = *g;
  }
  auto rules = parse_gbnf(gbnf);
  if (!rules.ok()) {
    if (rules.error().message().empty()) std::abort();  // errors say what was wrong
    return 0;
  }
  Machine m(*rules);
  int32_t s = m.initial();
  if (s == kDead) {
    if (!m.error()) std::abort();  // a dead start is always explained
    return 0;
  }
  for (unsigned char c : input) {
    if (m.distance(s) >= kInfiniteLength) std::abort();  // every live state can finish
    if (m.accepting(s) && m.distance(s) != 0) std::abort();
    const int32_t next = m.step(s, c);
    if (next == kDead) {
      if (m.step(s, c) != kDead) std::abort();  // cached transitions agree
      continue;  // skip the byte, as a sampler would never emit it
    }
    s = m.compact(next);
  }
  return 0;
}
