#include "tokenizer/pretokenizer.h"

#include <algorithm>
#include <array>
#include <initializer_list>
#include <utility>

namespace nibble::tok {
namespace {

constexpr uint16_t kLNW = kLetter | kNumber | kWhitespace;
// GPT-4o's letter classes: "upper-ish" [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}] and "lower-ish"
// [\p{Ll}\p{Lm}\p{Lo}\p{M}] (Lm, Lo and marks are in both).
constexpr uint16_t kUpperish = kUpper | kTitle | kModifier | kOtherLetter | kMark;
constexpr uint16_t kLowerish = kLower | kModifier | kOtherLetter | kMark;

// DeepSeek LLM's letter class, copied from its tokenizer.json as a character-set literal
// ("a-b" is a range). Parsed once into sorted code-point ranges. Six characters are written as
// \u escapes: they have singleton canonical decompositions (ώ U+1F7D, ι U+1FBE, ΐ U+1FD3,
// Ί U+1FDB, Ohm U+2126, Kelvin U+212A), and an editor or tool that NFC-normalizes the file
// would silently turn them into other letters (Kelvin into ASCII K, making K..U+212D a range).
constexpr std::string_view kDsLlmLetters =
    "A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-"
    "ᏽᲐ-"
    "ᲺᲽ-"
    "Ჿᴀ-"
    "ᴫᵫ-"
    "ᵷᵹ-"
    "ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-"
    "ὗὙὛὝὟ-\u1F7Dᾀ-ᾴᾶ-ᾼ\u1FBEῂ-ῄῆ-ῌῐ-\u1FD3ῖ-\u1FDBῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤ\u2126ℨ\u212A-ℭℯ-ℴℹℼ-ℿⅅ-"
    "ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-"
    "ꝯꝱ-"
    "ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-"
    "𐳲𑢠-"
    "𑣟𞤀-"
    "𞥃";

using Ranges = std::vector<std::pair<uint32_t, uint32_t>>;

Ranges parse_class(std::string_view s) {
  std::vector<uint32_t> cps;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp;
    i += utf8_next(s, i, &cp);
    cps.push_back(cp);
  }
  Ranges r;
  for (size_t i = 0; i < cps.size(); ++i) {
    if (i + 2 < cps.size() && cps[i + 1] == '-') {
      r.emplace_back(cps[i], cps[i + 2]);
      i += 2;
    } else {
      r.emplace_back(cps[i], cps[i]);
    }
  }
  std::sort(r.begin(), r.end());
  return r;
}

bool in_ranges(const Ranges& r, uint32_t cp) {
  auto it = std::upper_bound(r.begin(), r.end(), std::make_pair(cp, UINT32_MAX));
  return it != r.begin() && std::prev(it)->second >= cp;
}

// DeepSeek LLM's letter class as a bitmap over the BMP plus ranges above it.
struct DsLetters {
  std::vector<uint64_t> bmp = std::vector<uint64_t>(0x10000 / 64, 0);
  Ranges astral;
  DsLetters() {
    for (auto [lo, hi] : parse_class(kDsLlmLetters)) {
      for (uint32_t c = lo; c <= hi && c < 0x10000; ++c) bmp[c >> 6] |= uint64_t{1} << (c & 63);
      if (hi >= 0x10000) astral.emplace_back(std::max<uint32_t>(lo, 0x10000), hi);
    }
  }
  bool operator()(uint32_t c) const {
    if (c < 0x10000) return (bmp[c >> 6] >> (c & 63)) & 1;
    return c != kInvalidCp && in_ranges(astral, c);
  }
};

const DsLetters& ds_letters() {
  static const DsLetters d;
  return d;
}

bool is_ds_punct(uint32_t c) {
  return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x7E) || (c >= 0xFF01 && c <= 0xFF0F) ||
         (c >= 0xFF1A && c <= 0xFF5E) || (c >= 0x2018 && c <= 0x201F) ||
         (c >= 0x3000 && c <= 0x3002);
}

bool is_cjk(uint32_t c) {
  return (c >= 0x4E00 && c <= 0x9FA5) || (c >= 0x0800 && c <= 0x4E00) ||
         (c >= 0xAC00 && c <= 0xD7FF);
}

bool is_extra_punct(uint32_t c, bool backtick) {
  switch (c) {
    case '$':
    case '+':
    case '<':
    case '=':
    case '>':
    case '^':
    case '~':
    case '|':
      return true;
    case '`':
      return backtick;
    default:
      return false;
  }
}

// Matching context over one piece [.., end) of decoded code points; positions at or past `end`
// read as "nothing" (cp kInvalidCp, flags 0), as a regex applied to the piece alone sees them.
struct View {
  const Cpt* c;
  size_t end;
  uint32_t cp(size_t i) const { return i < end ? c[i].cp : kInvalidCp; }
  uint16_t fl(size_t i) const { return i < end ? c[i].flags : 0; }
  bool exists(size_t i) const { return i < end; }
  template <typename Pred>
  size_t run(size_t i, Pred p) const {
    while (i < end && p(i)) ++i;
    return i;
  }
};

