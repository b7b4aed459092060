// The two merge algorithms.
//
// SPM ("llama"): spaces become "▁" (and one "▁" is prefixed when add_space_prefix says so),
// the text is split into characters, and adjacent pairs whose concatenation is a token are
// merged highest score first (ties: leftmost). Characters left that are not tokens come out
// as their bytes' <0xNN> tokens (byte fallback).
//
// BPE ("gpt2"): the pre-tokenizer splits the text into pieces; every byte of a piece starts as
// the token of its GPT-2 mapped character, and adjacent pairs are merged by merge rank (lowest
// first; ties: leftmost), as Hugging Face's BPE does.
//
// Both use a priority queue over a linked list of symbols, so a piece of n characters costs
// O(n log n) whatever the input (long runs of one letter included).
#include <memory>
#include <mutex>
#include <queue>
#include <unordered_map>

#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/unicode.h"

namespace nibble::tok {
namespace {

constexpr std::string_view kSpmSpace = "\xE2\x96\x81";  // "▁"

struct Symbol {
  int32_t prev, next;
  uint32_t off, len;  // SPM: byte range in the escaped text
  Token id;           // BPE: current token (-1: a byte without a token)
};

// Pre-tokenizer scratch shared by every tokenizer of the process: a call takes one (or makes
// one) and gives it back, so concurrent encodes never share one and a thread's next call
// usually reuses warm buffers. At most kPoolMax are kept.
class ScratchPool {
 public:
  std::unique_ptr<PreTokenizeScratch> take() {
    std::lock_guard lock(mu_);
    if (free_.empty()) return std::make_unique<PreTokenizeScratch>();
    auto s = std::move(free_.back());
    free_.pop_back();
    return s;
  }
  void give(std::unique_ptr<PreTokenizeScratch> s) {
    s->trim();
    std::lock_guard lock(mu_);
    if (free_.size() < kPoolMax) free_.push_back(std::move(s));
  }

 private:
  static constexpr size_t kPoolMax = 16;
  std::mutex mu_;
  std::vector<std::unique_ptr<PreTokenizeScratch>> free_;
};

ScratchPool& scratch_pool() {
  static ScratchPool pool;
  return pool;
}

}  // namespace

void VocabTokenizer::encode_spm(std::string_view raw, bool prefix_space,
                                std::vector<Token>* out) const {
  std::string s;
  s.reserve(raw.size() + raw.size() / 4 + 3);
  if (prefix_space) s += kSpmSpace;
  for (char c : raw) {
    if (c == ' ')
      s += kSpmSpace;
    else
      s.push_back(c);
  }
  if (!spm_word_split_) {
    spm_merge(s, out);
    return;
  }
  // No token spans a "▁" that follows another character (checked at load, see
  // spm_word_split_), so the text splits there into pieces that merge independently: the
  // result is the same and the merge queue stays small.
  // Long texts repeat their words: merge each distinct short word once.
  const std::string_view all(s);
  std::unordered_map<std::string_view, std::pair<size_t, size_t>> seen;
  const bool cache = all.size() >= 4096;
  auto word = [&](std::string_view w) {
    if (!cache || w.size() > 32) return spm_merge(w, out);
    auto [it, fresh] = seen.try_emplace(w, out->size(), 0);
    if (!fresh) {
      for (size_t k = 0; k < it->second.second; ++k) out->push_back((*out)[it->second.first + k]);
      return;
    }
    spm_merge(w, out);
    it->second.second = out->size() - it->second.first;
  };
  size_t begin = 0;
  for (size_t p = all.find(kSpmSpace, 1); p != std::string_view::npos;
       p = all.find(kSpmSpace, p + 3)) {
    if (p >= 3 && all.compare(p - 3, 3, kSpmSpace) == 0) continue;  // inside a run of "▁"
    word(all.substr(begin, p - begin));
    begin = p;
  }
  word(all.substr(begin));
}

void VocabTokenizer::spm_merge(std::string_view s, std::vector<Token>* out) const {
  if (s.empty()) return;
  std::vector<Symbol> sym;
  sym.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    uint32_t cp;
    size_t len = utf8_next(s, i, &cp);
    int32_t k = static_cast<int32_t>(sym.size());
    sym.push_back({k - 1, k + 1, static_cast<uint32_t>(i), static_cast<uint32_t>(len), -1});
    i += len;
  }
  sym.back().next = -1;

