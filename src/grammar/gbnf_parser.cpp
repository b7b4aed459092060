// Recursive-descent GBNF parser. Groups become generated rules; repetitions are rewritten as
// llama.cpp does: x{m,n} = m copies of x followed by n-m nested optionals, x* a right-recursive
// rule (r ::= x r | ""), so the matcher's stacks stay flat for long runs.
#include "grammar/gbnf_parser.h"

#include <algorithm>
#include <unordered_map>

namespace nibble::grammar {
namespace {

struct Fail {
  size_t at;
  std::string what;
};

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

// Complement of sorted, disjoint ranges over [0, kMaxCodePoint].
std::vector<Range> complement(const std::vector<Range>& r) {
  std::vector<Range> out;
  uint32_t next = 0;
  for (const Range& x : r) {
    if (x.lo > next) out.push_back({next, x.lo - 1});
    next = x.hi + 1;
  }
  if (next <= kMaxCodePoint) out.push_back({next, kMaxCodePoint});
  return out;
}

std::vector<Range> normalize(std::vector<Range> r) {
  std::sort(r.begin(), r.end(), [](const Range& a, const Range& b) { return a.lo < b.lo; });
  std::vector<Range> out;
  for (const Range& x : r) {
    if (!out.empty() && x.lo <= out.back().hi + 1) {
      out.back().hi = std::max(out.back().hi, x.hi);
    } else {
      out.push_back(x);
    }
  }
  return out;
}

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) { raw_.source = s; }

  RawGrammar run() {
    skip_space();
    while (pos_ < s_.size()) {
      if (!is_name_char(peek())) fail(pos_, std::string("unexpected '") + peek() + "'");
      parse_rule();
      skip_space();
    }
    return std::move(raw_);
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
  int depth_ = 0;
  size_t n_elems_ = 0;
  RawGrammar raw_;
  std::unordered_map<std::string, uint32_t> ids_;

  [[noreturn]] void fail(size_t at, std::string what) { throw Fail{at, std::move(what)}; }
  char peek(size_t k = 0) const { return pos_ + k < s_.size() ? s_[pos_ + k] : '\0'; }
  bool at_end() const { return pos_ >= s_.size(); }

  void skip_space() {
    while (!at_end()) {
      const char c = peek();
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++pos_;
      } else if (c == '#') {
        while (!at_end() && peek() != '\n') ++pos_;
      } else {
        break;
      }
    }
  }

  uint32_t rule_id(const std::string& name, size_t at) {
    auto [it, fresh] = ids_.emplace(name, static_cast<uint32_t>(raw_.rules.size()));
    if (fresh) {
      RawRule r;
      r.name = name;
      r.at = at;
      raw_.rules.push_back(std::move(r));
    }
    return it->second;
  }

  uint32_t new_rule(const std::string& base, size_t at, std::vector<RawAlt> alts) {
    RawRule r;
    r.name = base + "-" + std::to_string(raw_.rules.size());
    r.alts = std::move(alts);
    r.defined = r.generated = true;
    r.at = at;
    raw_.rules.push_back(std::move(r));
    return static_cast<uint32_t>(raw_.rules.size() - 1);
  }

  std::string parse_name() {
    const size_t start = pos_;
    while (!at_end() && is_name_char(peek())) ++pos_;
    if (pos_ == start) fail(pos_, "expected a rule name");
    return std::string(s_.substr(start, pos_ - start));
  }

  // After a name: is "::=" next (then the name starts a new rule)?
  bool rule_start_ahead() {
    size_t p = pos_;
    while (p < s_.size() && is_name_char(s_[p])) ++p;
    while (p < s_.size() && (s_[p] == ' ' || s_[p] == '\t')) ++p;
    return s_.substr(p, 3) == "::=";
  }

  void parse_rule() {
    const size_t at = pos_;
    const std::string name = parse_name();
    skip_space();
    if (s_.substr(pos_, 3) != "::=") fail(pos_, "expected '::=' after rule name '" + name + "'");
    pos_ += 3;
    const uint32_t id = rule_id(name, at);
    if (raw_.rules[id].defined) fail(at, "rule '" + name + "' is defined twice");
    raw_.rules[id].defined = true;
    raw_.rules[id].at = at;
    auto alts = parse_alternates(name);
    raw_.rules[id].alts = std::move(alts);
  }

  std::vector<RawAlt> parse_alternates(const std::string& rule) {
    std::vector<RawAlt> alts;
    alts.push_back(parse_sequence(rule));
    while (peek() == '|') {
      ++pos_;
      alts.push_back(parse_sequence(rule));
    }
    return alts;
  }

