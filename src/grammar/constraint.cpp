#include "grammar/constraint.h"

#include <algorithm>

namespace nibble::grammar {

Constraint::Constraint(std::shared_ptr<const Rules> rules, std::shared_ptr<const VocabTrie> vocab)
    : machine_(std::move(rules)), vocab_(std::move(vocab)) {
  at_depth_.resize(static_cast<size_t>(vocab_->max_depth) + 1);
}

Status Constraint::status() const {
  if (machine_.error()) return Error(ErrorCode::invalid_argument, *machine_.error());
  if (state_ == kDead) return Error(ErrorCode::internal, "grammar: no state");
  return ok_status();
}

Status Constraint::reset(bool fresh_text) {
  state_ = machine_.initial();
  strip_next_ = fresh_text && vocab_->strip_first_space;
  return status();
}

int32_t Constraint::run(int32_t token) {
  std::string_view p = vocab_->piece(token);
  if (strip_next_ && !p.empty() && p[0] == ' ') p.remove_prefix(1);
  if (p.empty()) return kDead;  // a token that adds nothing is never useful under a grammar
  int32_t s = state_;
  for (char c : p) {
    s = machine_.step(s, static_cast<uint8_t>(c));
    if (s == kDead) break;
  }
  return s;
}

uint32_t Constraint::limit(int remaining) const {
  if (remaining < 1) return UINT32_MAX;
  return std::max<uint32_t>(static_cast<uint32_t>(remaining), machine_.distance(state_)) - 1;
}

bool Constraint::allows(int32_t token, int remaining) {
  if (token < 0 || token >= vocab_->n_vocab || state_ == kDead) return false;
  if (vocab_->is_eog[token]) return accepting();
  if (!vocab_->usable[token]) return false;
  const int32_t s = run(token);
  return s != kDead && machine_.distance(s) <= limit(remaining);
}

size_t Constraint::walk(std::vector<uint8_t>* allowed, uint32_t lim, uint32_t* max_dist) {
  const VocabTrie& v = *vocab_;
  uint8_t* out = allowed->data();
  const uint32_t n = static_cast<uint32_t>(v.byte.size());
  at_depth_[0] = state_;
  size_t count = 0;
  uint32_t most = 0;
  for (uint32_t i = 0; i < n;) {
    const int d = v.depth[i];
    int32_t s;
    if (d == 1 && strip_next_ && v.byte[i] == ' ') {
      s = state_;  // the dropped leading space; the token " " alone adds nothing
      at_depth_[1] = s;
      ++i;
      continue;
    }
    const int32_t parent = at_depth_[d - 1];
    if (v.plain_subtree[i] && machine_.loops_on_plain(parent)) {
      // Every token below ends in `parent` itself: all allowed or none, no walk needed.
      const uint32_t end = v.skip[i];
      if (machine_.distance(parent) <= lim && v.tok_begin[i] != v.tok_begin[end]) {
        for (uint32_t k = v.tok_begin[i]; k < v.tok_begin[end]; ++k) out[v.toks[k]] = 1;
        count += v.tok_begin[end] - v.tok_begin[i];
        most = std::max(most, machine_.distance(parent));
      }
      i = end;
      continue;
    }
    s = machine_.step(parent, v.byte[i]);
    if (s == kDead) {
      i = v.skip[i];
      continue;
    }
    at_depth_[d] = s;
    if (v.tok_begin[i] != v.tok_begin[i + 1] && machine_.distance(s) <= lim) {
      for (uint32_t k = v.tok_begin[i]; k < v.tok_begin[i + 1]; ++k) out[v.toks[k]] = 1;
      count += v.tok_begin[i + 1] - v.tok_begin[i];
      most = std::max(most, machine_.distance(s));
    }
    ++i;
  }
  *max_dist = most;
  return count;
}

Result<size_t> Constraint::fill_mask(std::vector<uint8_t>* allowed, int remaining) {
  NIBBLE_TRY(status());
  const uint32_t lim = limit(remaining);
  for (const CachedMask& c : cache_) {
    if (c.state == state_ && c.epoch == machine_.epoch() && c.strip == strip_next_ &&
        c.max_dist <= lim) {
      *allowed = c.mask;
      return c.count;
    }
  }
  allowed->assign(static_cast<size_t>(vocab_->n_vocab), 0);
  uint32_t most = 0;
  size_t count = walk(allowed, UINT32_MAX, &most);
  if (accepting())
    for (int32_t e : vocab_->eog) (*allowed)[e] = 1, ++count;
  NIBBLE_TRY(status());
  if (most <= lim) {  // the budget removes nothing: keep it for this state
    CachedMask& c = cache_[cache_next_];
    cache_next_ ^= 1;
    c = CachedMask{state_, machine_.epoch(), strip_next_, most, count, *allowed};
    return count;
  }
  // The budget bites: only what still fits. No token fits when the vocabulary lacks a single
  // byte a shortest completion needs: then the grammar alone decides.
  std::vector<uint8_t> limited(allowed->size(), 0);
  size_t fitting = walk(&limited, lim, &most);
  if (fitting == 0) return count;
  if (accepting())
    for (int32_t e : vocab_->eog) limited[e] = 1, ++fitting;
  *allowed = std::move(limited);
  NIBBLE_TRY(status());
  return fitting;
}

Status Constraint::accept(int32_t token) {
  NIBBLE_TRY(status());
  if (token < 0 || token >= vocab_->n_vocab)
    return Error(ErrorCode::invalid_argument, "grammar: token " + std::to_string(token) +
                                                  " outside the vocabulary");
  if (vocab_->is_eog[token]) {
    if (!accepting())
      return Error(ErrorCode::invalid_argument,
                   "grammar: end of generation where the grammar cannot end");
    return ok_status();
  }
  const int32_t s = vocab_->usable[token] ? run(token) : kDead;
  if (s == kDead) {
    NIBBLE_TRY(status());
    return Error(ErrorCode::invalid_argument,
                 "grammar: token " + std::to_string(token) + " is not allowed here");
  }
  state_ = machine_.compact(s);
  strip_next_ = false;
  return ok_status();
}

}  // namespace nibble::grammar
