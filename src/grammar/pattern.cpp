// JSON Schema `pattern` subset -> GBNF over a JSON string's content.
//
// Supported: literals, escapes (\d \w \s \D \W \S and escaped punctuation, \n \t \r \uXXXX),
// `.`, classes [...] with ranges and negation, groups (...) and (?:...), alternation,
// quantifiers * + ? {m} {m,} {m,n}, and ^ / $ at the ends. The text matches the whole
// pattern (which implies the unanchored search JSON Schema defines). Classes, `.` and \s
// produce no character that JSON would have to escape (controls, '"', '\'); a literal
// '"' or '\' in the pattern is emitted escaped.
#include <algorithm>
#include <cstdio>

#include "grammar/gbnf_parser.h"
#include "grammar/json_schema.h"

namespace nibble::grammar {
namespace {

struct PatFail {
  size_t at;
  std::string what;
};

std::string cp_escape(uint32_t cp) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "\\U%08X", cp);
  return buf;
}

// A GBNF literal for the JSON-escaped form of one code point.
std::string json_char_literal(uint32_t cp) {
  if (cp == '"') return "\"\\\\\\\"\"";  // the two characters \"
  if (cp == '\\') return "\"\\\\\\\\\"";  // the two characters \\ (as JSON writes a backslash)
  if (cp < 0x20) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "\"\\\\u%04X\"", cp);
    return buf;
  }
  return "\"" + cp_escape(cp) + "\"";
}

// Ranges minus what JSON must escape.
std::vector<Range> json_safe(std::vector<Range> r) {
  std::vector<Range> out;
  auto cut = [](std::vector<Range> in, uint32_t lo, uint32_t hi) {
    std::vector<Range> o;
    for (const Range& x : in) {
      if (x.hi < lo || x.lo > hi) {
        o.push_back(x);
        continue;
      }
      if (x.lo < lo) o.push_back({x.lo, lo - 1});
      if (x.hi > hi) o.push_back({hi + 1, x.hi});
    }
    return o;
  };
  r = cut(std::move(r), 0, 0x1F);
  r = cut(std::move(r), '"', '"');
  r = cut(std::move(r), '\\', '\\');
  r = cut(std::move(r), 0xD800, 0xDFFF);
  return r;
}

std::string class_text(const std::vector<Range>& r) {
  std::string s = "[";
  for (const Range& x : r) {
    s += cp_escape(x.lo);
    if (x.hi != x.lo) s += "-" + cp_escape(x.hi);
  }
  return s + "]";
}

std::vector<Range> sorted_union(std::vector<Range> r) {
  std::sort(r.begin(), r.end(), [](const Range& a, const Range& b) { return a.lo < b.lo; });
  std::vector<Range> out;
  for (const Range& x : r) {
    if (!out.empty() && x.lo <= out.back().hi + 1)
      out.back().hi = std::max(out.back().hi, x.hi);
    else
      out.push_back(x);
  }
  return out;
}

std::vector<Range> invert(const std::vector<Range>& r) {
  std::vector<Range> out;
  uint32_t next = 0;
  for (const Range& x : r) {
    if (x.lo > next) out.push_back({next, x.lo - 1});
    next = x.hi + 1;
  }
  if (next <= kMaxCodePoint) out.push_back({next, kMaxCodePoint});
  return out;
}

class PatternParser {
 public:
  explicit PatternParser(std::string_view p) : p_(p) {}

  std::string run() {
    if (peek() == '^') ++pos_;
    std::string e = alternation();
    if (pos_ < p_.size()) fail(pos_, std::string("unexpected '") + p_[pos_] + "'");
    return e;
  }

 private:
  std::string_view p_;
  size_t pos_ = 0;
  int depth_ = 0;

  [[noreturn]] void fail(size_t at, std::string w) { throw PatFail{at, std::move(w)}; }
  char peek() const { return pos_ < p_.size() ? p_[pos_] : '\0'; }

  std::string alternation() {
    std::string out = "(" + sequence();
    while (peek() == '|') {
      ++pos_;
      out += " | " + sequence();
    }
    return out + ")";
  }

  std::string sequence() {
    std::string out;
    while (pos_ < p_.size() && peek() != '|' && peek() != ')') {
      if (peek() == '$' && pos_ + 1 == p_.size()) {
        ++pos_;
        break;
      }
      std::string atom = this->atom();
      atom = quantified(std::move(atom));
      out += (out.empty() ? "" : " ") + atom;
    }
    return out.empty() ? "\"\"" : out;
  }

  std::string quantified(std::string atom) {
    const char c = peek();
    std::string q;
    if (c == '*' || c == '+' || c == '?') {
      ++pos_;
      q = std::string(1, c);
    } else if (c == '{') {
      const size_t at = pos_;
      const size_t close = p_.find('}', pos_);
      if (close == std::string_view::npos) fail(at, "unterminated {m,n}");
      q = std::string(p_.substr(pos_, close - pos_ + 1));
      for (char x : q.substr(1, q.size() - 2))
        if (!(x >= '0' && x <= '9') && x != ',') fail(at, "bad repetition " + q);
      pos_ = close + 1;
    } else {
      return atom;
    }
    if (peek() == '?' || peek() == '+') fail(pos_, "lazy/possessive quantifiers are not supported");
    return "(" + atom + ")" + q;
  }

