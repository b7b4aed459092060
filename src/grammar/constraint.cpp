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

size_t Constraint::walk(std::vector<uint8_t>* allowed, uint32_t lim) {
  const VocabTrie& v = *vocab_;
  uint8_t* out = allowed->data();
  const uint32_t n = static_cast<uint32_t>(v.byte.size());
  at_depth_[0] = state_;
  size_t count = 0;
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
      if (machine_.distance(parent) <= lim) {
        for (uint32_t k = v.tok_begin[i]; k < v.tok_begin[end]; ++k) out[v.toks[k]] = 1;
        count += v.tok_begin[end] - v.tok_begin[i];
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
    }
    ++i;
  }
  return count;
}

Result<size_t> Constraint::fill_mask(std::vector<uint8_t>* allowed, int remaining) {
  NIBBLE_TRY(status());
  allowed->assign(static_cast<size_t>(vocab_->n_vocab), 0);
  size_t count = walk(allowed, limit(remaining));
  // No token fits the budget (a vocabulary without the single byte a shortest completion
  // needs): fall back to the grammar alone.
  if (count == 0 && remaining >= 1) count = walk(allowed, UINT32_MAX);
  if (accepting())
    for (int32_t e : vocab_->eog) (*allowed)[e] = 1, ++count;
  NIBBLE_TRY(status());
  return count;
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