  RawAlt parse_sequence(const std::string& rule) {
    RawAlt seq;
    while (true) {
      skip_space();
      const char c = peek();
      if (at_end() || c == '|' || c == ')') break;
      if (is_name_char(c) && rule_start_ahead()) break;
      const size_t at = pos_;
      RawAlt atom = parse_atom(rule);
      skip_space();
      while (peek() == '*' || peek() == '+' || peek() == '?' || peek() == '{') {
        atom = parse_postfix(rule, at, std::move(atom));
        skip_space();
      }
      for (auto& e : atom) seq.push_back(std::move(e));
    }
    return seq;
  }

  RawAlt parse_atom(const std::string& rule) {
    const size_t at = pos_;
    const char c = peek();
    if (c == '"') return parse_literal();
    if (c == '[') return {parse_class()};
    if (c == '.') {
      ++pos_;
      return {chars({{0, kMaxCodePoint}}, at)};
    }
    if (c == '(') {
      if (++depth_ > kMaxNesting)
        fail(at, "parentheses nested deeper than " + std::to_string(kMaxNesting));
      ++pos_;
      auto alts = parse_alternates(rule);
      skip_space();
      if (peek() != ')') fail(pos_, "expected ')' to close the '(' at " + location(s_, at));
      ++pos_;
      --depth_;
      if (alts.size() == 1) return std::move(alts[0]);
      return {ref(new_rule(rule, at, std::move(alts)), at)};
    }
    if (is_name_char(c)) {
      const std::string name = parse_name();
      return {ref(rule_id(name, at), at)};
    }
    fail(at, std::string("unexpected '") + c + "'");
  }

  RawElem chars(std::vector<Range> r, size_t at) {
    count(1, at);
    RawElem e;
    e.kind = ElemKind::chars;
    e.ranges = std::move(r);
    e.at = at;
    return e;
  }
  RawElem ref(uint32_t rule, size_t at) {
    count(1, at);
    RawElem e;
    e.kind = ElemKind::ref;
    e.rule = rule;
    e.at = at;
    return e;
  }
  void count(size_t n, size_t at) {
    n_elems_ += n;
    if (n_elems_ > kMaxGrammarElems)
      fail(at, "the grammar grows past " + std::to_string(kMaxGrammarElems) +
                   " elements (repetition counts too large)");
  }

  uint32_t parse_hex(int digits) {
    uint32_t v = 0;
    for (int i = 0; i < digits; ++i) {
      const char c = peek();
      int d = -1;
      if (c >= '0' && c <= '9') d = c - '0';
      if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
      if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
      if (d < 0) fail(pos_, "expected " + std::to_string(digits) + " hex digits");
      v = v * 16 + static_cast<uint32_t>(d);
      ++pos_;
    }
    return v;
  }

