#include "sampling/speculative.h"

#include <algorithm>

namespace nibble::sampling {

DraftVerifier::Verdict DraftVerifier::verify(std::span<const Sampler::Cand> p,
                                             std::span<const Sampler::Cand> q, Token x,
                                             Sampler& rng) {
  const bool point = q.empty();
  float px = 0.0f;
  for (const auto& c : p)
    if (c.id == x) px = c.p;
  float qx = point ? 1.0f : 0.0f;
  if (!point) {
    for (const auto& c : q)
      if (c.id == x) qx = c.p;
  }
  if (px > 0.0f && (px >= qx || rng.uniform() * qx < px)) return {x, true};
  // Rejected: draw from max(0, p - q), normalised. q is made dense for the lookup.
  if (point) {
    q_[static_cast<size_t>(x)] = 1.0f;
  } else {
    for (const auto& c : q) q_[static_cast<size_t>(c.id)] = c.p;
  }
  residual_.clear();
  for (const auto& c : p) {
    const float r = c.p - q_[static_cast<size_t>(c.id)];
    if (r > 0.0f) residual_.push_back({c.id, c.logit, r});
  }
  if (point) {
    q_[static_cast<size_t>(x)] = 0.0f;
  } else {
    for (const auto& c : q) q_[static_cast<size_t>(c.id)] = 0.0f;
  }
  // p == q up to rounding leaves no residual; p itself is then the exact answer.
  const Token t = residual_.empty() ? rng.draw_from(p) : rng.draw_from(residual_);
  return {t, false};
}

std::vector<Token> lookup_draft(std::span<const Token> history, int max_ngram, int min_ngram,
                                int max_tokens) {
  const int len = static_cast<int>(history.size());
  for (int n = std::min(max_ngram, len - 1); n >= std::max(min_ngram, 1); --n) {
    const auto suffix = history.subspan(static_cast<size_t>(len - n));
    // Most recent first; the occurrence must be followed by at least one token.
    for (int start = len - n - 1; start >= 0; --start) {
      if (!std::equal(suffix.begin(), suffix.end(), history.begin() + start)) continue;
      const int from = start + n;
      const int count = std::min(max_tokens, len - from);
      return std::vector<Token>(history.begin() + from, history.begin() + from + count);
    }
  }
  return {};
}

}  // namespace nibble::sampling