uint32_t ascii_lower(uint32_t c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

// 's|'t|'re|'ve|'m|'ll|'d, optionally case-insensitive (ASCII letters).
size_t contraction(const View& v, size_t pos, bool ci) {
  if (v.cp(pos) != '\'' || !v.exists(pos + 1)) return 0;
  uint32_t c1 = ci ? ascii_lower(v.cp(pos + 1)) : v.cp(pos + 1);
  if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return 2;
  if (!v.exists(pos + 2)) return 0;
  uint32_t c2 = ci ? ascii_lower(v.cp(pos + 2)) : v.cp(pos + 2);
  if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return 3;
  return 0;
}

// Returns the match length at pos (> 0), or -k: no match starts at pos .. pos+k-1.
long match_gpt2(const View& v, size_t pos) {
  if (size_t n = contraction(v, pos, false)) return static_cast<long>(n);
  const uint32_t c = v.cp(pos);
  const size_t s = pos + (c == ' ' ? 1 : 0);
  const uint16_t f2 = v.fl(s);
  if (v.exists(s)) {
    if (f2 & kLetter) return v.run(s, [&](size_t i) { return v.fl(i) & kLetter; }) - pos;
    if (f2 & kNumber) return v.run(s, [&](size_t i) { return v.fl(i) & kNumber; }) - pos;
    if (!(f2 & kLNW)) return v.run(s, [&](size_t i) { return !(v.fl(i) & kLNW); }) - pos;
  }
  // \s+(?!\S): the whole run at the end of the piece, else all but its last character.
  size_t e = v.run(pos, [&](size_t i) { return v.fl(i) & kWhitespace; });
  size_t n = e - pos;
  if (n == 0) return -1;
  if (e == v.end) return static_cast<long>(n);
  return n > 1 ? static_cast<long>(n - 1) : -1;
}

long match_llama3(const View& v, size_t pos, int max_digits) {
  if (size_t n = contraction(v, pos, true)) return static_cast<long>(n);
  const uint32_t c = v.cp(pos);
  const uint16_t f = v.fl(pos);
  auto letters = [&](size_t i) { return v.fl(i) & kLetter; };
  // [^\r\n\p{L}\p{N}]?\p{L}+
  if (!(c == '\r' || c == '\n' || (f & kNumber))) {
    if (f & kLetter) return v.run(pos, letters) - pos;
    if (v.fl(pos + 1) & kLetter) return v.run(pos + 1, letters) - pos;
  }
  // \p{N}{1,K}
  if (f & kNumber) {
    size_t i = pos;
    while (i < v.end && i - pos < static_cast<size_t>(max_digits) && (v.fl(i) & kNumber)) ++i;
    return static_cast<long>(i - pos);
  }
  // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
  const size_t s = pos + (c == ' ' ? 1 : 0);
  if (v.exists(s) && !(v.fl(s) & kLNW)) {
    size_t i = v.run(s, [&](size_t k) { return !(v.fl(k) & kLNW); });
    i = v.run(i, [&](size_t k) { return v.cp(k) == '\r' || v.cp(k) == '\n'; });
    return static_cast<long>(i - pos);
  }
  // \s*[\r\n]+ | \s+(?!\S) | \s+
  size_t i = pos, last_nl = 0;
  while (i < v.end && (v.fl(i) & kWhitespace)) {
    if (v.cp(i) == '\r' || v.cp(i) == '\n') last_nl = i + 1;
    ++i;
  }
  if (last_nl) return static_cast<long>(last_nl - pos);
  size_t n = i - pos;
  if (n > 1 && i < v.end) return static_cast<long>(n - 1);
  if (n > 0) return static_cast<long>(n);
  return -1;
}

// [^\r\n\p{L}\p{N}]? U* W+ C? | [^\r\n\p{L}\p{N}]? U+ W* C? | \p{N}{1,3}
//   | ' ?[^\s\p{L}\p{N}]+[\r\n/]*' | \s*[\r\n]+ | \s+(?!\S) | \s+
// with U = kUpperish, W = kLowerish, C = (?i:'s|'t|'re|'ve|'m|'ll|'d).
long match_gpt4o(const View& v, size_t pos, int max_digits, bool contractions) {
  auto in = [&](size_t i, uint16_t cls) { return i < v.end && (v.fl(i) & cls) != 0; };
  auto with_suffix = [&](size_t e) {
    return static_cast<long>(e + (contractions ? contraction(v, e, true) : 0) - pos);
  };
  const uint32_t c = v.cp(pos);
  const uint16_t f = v.fl(pos);
  // The optional prefix is tried consumed first, then not (regex backtracking order).
  const bool can_prefix = c != '\r' && c != '\n' && !(f & (kLetter | kNumber));
  // Alternative 1: U* W+. U* is greedy and gives back characters until a W+ can start.
  for (size_t s : {pos + 1, pos}) {
    if (s == pos + 1 && !can_prefix) continue;
    size_t u = v.run(s, [&](size_t i) { return in(i, kUpperish); });
    for (size_t k = u + 1; k-- > s;) {
      if (in(k, kLowerish))
        return with_suffix(v.run(k, [&](size_t i) { return in(i, kLowerish); }));
    }
  }
  // Alternative 2: U+ W*.
  for (size_t s : {pos + 1, pos}) {
    if (s == pos + 1 && !can_prefix) continue;
    size_t u = v.run(s, [&](size_t i) { return in(i, kUpperish); });
    if (u == s) continue;
    return with_suffix(v.run(u, [&](size_t i) { return in(i, kLowerish); }));
  }
  if (f & kNumber) {
    size_t i = pos;
    while (i < v.end && i - pos < static_cast<size_t>(max_digits) && (v.fl(i) & kNumber)) ++i;
    return static_cast<long>(i - pos);
  }
  const size_t s = pos + (c == ' ' ? 1 : 0);
  if (v.exists(s) && !(v.fl(s) & kLNW)) {
    size_t i = v.run(s, [&](size_t k) { return !(v.fl(k) & kLNW); });
    i = v.run(i, [&](size_t k) { return v.cp(k) == '\r' || v.cp(k) == '\n' || v.cp(k) == '/'; });
    return static_cast<long>(i - pos);
  }
  size_t i = pos, last_nl = 0;
  while (i < v.end && (v.fl(i) & kWhitespace)) {
    if (v.cp(i) == '\r' || v.cp(i) == '\n') last_nl = i + 1;
    ++i;
  }
  if (last_nl) return static_cast<long>(last_nl - pos);
  size_t n = i - pos;
  if (n > 1 && i < v.end) return static_cast<long>(n - 1);
  if (n > 0) return static_cast<long>(n);
  return -1;
}

template <typename Pred>
long match_run(const View& v, size_t pos, Pred in_class, bool optional_ws) {
  if (optional_ws && (v.fl(pos) & kWhitespace) && v.exists(pos + 1) && in_class(pos + 1))
    return v.run(pos + 1, in_class) - pos;
  if (in_class(pos)) return v.run(pos, in_class) - pos;
  return -1;
}

long match_step(const SplitStep& st, const View& v, size_t pos) {
  switch (st.pattern) {
    case SplitPattern::gpt2:
      return match_gpt2(v, pos);
    case SplitPattern::llama3:
      return match_llama3(v, pos, st.max_digits);
    case SplitPattern::gpt4o:
      return match_gpt4o(v, pos, st.max_digits, st.contractions);
    case SplitPattern::punct_run:
      return match_run(
          v, pos,
          [&](size_t i) { return (v.fl(i) & kPunct) || is_extra_punct(v.cp(i), st.with_backtick); },
          false);
    case SplitPattern::number_run:
      return match_run(
          v, pos, [&](size_t i) { return v.fl(i) & kNumber; }, false);
    case SplitPattern::number_one:
      return (v.fl(pos) & kNumber) ? 1 : -1;
    case SplitPattern::ascii_digits3: {
      for (size_t k = 0; k < 3; ++k) {
        uint32_t c = v.cp(pos + k);
        if (c < '0' || c > '9') return -1;
      }
      return 3;
    }
    case SplitPattern::newline_one:
      return (v.cp(pos) == '\r' || v.cp(pos) == '\n') ? 1 : -1;
    case SplitPattern::ws_letter_run:
      return match_run(
          v, pos, [&](size_t i) { return v.fl(i) & kLetter; }, true);
    case SplitPattern::ws_punct_run:
      return match_run(
          v, pos, [&](size_t i) { return v.fl(i) & kPunct; }, true);
    case SplitPattern::cjk_run:
      return match_run(
          v, pos, [&](size_t i) { return i < v.end && is_cjk(v.cp(i)); }, false);
    case SplitPattern::ws_end: {
      size_t e = v.run(pos, [&](size_t i) { return v.fl(i) & kWhitespace; });
      if (e == pos) return -1;
      // A run that stops before the end cannot match from any of its positions.
      return e == v.end ? static_cast<long>(e - pos) : -static_cast<long>(e - pos);
    }
    case SplitPattern::dsllm_letter_run:
      return match_run(
          v, pos, [&](size_t i) { return i < v.end && ds_letters()(v.cp(i)); }, true);
    case SplitPattern::dsllm_punct_run:
      return match_run(
          v, pos, [&](size_t i) { return i < v.end && is_ds_punct(v.cp(i)); }, true);
  }
  return -1;
}

SplitStep step(SplitPattern p) { return SplitStep{p}; }

}  // namespace

