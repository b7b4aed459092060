// The grammar as a lazily built byte automaton.
//
// A matcher state is a set of parse stacks plus the bytes of a UTF-8 character read so far. A
// stack is a persistent list of element positions (top = the next element to match, always a
// `chars` element, or the empty stack = the text may end here); stacks and states are interned
// so a state is one int and the transition on a byte is cached in a 256-entry row. Walking a
// token trie then costs one table lookup per trie node once the rows are warm.
//
// Bounds (pathological grammars): a state holds at most kMaxStacks stacks and the expansions of
// one transition (or of the start) visit at most kMaxExpansion stacks in all; past them the
// transition is dead and error() says why. (A bound per expansion alone let one byte cost
// kMaxStacks x kMaxExpansion visits: seconds per byte on nested repetitions.)
// The caches are dropped (keeping the live state) when they pass kMaxStates / kMaxNodes.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "grammar/rules.h"

namespace nibble::grammar {

inline constexpr int32_t kDead = -1;
inline constexpr size_t kMaxStacks = 4096;
inline constexpr size_t kMaxExpansion = 65536;
inline constexpr size_t kMaxStates = 20000;
inline constexpr size_t kMaxNodes = 1u << 21;

class Machine {
 public:
  explicit Machine(std::shared_ptr<const Rules> rules);

  // The start state; kDead (and error()) when the grammar's first expansion is too large.
  int32_t initial();
  int32_t step(int32_t state, uint8_t byte) {
    const int32_t next = rows_[static_cast<size_t>(state) * 256 + byte];
    return next != kUnknown ? next : step_slow(state, byte);
  }
  bool accepting(int32_t s) const { return states_[s].accepting; }
  // Accepting and nothing can follow.
  bool complete(int32_t s) const { return states_[s].complete; }
  // Fewest bytes that bring state s to an accepting state.
  uint32_t distance(int32_t s) const { return dist_[s]; }
  // Whether every plain byte (VocabTrie::is_plain) leads from s back to s.
  bool loops_on_plain(int32_t s);
  const std::optional<std::string>& error() const { return error_; }
  // When the caches are large: drop everything but state `keep`; returns its new id.
  int32_t compact(int32_t keep);
  size_t n_states() const { return states_.size(); }
  // Changes whenever state ids are renumbered (compact()).
  uint32_t epoch() const { return epoch_; }

 private:
  static constexpr int32_t kUnknown = -2;
  struct Node {
    uint32_t pos;    // element index (top of this stack)
    int32_t parent;  // node below (0 = the empty stack)
    uint32_t dist;   // fewest bytes to empty this stack
  };
  struct State {
    std::vector<int32_t> stacks;  // sorted node ids
    uint32_t cp = 0;              // partial UTF-8: value so far
    uint8_t left = 0;             // continuation bytes still expected
    uint8_t len = 0;              // total length of that character
    bool accepting = false;
    bool complete = false;
  };

  int32_t step_slow(int32_t state, uint8_t byte);
  int32_t node(uint32_t pos, int32_t parent);
  // The stacks whose top is a chars element (or the empty stack) that `n` stands for.
  bool expand(int32_t n, std::vector<int32_t>* out);
  // Pop the top element of `n` (it was matched): the node for what follows.
  int32_t advance(int32_t n);
  int32_t intern(std::vector<int32_t> stacks, uint32_t cp, uint8_t left, uint8_t len);
  void reset_caches();

  std::shared_ptr<const Rules> rules_;
  std::vector<Node> nodes_;
  std::unordered_map<uint64_t, int32_t> node_ids_;
  std::unordered_map<int32_t, std::vector<int32_t>> expanded_;
  std::vector<State> states_;
  // Per state: 256 transitions (kUnknown until computed) and the distance, flat so that a
  // trie walk touches one array.
  std::vector<int32_t> rows_;
  std::vector<uint32_t> dist_;
  std::vector<int8_t> plain_loop_;  // loops_on_plain: -1 unknown
  std::unordered_map<std::string, int32_t> state_ids_;
  std::optional<std::string> error_;
  uint32_t epoch_ = 0;
  std::vector<int32_t> work_, seen_list_;
  size_t step_work_ = 0;  // stacks visited by the expansions of the current transition
  // Counts `more` stacks against the transition's bound; past it sets error_ and says so.
  bool over_step_work(size_t more);
};

}  // namespace nibble::grammar
