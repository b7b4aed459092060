// Lexer. The preprocessing mirrors @huggingface/jinja (the reference the golden tests compare
// against) rather than Python Jinja: its trim_blocks/lstrip_blocks are regular expressions run
// over the whole source, so they also apply inside string literals. Matching that exactly is
// what makes renderings byte-identical.
#include "chat/lexer.h"

#include <cstring>

#include "chat/value.h"

namespace nibble::chat {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }

[[noreturn]] void fail_at(uint32_t offset, std::string msg) {
  throw TemplateFailure{std::move(msg), offset};
}

}  // namespace

Preprocessed preprocess(std::string_view src) {
  // 1. One trailing newline is dropped.
  size_t n = src.size();
  if (n > 0 && src[n - 1] == '\n') --n;
  // 2. lstrip_blocks: spaces/tabs at the start of a line before "{%", "{#" (or "{-").
  Preprocessed a;
  a.text.reserve(n);
  a.origin.reserve(n + 1);
  size_t i = 0;
  while (i < n) {
    bool line_start = i == 0 || src[i - 1] == '\n' || src[i - 1] == '\r';
    if (line_start) {
      size_t j = i;
      while (j < n && (src[j] == ' ' || src[j] == '\t')) ++j;
      if (j > i && j + 1 < n && src[j] == '{' &&
          (src[j + 1] == '%' || src[j + 1] == '#' || src[j + 1] == '-')) {
        i = j;
      }
    }
    // Copy up to the next line start.
    while (i < n) {
      a.text += src[i];
      a.origin.push_back(static_cast<uint32_t>(i));
      ++i;
      if (src[i - 1] == '\n' || src[i - 1] == '\r') break;
    }
  }
  a.origin.push_back(static_cast<uint32_t>(n));
  // 3. trim_blocks: a newline right after "%}", "#}" (or "-}") is dropped.
  Preprocessed b;
  b.text.reserve(a.text.size());
  b.origin.reserve(a.origin.size());
  for (size_t k = 0; k < a.text.size(); ++k) {
    char c = a.text[k];
    b.text += c;
    b.origin.push_back(a.origin[k]);
    if (c == '}' && k > 0 && k + 1 < a.text.size() && a.text[k + 1] == '\n' &&
        (a.text[k - 1] == '%' || a.text[k - 1] == '#' || a.text[k - 1] == '-')) {
      ++k;  // skip the newline
    }
  }
  b.origin.push_back(a.origin.back());
  return b;
}