Result<PreTokenizerSpec> pre_tokenizer_for(std::string_view pre) {
  using P = SplitPattern;
  auto is_any = [&](std::initializer_list<std::string_view> names) {
    return std::find(names.begin(), names.end(), pre) != names.end();
  };
  PreTokenizerSpec spec;
  spec.name = std::string(pre);
  if (pre == "default") {
    spec.steps = {step(P::punct_run), step(P::gpt2), step(P::number_run), step(P::ascii_digits3)};
  } else if (is_any({"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral"})) {
    spec.steps = {SplitStep{P::llama3, 3}};
    spec.ignore_merges = true;
  } else if (is_any({"gpt-4o", "llama4", "minimax-m2"})) {
    spec.steps = {step(P::gpt4o)};
  } else if (pre == "tekken") {
    SplitStep tekken{P::gpt4o, 1};
    tekken.contractions = false;
    spec.steps = {tekken};
    spec.ignore_merges = true;
  } else if (is_any({"dbrx", "smaug-bpe", "chatglm-bpe"})) {
    spec.steps = {SplitStep{P::llama3, 3}};
  } else if (is_any({"qwen2", "deepseek-r1-qwen"})) {
    spec.steps = {SplitStep{P::llama3, 1}};
    spec.nfc = true;
  } else if (is_any({"stablelm2", "hunyuan"})) {
    spec.steps = {SplitStep{P::llama3, 1}};
  } else if (pre == "deepseek-llm") {
    spec.steps = {step(P::newline_one), step(P::dsllm_letter_run), step(P::dsllm_punct_run),
                  step(P::ws_end),      step(P::cjk_run),          step(P::number_run)};
  } else if (pre == "deepseek-coder") {
    spec.steps = {step(P::newline_one), step(P::ws_letter_run), step(P::ws_punct_run),
                  step(P::cjk_run), step(P::number_one)};
  } else if (pre == "falcon") {
    SplitStep punct{P::punct_run};
    punct.with_backtick = true;
    spec.steps = {punct, step(P::gpt2), step(P::ascii_digits3)};
  } else if (is_any({"starcoder", "refact", "command-r", "smollm", "codeshell", "exaone",
                     "minerva-7b"})) {
    spec.steps = {step(P::number_one), step(P::gpt2)};
  } else if (is_any({"gpt-2", "gpt2", "phi-2", "mpt", "olmo", "jais", "trillion", "roberta-bpe",
                     "jina-es", "jina-de", "jina-v1-en", "jina-v2-es", "jina-v2-de", "jina-v2-code",
                     "gigachat"})) {
    spec.steps = {step(P::gpt2)};
  } else {
    return Error(
        ErrorCode::unsupported_tokenizer,
        "unsupported pre-tokenizer '" + std::string(pre.substr(0, 64)) + "' (tokenizer.ggml.pre)");
  }
  return spec;
}