  uint32_t utf8_char() {
    const auto c = static_cast<unsigned char>(p_[pos_]);
    int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || pos_ + len > p_.size()) fail(pos_, "invalid UTF-8");
    uint32_t cp = len == 1 ? c : c & (0x7F >> len);
    for (int i = 1; i < len; ++i) cp = (cp << 6) | (static_cast<unsigned char>(p_[pos_ + i]) & 0x3F);
    pos_ += len;
    return cp;
  }

  // An escape after '\': a set of ranges (classes) or one code point.
  std::vector<Range> escape() {
    const size_t at = pos_ - 1;
    if (pos_ >= p_.size()) fail(at, "pattern ends with '\\'");
    const char e = p_[pos_++];
    const std::vector<Range> digit = {{'0', '9'}};
    const std::vector<Range> word = {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}};
    const std::vector<Range> space = {{' ', ' '}};
    switch (e) {
      case 'd': return digit;
      case 'w': return word;
      case 's': return space;
      case 'D': return invert(digit);
      case 'W': return invert(word);
      case 'S': return invert(space);
      case 'n': return {{'\n', '\n'}};
      case 't': return {{'\t', '\t'}};
      case 'r': return {{'\r', '\r'}};
      case 'u': {
        if (pos_ + 4 > p_.size()) fail(at, "\\u needs 4 hex digits");
        uint32_t v = 0;
        for (int i = 0; i < 4; ++i) {
          const char h = p_[pos_++];
          const int d = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10
                      : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
          if (d < 0) fail(at, "\\u needs 4 hex digits");
          v = v * 16 + static_cast<uint32_t>(d);
        }
        return {{v, v}};
      }
      default:
        if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9'))
          fail(at, std::string("unsupported escape '\\") + e + "'");
        return {{static_cast<uint32_t>(static_cast<unsigned char>(e)),
                 static_cast<uint32_t>(static_cast<unsigned char>(e))}};
    }
  }

  std::string ranges_atom(const std::vector<Range>& r, size_t at) {
    if (r.size() == 1 && r[0].lo == r[0].hi) return json_char_literal(r[0].lo);
    auto safe = json_safe(sorted_union(r));
    if (safe.empty()) fail(at, "the class matches no character allowed unescaped in JSON");
    return class_text(safe);
  }

  std::string bracket() {
    const size_t open = pos_++;
    bool neg = false;
    if (peek() == '^') neg = true, ++pos_;
    std::vector<Range> r;
    bool first = true;
    while (true) {
      if (pos_ >= p_.size()) fail(open, "unterminated character class");
      if (peek() == ']' && !first) break;
      first = false;
      std::vector<Range> item;
      if (peek() == '\\') {
        ++pos_;
        item = escape();
      } else {
        const uint32_t c = utf8_char();
        item = {{c, c}};
      }
      if (item.size() == 1 && item[0].lo == item[0].hi && peek() == '-' && pos_ + 1 < p_.size() &&
          p_[pos_ + 1] != ']') {
        ++pos_;
        uint32_t hi;
        if (peek() == '\\') {
          ++pos_;
          auto h = escape();
          if (h.size() != 1 || h[0].lo != h[0].hi) fail(pos_, "bad range end");
          hi = h[0].lo;
        } else {
          hi = utf8_char();
        }
        if (hi < item[0].lo) fail(pos_, "range end below its start");
        item[0].hi = hi;
      }
      r.insert(r.end(), item.begin(), item.end());
    }
    ++pos_;
    r = sorted_union(std::move(r));
    if (neg) r = invert(r);
    auto safe = json_safe(r);
    if (safe.empty()) fail(open, "the class matches no character allowed unescaped in JSON");
    return class_text(safe);
  }

  std::string atom() {
    const size_t at = pos_;
    const char c = peek();
    if (c == '(') {
      if (++depth_ > kMaxNesting) fail(at, "groups nested too deeply");
      ++pos_;
      if (peek() == '?') {
        if (pos_ + 1 < p_.size() && p_[pos_ + 1] == ':') {
          pos_ += 2;
        } else {
          fail(at, "lookaround and named groups are not supported");
        }
      }
      std::string inner = alternation();
      if (peek() != ')') fail(at, "unclosed '('");
      ++pos_;
      --depth_;
      return inner;
    }
    if (c == '[') return bracket();
    if (c == '.') {
      ++pos_;
      return class_text(json_safe({{0, kMaxCodePoint}}));
    }
    if (c == '\\') {
      ++pos_;
      if (peek() == 'b' || peek() == 'B') fail(at, "word boundaries are not supported");
      return ranges_atom(escape(), at);
    }
    if (c == '*' || c == '+' || c == '?' || c == '{') fail(at, "quantifier without a target");
    if (c == '^' || c == '$') fail(at, "anchors only at the start and end are supported");
    const uint32_t cp = utf8_char();
    return json_char_literal(cp);
  }
};

}  // namespace

Result<std::string> pattern_to_gbnf(std::string_view pattern) {
  try {
    return PatternParser(pattern).run();
  } catch (const PatFail& f) {
    return Error(ErrorCode::invalid_argument, "pattern \"" + std::string(pattern) +
                                                  "\" at offset " + std::to_string(f.at) +
                                                  ": " + f.what);
  }
}

}  // namespace nibble::grammar