  struct Bigram {
    float score;
    int32_t left, right;
    uint32_t size;
  };
  auto worse = [](const Bigram& a, const Bigram& b) {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  };
  std::priority_queue<Bigram, std::vector<Bigram>, decltype(worse)> queue(worse);
  auto try_add = [&](int32_t l, int32_t r) {
    if (l < 0 || r < 0) return;
    std::string_view cat(s.data() + sym[l].off, sym[l].len + sym[r].len);
    Token id = find_text(cat);
    if (id < 0) return;
    queue.push({scores_[id], l, r, static_cast<uint32_t>(cat.size())});
  };
  for (int32_t i = 1; i < static_cast<int32_t>(sym.size()); ++i) try_add(i - 1, i);
  while (!queue.empty()) {
    Bigram b = queue.top();
    queue.pop();
    Symbol& l = sym[b.left];
    Symbol& r = sym[b.right];
    if (l.len == 0 || r.len == 0 || l.len + r.len != b.size) continue;  // stale
    l.len += r.len;
    r.len = 0;
    l.next = r.next;
    if (r.next >= 0) sym[r.next].prev = b.left;
    try_add(l.prev, b.left);
    try_add(b.left, l.next);
  }
  for (int32_t i = 0; i >= 0; i = sym[i].next) {
    std::string_view piece(s.data() + sym[i].off, sym[i].len);
    Token id = find_text(piece);
    if (id >= 0) {
      out->push_back(id);
    } else {
      for (char c : piece) push_byte(static_cast<uint8_t>(c), out);
    }
  }
}

void VocabTokenizer::encode_bpe(std::string_view raw, std::vector<Token>* out) const {
  std::string normalized;
  if (pre_.nfc && !nfc_quick_check(raw)) {
    normalized = nfc(raw);
    raw = normalized;
  }
  std::unique_ptr<PreTokenizeScratch> scratch = scratch_pool().take();
  pre_tokenize(pre_, raw, scratch.get());
  const std::vector<Piece>& pieces = scratch->pieces;
  if (raw.size() < 4096) {
    for (const Piece& p : pieces) bpe_word(raw.substr(p.offset, p.length), out);
  } else {
    // Long texts repeat their words: merge each distinct short piece once.
    std::unordered_map<std::string_view, std::pair<size_t, size_t>> seen;
    seen.reserve(pieces.size() / 4 + 16);
    for (const Piece& p : pieces) {
      std::string_view w = raw.substr(p.offset, p.length);
      if (w.size() > 32) {
        bpe_word(w, out);
        continue;
      }
      auto [it, fresh] = seen.try_emplace(w, out->size(), 0);
      if (!fresh) {
        for (size_t k = 0; k < it->second.second; ++k) out->push_back((*out)[it->second.first + k]);
        continue;
      }
      bpe_word(w, out);
      it->second.second = out->size() - it->second.first;
    }
  }
  scratch_pool().give(std::move(scratch));
}

void VocabTokenizer::bpe_word(std::string_view word, std::vector<Token>* out) const {
  if (word.empty()) return;
  if (word.size() == 1) {
    if (Token id = byte_tok_[static_cast<uint8_t>(word[0])]; id >= 0) out->push_back(id);
    return;
  }
  if (pre_.ignore_merges) {
    std::string mapped;
    mapped.reserve(word.size() * 2);
    for (char c : word) utf8_append(&mapped, byte_to_cp(static_cast<uint8_t>(c)));
    Token id = find_text(mapped);
    if (id >= 0 && static_cast<TokenType>(types_[id]) != TokenType::user_defined) {
      out->push_back(id);
      return;
    }
  }
  std::vector<Symbol> sym(word.size());
  for (size_t i = 0; i < word.size(); ++i) {
    int32_t k = static_cast<int32_t>(i);
    sym[i] = {k - 1, k + 1, 0, 1, byte_tok_[static_cast<uint8_t>(word[i])]};
  }
  sym.back().next = -1;
  struct Bigram {
    int32_t rank;
    int32_t left, right;
    Token lid, rid, merged;
  };
  auto worse = [](const Bigram& a, const Bigram& b) {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  };
  std::priority_queue<Bigram, std::vector<Bigram>, decltype(worse)> queue(worse);
  auto try_add = [&](int32_t l, int32_t r) {
    if (l < 0 || r < 0 || sym[l].id < 0 || sym[r].id < 0) return;
    const PairIndex::Value* m =
        merges_.get((uint64_t(uint32_t(sym[l].id)) << 32) | uint32_t(sym[r].id));
    if (!m) return;
    queue.push({m->rank, l, r, sym[l].id, sym[r].id, m->merged});
  };
  for (int32_t i = 1; i < static_cast<int32_t>(sym.size()); ++i) try_add(i - 1, i);
  while (!queue.empty()) {
    Bigram b = queue.top();
    queue.pop();
    Symbol& l = sym[b.left];
    Symbol& r = sym[b.right];
    if (l.len == 0 || r.len == 0 || l.next != b.right || l.id != b.lid || r.id != b.rid)
      continue;  // stale
    l.id = b.merged;
    l.len += r.len;
    r.len = 0;
    l.next = r.next;
    if (r.next >= 0) sym[r.next].prev = b.left;
    try_add(l.prev, b.left);
    try_add(b.left, l.next);
  }
  // A byte without a token (vocabularies built from valid UTF-8 often lack C0, C1, F5..FF) is
  // dropped: these files' "unknown" id is usually <|endoftext|>, which must not appear mid-text.
  for (int32_t i = 0; i >= 0; i = sym[i].next)
    if (sym[i].id >= 0) out->push_back(sym[i].id);
}

}  // namespace nibble::tok