void PreTokenizeScratch::trim() {
  constexpr size_t kKeep = size_t{4} << 20;  // elements
  if (pieces.capacity() > kKeep) decltype(pieces)().swap(pieces);
  if (cps.capacity() > kKeep) decltype(cps)().swap(cps);
  if (cur.capacity() > kKeep) decltype(cur)().swap(cur);
  if (next.capacity() > kKeep) decltype(next)().swap(next);
}

void pre_tokenize(const PreTokenizerSpec& spec, std::string_view text, PreTokenizeScratch* s) {
  std::vector<Piece>* out = &s->pieces;
  std::vector<Cpt>* cps = &s->cps;
  auto& cur = s->cur;
  auto& next = s->next;
  out->clear();
  utf8_decode(text, cps);
  const size_t n = cps->size();
  if (n == 0) return;
  cur.assign(1, {0, n});
  for (const SplitStep& st : spec.steps) {
    next.clear();
    for (auto [b, e] : cur) {
      View v{cps->data(), e};
      size_t pos = b, gap = b;
      while (pos < e) {
        long m = match_step(st, v, pos);
        if (m > 0) {
          if (gap < pos) next.emplace_back(gap, pos);
          next.emplace_back(pos, pos + static_cast<size_t>(m));
          pos += static_cast<size_t>(m);
          gap = pos;
        } else {
          pos += static_cast<size_t>(-m);
        }
      }
      if (gap < e) next.emplace_back(gap, e);
    }
    cur.swap(next);
  }
  out->reserve(cur.size());
  for (auto [b, e] : cur) {
    uint32_t off = (*cps)[b].offset;
    uint32_t end = e < n ? (*cps)[e].offset : static_cast<uint32_t>(text.size());
    out->push_back({off, end - off});
  }
}

}  // namespace nibble::tok