  // One code point of a literal or class: an escape or a UTF-8 character.
  uint32_t parse_char() {
    const size_t at = pos_;
    if (at_end()) fail(at, "unexpected end of the grammar");
    const auto c = static_cast<unsigned char>(peek());
    if (c == '\\') {
      ++pos_;
      const char e = peek();
      ++pos_;
      switch (e) {
        case 'n': return '\n';
        case 'r': return '\r';
        case 't': return '\t';
        case '\\': case '"': case '[': case ']': case '-': case '/': case '^': case '.':
          return static_cast<uint32_t>(e);
        case 'x': return parse_hex(2);
        case 'u': return check_cp(parse_hex(4), at);
        case 'U': return check_cp(parse_hex(8), at);
        default: fail(at, std::string("unknown escape '\\") + (e ? e : ' ') + "'");
      }
    }
    int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || pos_ + len > s_.size()) fail(at, "invalid UTF-8 in the grammar");
    uint32_t cp = len == 1 ? c : c & (0x7F >> len);
    for (int i = 1; i < len; ++i) {
      const auto b = static_cast<unsigned char>(s_[pos_ + i]);
      if ((b & 0xC0) != 0x80) fail(at, "invalid UTF-8 in the grammar");
      cp = (cp << 6) | (b & 0x3F);
    }
    pos_ += len;
    return check_cp(cp, at);
  }
  uint32_t check_cp(uint32_t cp, size_t at) {
    if (cp > kMaxCodePoint || (cp >= 0xD800 && cp <= 0xDFFF))
      fail(at, "not a Unicode scalar value");
    return cp;
  }

  RawAlt parse_literal() {
    const size_t open = pos_++;
    RawAlt out;
    while (true) {
      if (at_end() || peek() == '\n') fail(open, "unterminated string literal");
      if (peek() == '"') break;
      const size_t at = pos_;
      const uint32_t cp = parse_char();
      out.push_back(chars({{cp, cp}}, at));
    }
    ++pos_;
    return out;
  }

  RawElem parse_class() {
    const size_t open = pos_++;
    bool negate = false;
    if (peek() == '^') {
      negate = true;
      ++pos_;
    }
    std::vector<Range> r;
    while (true) {
      if (at_end() || peek() == '\n') fail(open, "unterminated character class (missing ']')");
      if (peek() == ']') break;
      const uint32_t lo = parse_char();
      uint32_t hi = lo;
      if (peek() == '-' && peek(1) != ']' && pos_ + 1 < s_.size()) {
        ++pos_;
        const size_t at = pos_;
        if (at_end() || peek() == '\n') fail(open, "unterminated character class (missing ']')");
        hi = parse_char();
        if (hi < lo) fail(at, "character range end below its start");
      }
      r.push_back({lo, hi});
    }
    ++pos_;
    r = normalize(std::move(r));
    if (negate) r = complement(r);
    return chars(std::move(r), open);
  }

  uint32_t parse_count() {
    const size_t at = pos_;
    uint64_t v = 0;
    if (!(peek() >= '0' && peek() <= '9')) fail(at, "expected a number");
    while (peek() >= '0' && peek() <= '9') {
      v = v * 10 + static_cast<uint64_t>(peek() - '0');
      if (v > kMaxRepeat)
        fail(at, "repetition count above the limit of " + std::to_string(kMaxRepeat));
      ++pos_;
    }
    return static_cast<uint32_t>(v);
  }

  RawAlt parse_postfix(const std::string& rule, size_t at, RawAlt atom) {
    const char c = peek();
    ++pos_;
    uint32_t lo = 0;
    int64_t hi = -1;  // -1: unbounded
    if (c == '+') lo = 1;
    if (c == '?') hi = 1;
    if (c == '{') {
      skip_space();
      lo = parse_count();
      skip_space();
      hi = lo;
      if (peek() == ',') {
        ++pos_;
        skip_space();
        hi = peek() == '}' ? -1 : static_cast<int64_t>(parse_count());
        skip_space();
      }
      if (peek() != '}') fail(pos_, "expected '}' to close the repetition");
      ++pos_;
      if (hi >= 0 && hi < lo) fail(at, "repetition {m,n} with n < m");
    }
    return repeat(rule, at, std::move(atom), lo, hi);
  }

  RawAlt repeat(const std::string& rule, size_t at, RawAlt atom, uint32_t lo, int64_t hi) {
    RawElem unit = atom.size() == 1 ? atom[0] : ref(new_rule(rule, at, {std::move(atom)}), at);
    RawAlt out;
    count(lo, at);
    for (uint32_t i = 0; i < lo; ++i) out.push_back(unit);
    if (hi < 0) {  // r ::= unit r | ""
      const uint32_t r = new_rule(rule, at, {});
      raw_.rules[r].alts = {RawAlt{unit, ref(r, at)}, RawAlt{}};
      out.push_back(ref(r, at));
    } else if (hi > lo) {  // o1 ::= unit | "", ok ::= unit o(k-1) | ""
      count(2 * static_cast<size_t>(hi - lo), at);
      uint32_t prev = new_rule(rule, at, {RawAlt{unit}, RawAlt{}});
      for (int64_t k = 2; k <= hi - lo; ++k)
        prev = new_rule(rule, at, {RawAlt{unit, ref(prev, at)}, RawAlt{}});
      out.push_back(ref(prev, at));
    }
    return out;
  }
};

}  // namespace

std::string location(std::string_view source, size_t offset) {
  size_t line = 1, col = 1;
  for (size_t i = 0; i < offset && i < source.size(); ++i) {
    if (source[i] == '\n') {
      ++line;
      col = 1;
    } else if ((static_cast<unsigned char>(source[i]) & 0xC0) != 0x80) {
      ++col;  // columns count characters, not bytes
    }
  }
  return "grammar:" + std::to_string(line) + ":" + std::to_string(col);
}

Result<std::shared_ptr<const Rules>> parse_gbnf(std::string_view text, std::string_view root) {
  RawGrammar raw;
  try {
    raw = Parser(text).run();
  } catch (const Fail& f) {
    return Error(ErrorCode::invalid_argument, location(text, f.at) + ": " + f.what);
  }
  return compile(raw, root);
}

}  // namespace nibble::grammar
