// Sampler chain over one logits row. Buffers are sized once (n_vocab) and reused: sampling a
// token allocates nothing. Deterministic: own PRNG (splitmix64), ties broken by token id.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "nibble/nibble.h"

namespace nibble::sampling {

// Which tokens may be drawn (a grammar). The sampler asks allows() for its best candidates
// first and fills the whole mask only when those do not give it enough, so a permissive
// filter costs a few checks per token and a strict one a mask (cheap when it is strict).
class TokenFilter {
 public:
  virtual ~TokenFilter() = default;
  virtual bool allows(Token token) = 0;
  // allowed[t] = 1 for each allowed token (n_vocab entries); how many. Errors end the call.
  virtual Result<size_t> fill(std::vector<uint8_t>* allowed) = 0;
};

class Sampler {
 public:
  Sampler(const SamplerConfig& config, int n_vocab);
  // Pick the next token from `logits` (n_vocab values) given the tokens so far.
  Token sample(std::span<const float> logits, std::span<const Token> history);
  // The same chain over the tokens `filter` allows (logit bias and penalties first, then the
  // filter, then top-k and the rest): -1 when it allows none.
  Result<Token> sample(std::span<const float> logits, std::span<const Token> history,
                       TokenFilter& filter);
  void reseed(uint64_t seed) { state_ = seed; }
  const SamplerConfig& config() const { return cfg_; }

  struct Cand {
    Token id;
    float logit;
    float p;
  };

  // The distribution sample() draws from, after the whole chain: candidates whose p sum to 1
  // (greedy: the argmax alone with p 1). Valid until the next call on this sampler; draws
  // nothing from the generator. Speculative decoding verifies drafts against it.
  std::span<const Cand> distribution(std::span<const float> logits, std::span<const Token> history);
  // The same over the tokens `filter` allows: empty when it allows none.
  Result<std::span<const Cand>> distribution(std::span<const float> logits,
                                             std::span<const Token> history, TokenFilter& filter);
  // One draw from a distribution (p summing to about 1) with this sampler's generator.
  Token draw_from(std::span<const Cand> dist);
  double uniform();  // [0, 1) from the generator

 private:
  int prepare(std::span<const float> logits, std::span<const Token> history);
  // top-k (unless already applied), temperature, top-p, min-p and the draw over cand_[0, size).
  Token draw(int size, bool top_k_done);
  // The chain of draw() without the draw: how many candidates are kept at the front of cand_
  // (p: softmax over the top-k set, not renormalised), or -1 when every logit is banned
  // (cand_[0] is then the deterministic fallback).
  int keep(int size, bool top_k_done);
  // cand_[0, size) of keep() as a normalised distribution (greedy / fallback: cand_[0]).
  std::span<const Cand> normalised(int size);
  // The filtered candidates at the front of cand_ (descending when `sorted`); their count.
  Result<int> filter_candidates(int n, TokenFilter& filter, bool* sorted);
  SamplerConfig cfg_;
  int n_vocab_;
  uint64_t state_;
  std::vector<Cand> cand_;
  std::vector<uint16_t> counts_;  // occurrences within the penalty window
  std::vector<uint8_t> allowed_;  // TokenFilter::fill
  std::vector<Cand> picked_;      // the filter's cheap path
};

// Validates a config: invalid_argument naming the field.
Status validate(const SamplerConfig& config, int n_vocab);

}  // namespace nibble::sampling
