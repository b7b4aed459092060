// A grammar applied to one generation: which tokens may come next (one token, or a mask over
// the vocabulary from a trie walk), following accepted tokens, and budget steering.
//
// Budget steering: distance(s) is the fewest bytes that complete the text from state s. With
// `remaining` tokens left (this one included), a token is allowed only if the state after it
// is at most max(remaining, distance(now)) - 1 bytes from the end. Every vocabulary nibble
// reads has a token for each single byte, so a shortest completion always fits: the text ends
// complete within the budget whenever distance(start) <= max_tokens, and otherwise every
// token at least moves it closer to its end.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "grammar/machine.h"
#include "grammar/rules.h"
#include "grammar/vocab_trie.h"
#include "nibble/result.h"

namespace nibble::grammar {

class Constraint {
 public:
  Constraint(std::shared_ptr<const Rules> rules, std::shared_ptr<const VocabTrie> vocab);

  // Back to the start; `fresh_text`: the next token is the first of a generation (the
  // SentencePiece leading-space rule applies to it).
  Status reset(bool fresh_text = true);
  // remaining < 1: no budget.
  bool allows(int32_t token, int remaining);
  // allowed[t] = 1 for every allowed token (n_vocab entries); returns how many.
  Result<size_t> fill_mask(std::vector<uint8_t>* allowed, int remaining);
  Status accept(int32_t token);
  bool accepting() const { return machine_.accepting(state_); }
  bool complete() const { return machine_.complete(state_); }
  uint32_t distance() const { return machine_.distance(state_); }
  // Set when the grammar exceeded a bound (Machine); generation must stop with it.
  Status status() const;
  const VocabTrie& vocab() const { return *vocab_; }
  size_t n_states() const { return machine_.n_states(); }  // automaton states met so far

 private:
  // The state after the token's bytes from state_ (kDead when it leaves the language).
  int32_t run(int32_t token);
  // Marks the allowed tokens whose state is at most `limit` bytes from the end; returns how
  // many, and the largest such distance in *max_dist.
  size_t walk(std::vector<uint8_t>* allowed, uint32_t limit, uint32_t* max_dist);
  uint32_t limit(int remaining) const;

  Machine machine_;
  std::shared_ptr<const VocabTrie> vocab_;
  int32_t state_ = kDead;
  bool strip_next_ = false;
  std::vector<int32_t> at_depth_;
  // The last masks computed without a budget limit, per state: a generation inside a JSON
  // string comes back to the same state token after token. Valid for a limit at or above
  // max_dist.
  struct CachedMask {
    int32_t state = kDead;
    uint32_t epoch = 0;
    bool strip = false;
    uint32_t max_dist = 0;
    size_t count = 0;
    std::vector<uint8_t> mask;
  };
  CachedMask cache_[2];
  int cache_next_ = 0;
};

}  // namespace nibble::grammar
