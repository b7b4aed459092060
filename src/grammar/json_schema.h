// JSON Schema (the subset in docs/grammar.md) -> GBNF text.
#pragma once

#include <string>
#include <string_view>

#include "nibble/result.h"

namespace nibble::grammar {

// invalid_argument naming the place in the schema ("/properties/a: ...") for bad JSON, an
// unsupported keyword, a bad $ref, a pattern outside the subset or limits exceeded.
Result<std::string> json_schema_to_gbnf(std::string_view schema_json);
// Any JSON object.
std::string json_object_gbnf();

// A regular expression (JSON Schema `pattern`, the subset in docs/grammar.md) as a GBNF
// expression over the characters of a JSON string's content (escaped as JSON requires).
Result<std::string> pattern_to_gbnf(std::string_view pattern);

}  // namespace nibble::grammar
