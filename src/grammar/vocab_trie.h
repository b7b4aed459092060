// The vocabulary as a byte trie, laid out in depth-first order so that one forward loop visits
// it and a dead grammar state skips a whole subtree (every token sharing that prefix) at once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace nibble {
class Tokenizer;
}

namespace nibble::grammar {

struct VocabTrie {
  // pieces[t]: the bytes token t stands for. usable[t] == 0: never allowed under a grammar
  // (special/control tokens, empty pieces). eog: end-of-generation tokens (allowed where the
  // grammar can end). strip_first_space: the detokenizer drops the leading space of the
  // first generated piece (SentencePiece), so the grammar must not see it either.
  static std::shared_ptr<const VocabTrie> build(const std::vector<std::string>& pieces,
                                                const std::vector<uint8_t>& usable,
                                                std::vector<int32_t> eog, bool strip_first_space);

  // From a tokenizer: n_vocab = logits per row (ids past the tokenizer's are unusable);
  // special tokens unusable, end-of-generation tokens listed.
  static std::shared_ptr<const VocabTrie> from_tokenizer(const Tokenizer& tok, int32_t n_vocab,
                                                         bool strip_first_space);

  int32_t n_vocab = 0;
  // Nodes (the root is implicit): byte, depth (>= 1), index past the subtree, first token.
  std::vector<uint8_t> byte;
  std::vector<uint16_t> depth;
  std::vector<uint32_t> skip;
  std::vector<uint32_t> tok_begin;  // tokens of node i: toks[tok_begin[i], tok_begin[i + 1])
  // 1 when node i and everything below it are plain bytes (is_plain): a state that loops
  // on every plain byte (inside a JSON string) allows the whole subtree without a walk.
  std::vector<uint8_t> plain_subtree;
  std::vector<int32_t> toks;
  std::vector<uint32_t> piece_off;  // per token: bytes in pieces_bytes (n_vocab + 1 offsets)
  std::string piece_bytes;
  std::vector<uint8_t> usable;
  std::vector<uint8_t> is_eog;
  std::vector<int32_t> eog;
  bool strip_first_space = false;
  int max_depth = 0;

  // Printable ASCII except '"' and '\\'.
  static bool is_plain(uint8_t b) { return b >= 0x20 && b < 0x7F && b != '"' && b != '\\'; }

  std::string_view piece(int32_t t) const {
    return std::string_view(piece_bytes).substr(piece_off[t], piece_off[t + 1] - piece_off[t]);
  }
};

}  // namespace nibble::grammar
