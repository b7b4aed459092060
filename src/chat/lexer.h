// Chat-template lexer: splits a Jinja source into text and tag tokens. Applies the
// preprocessing HF's @huggingface/jinja applies (trim_blocks, lstrip_blocks, dropping one
// trailing newline) and whitespace control ({%- -%}, {{- -}}, {#- -#}).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace nibble::chat {

enum class Tok : uint8_t {
  text,        // literal template text
  open_stmt,   // {%
  close_stmt,  // %}
  open_expr,   // {{
  close_expr,  // }}
  name,
  string,  // quoted literal, escapes resolved
  integer,
  floating,
  op,  // punctuation / operator: ( ) [ ] { } . , : | = ~ + - * / // % ** == != < > <= >=
  end,
};

struct Token {
  Tok type;
  std::string text;
  uint32_t offset;  // in the original source
};

// Source after HF preprocessing, with each byte's offset in the original source.
struct Preprocessed {
  std::string text;
  std::vector<uint32_t> origin;  // origin[i]: original offset of text[i]; one extra at the end
};
Preprocessed preprocess(std::string_view source);

// Throws TemplateFailure (with offset) on a lexical error.
std::vector<Token> tokenize(std::string_view source);

// "line L, column C" (1-based, columns in bytes) of an offset in source.
std::string describe_position(std::string_view source, uint32_t offset);

}  // namespace nibble::chat
