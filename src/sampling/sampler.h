// Sampler chain over one logits row. Buffers are sized once (n_vocab) and reused: sampling a
// token allocates nothing. Deterministic: own PRNG (splitmix64), ties broken by token id.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "nibble/nibble.h"

namespace nibble::sampling {

class Sampler {
 public:
  Sampler(const SamplerConfig& config, int n_vocab);
  // Pick the next token from `logits` (n_vocab values) given the tokens so far.
  Token sample(std::span<const float> logits, std::span<const Token> history);
  void reseed(uint64_t seed) { state_ = seed; }
  const SamplerConfig& config() const { return cfg_; }

 private:
  double uniform();  // [0, 1)

  struct Cand {
    Token id;
    float logit;
    float p;
  };
  SamplerConfig cfg_;
  int n_vocab_;
  uint64_t state_;
  std::vector<Cand> cand_;
  std::vector<uint16_t> counts_;  // occurrences within the penalty window
};

// Validates a config: invalid_argument naming the field.
Status validate(const SamplerConfig& config, int n_vocab);

}  // namespace nibble::sampling