std::string describe_position(std::string_view source, uint32_t offset) {
  if (offset > source.size()) offset = static_cast<uint32_t>(source.size());
  uint32_t line = 1, col = 1;
  for (uint32_t i = 0; i < offset; ++i) {
    if (source[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(col);
}

// The string literal whose opening quote is at text[i] (escapes decoded); i ends past the
// closing quote.
std::string string_literal(const Preprocessed& pre, size_t& i) {
  const std::string& s = pre.text;
  const size_t n = s.size();
  auto orig = [&](size_t k) { return pre.origin[k < n ? k : n]; };
  const size_t tok_start = i;
  const char c = s[i];
  std::string val;
  ++i;
  for (;;) {
    if (i >= n) fail_at(orig(tok_start), "unterminated string literal");
    char d = s[i];
    if (d == c) {
      ++i;
      break;
    }
    if (d == '\\') {
      if (i + 1 >= n) fail_at(orig(tok_start), "unterminated string literal");
      char e = s[i + 1];
      i += 2;
      switch (e) {
        case 'n':
          val += '\n';
          break;
        case 't':
          val += '\t';
          break;
        case 'r':
          val += '\r';
          break;
        case 'b':
          val += '\b';
          break;
        case 'f':
          val += '\f';
          break;
        case 'v':
          val += '\v';
          break;
        case '0':
          val += '\0';
          break;
        case '\\':
          val += '\\';
          break;
        case '\'':
          val += '\'';
          break;
        case '"':
          val += '"';
          break;
        case 'x':
        case 'u': {
          size_t len = e == 'x' ? 2 : 4;
          if (i + len > n) fail_at(orig(i - 2), "bad \\x/\\u escape in string literal");
          uint32_t cp = 0;
          for (size_t k = 0; k < len; ++k) {
            char h = s[i + k];
            int dv = is_digit(h)              ? h - '0'
                     : (h >= 'a' && h <= 'f') ? h - 'a' + 10
                     : (h >= 'A' && h <= 'F') ? h - 'A' + 10
                                              : -1;
            if (dv < 0) fail_at(orig(i - 2), "bad \\x/\\u escape in string literal");
            cp = cp * 16 + static_cast<uint32_t>(dv);
          }
          i += len;
          // UTF-8 encode (lone surrogates become U+FFFD).
          if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;
          if (cp < 0x80) {
            val += static_cast<char>(cp);
          } else if (cp < 0x800) {
            val += static_cast<char>(0xC0 | (cp >> 6));
            val += static_cast<char>(0x80 | (cp & 0x3F));
          } else {
            val += static_cast<char>(0xE0 | (cp >> 12));
            val += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            val += static_cast<char>(0x80 | (cp & 0x3F));
          }
          break;
        }
        default:
          fail_at(orig(i - 2), std::string("unknown escape '\\") + e + "' in string literal");
      }
      continue;
    }
    val += d;
    ++i;
  }
  return val;
}

// Length of the operator at s[i] (longest first), 0 when none.
size_t op_length(const std::string& s, size_t i) {
  static const char* const kOps[] = {"//", "**", "==", "!=", "<=", ">=", "(", ")", "[",
                                     "]",  "{",  "}",  ".",  ",",  ":",  "|", "=", "~",
                                     "+",  "-",  "*",  "/",  "%",  "<",  ">"};
  for (const char* op : kOps) {
    const size_t len = std::strlen(op);
    if (s.compare(i, len, op) == 0) return len;
  }
  return 0;
}

std::vector<Token> tokenize(std::string_view source) {
  Preprocessed pre = preprocess(source);
  const std::string& s = pre.text;
  const size_t n = s.size();
  std::vector<Token> toks;
  size_t i = 0;
  auto orig = [&](size_t k) { return pre.origin[k < n ? k : n]; };
  auto strip_trailing = [&] {
    if (!toks.empty() && toks.back().type == Tok::text) {
      std::string& t = toks.back().text;
      while (!t.empty() && is_space(t.back())) t.pop_back();
      if (t.empty()) toks.pop_back();
    }
  };
  auto skip_leading = [&] {
    while (i < n && is_space(s[i])) ++i;
  };

  while (i < n) {
    // Text up to the next tag.
    size_t start = i;
    while (i < n &&
           !(s[i] == '{' && i + 1 < n && (s[i + 1] == '%' || s[i + 1] == '{' || s[i + 1] == '#'))) {
      ++i;
    }
    if (i > start) toks.push_back({Tok::text, s.substr(start, i - start), orig(start)});
    if (i >= n) break;

    const size_t tag_start = i;
    const char kind = s[i + 1];
    i += 2;
    const bool strip_before = i < n && s[i] == '-';
    if (strip_before) {
      ++i;
      strip_trailing();
    }
    if (kind == '#') {
      size_t close = s.find("#}", i);
      if (close == std::string::npos)
        fail_at(orig(tag_start), "unterminated comment (missing '#}')");
      bool strip_after = close > i && s[close - 1] == '-';
      i = close + 2;
      if (strip_after) skip_leading();
      continue;
    }
    const bool is_stmt = kind == '%';
    toks.push_back(
        {is_stmt ? Tok::open_stmt : Tok::open_expr, is_stmt ? "{%" : "{{", orig(tag_start)});
    int brace_depth = 0;  // "}}" inside a dict literal is two braces, not the tag end
    for (;;) {
      while (i < n && is_space(s[i])) ++i;
      if (i >= n) {
        fail_at(orig(tag_start), is_stmt ? "unterminated statement tag (missing '%}')"
                                         : "unterminated expression tag (missing '}}')");
      }
      const size_t tok_start = i;
      const char c = s[i];
      // Tag end, with optional whitespace control.
      if (c == '-' && i + 2 < n + 0 && s[i + 2] == '}' && (s[i + 1] == '%' || s[i + 1] == '}')) {
        bool ends =
            (is_stmt && s[i + 1] == '%') || (!is_stmt && s[i + 1] == '}' && brace_depth == 0);
        if (ends) {
          toks.push_back({is_stmt ? Tok::close_stmt : Tok::close_expr, "", orig(i)});
          i += 3;
          skip_leading();
          break;
        }
      }
      if (is_stmt && c == '%' && i + 1 < n && s[i + 1] == '}') {
        toks.push_back({Tok::close_stmt, "%}", orig(i)});
        i += 2;
        break;
      }
      if (!is_stmt && c == '}' && i + 1 < n && s[i + 1] == '}' && brace_depth == 0) {
        toks.push_back({Tok::close_expr, "}}", orig(i)});
        i += 2;
        break;
      }
      if (c == '\'' || c == '"') {
        std::string val = string_literal(pre, i);
        toks.push_back({Tok::string, std::move(val), orig(tok_start)});
        continue;
      }
      if (is_digit(c)) {
        while (i < n && is_digit(s[i])) ++i;
        bool is_float = false;
        // "1.5" is a float; "x.0" (after a dot) stays attribute access on an integer name.
        if (i + 1 < n && s[i] == '.' && is_digit(s[i + 1]) &&
            !(toks.size() && toks.back().type == Tok::op && toks.back().text == ".")) {
          is_float = true;
          ++i;
          while (i < n && is_digit(s[i])) ++i;
        }
        toks.push_back({is_float ? Tok::floating : Tok::integer, s.substr(tok_start, i - tok_start),
                        orig(tok_start)});
        continue;
      }
      if (is_name_start(c)) {
        while (i < n && is_name_char(s[i])) ++i;
        toks.push_back({Tok::name, s.substr(tok_start, i - tok_start), orig(tok_start)});
        continue;
      }
      const size_t len = op_length(s, i);
      if (len == 0) fail_at(orig(i), std::string("unexpected character '") + c + "' in tag");
      if (len == 1 && c == '{') ++brace_depth;
      if (len == 1 && c == '}') --brace_depth;
      toks.push_back({Tok::op, s.substr(i, len), orig(i)});
      i += len;
    }
  }
  toks.push_back({Tok::end, "", orig(n)});
  return toks;
}

}  // namespace nibble::chat
