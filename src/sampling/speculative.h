// The two pure halves of speculative decoding (the engine side is src/api/speculative.cpp):
// the acceptance rule that keeps the output distribution exactly the target's, and prompt
// lookup, the n-gram drafter that needs no second model.
#pragma once

#include <span>
#include <vector>

#include "sampling/sampler.h"

namespace nibble::sampling {

// The standard speculative acceptance rule (Leviathan et al. 2023, Chen et al. 2023). A draft
// token x was drawn from q; the target distribution here is p. x is accepted with probability
// min(1, p(x) / q(x)); otherwise the token comes from the residual max(0, p - q), normalised.
// The token that comes out is then distributed exactly as p. A draft drawn from a point mass
// (prompt lookup, or a greedy draft model) has q(x) = 1: accepted with probability p(x), and
// on rejection drawn from p without x. With a greedy target (p a point mass on the argmax) a
// draft is accepted exactly when it is the argmax, and the argmax replaces it otherwise.
class DraftVerifier {
 public:
  explicit DraftVerifier(int n_vocab) : q_(static_cast<size_t>(n_vocab), 0.0f) {}

  struct Verdict {
    Token token;    // x when accepted, else the residual's draw
    bool accepted;
  };
  // p: the target's distribution (Sampler::distribution, p summing to 1); q: the draft's
  // distribution, or empty for a point mass on x. Uniforms come from `rng`: one for the
  // acceptance test when p(x) < q(x), one more for the residual on rejection.
  Verdict verify(std::span<const Sampler::Cand> p, std::span<const Sampler::Cand> q, Token x,
                 Sampler& rng);

 private:
  std::vector<float> q_;  // dense q during a call, zero between calls
  std::vector<Sampler::Cand> residual_;
};

// Prompt lookup: the most recent earlier occurrence in `history` of its last n tokens, for n
// from max_ngram down to min_ngram; the tokens that followed it (at most max_tokens) are the
// draft. Empty when no suffix of those lengths occurred before.
std::vector<Token> lookup_draft(std::span<const Token> history, int max_ngram, int min_ngram,
                                int max_tokens);

}  // namespace nibble::sampling
