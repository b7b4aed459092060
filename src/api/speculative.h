// Speculative decoding, engine side: the drafters behind SessionOptions::speculative. A
// drafter proposes the tokens that follow the committed history; the session evaluates the
// last committed token and the drafts in one forward pass and verifies them with
// sampling::DraftVerifier (src/api/session.cpp), rolling the KV cache back over rejections.
#pragma once

#include <atomic>
#include <memory>
#include <span>
#include <vector>

#include "graph/context.h"
#include "nibble/nibble.h"
#include "sampling/sampler.h"

namespace nibble {

struct Draft {
  std::vector<Token> tokens;
  // Per token the distribution it was drawn from; empty for a point mass (prompt lookup,
  // greedy drafting).
  std::vector<std::vector<sampling::Sampler::Cand>> q;
  void clear() {
    tokens.clear();
    q.clear();
  }
};

class Drafter {
 public:
  virtual ~Drafter() = default;
  // Draft at most max_tokens (>= 1) tokens continuing `history` (prompt and generated tokens,
  // the last one not yet evaluated by the target). cancelled when *cancel becomes true.
  virtual Status draft(std::span<const Token> history, int max_tokens, Draft* out,
                       const std::atomic<bool>* cancel) = 0;
  // A new generation begins (re-seed the draft's sampler).
  virtual void begin(uint64_t /*seed*/) {}
};

// Checks the options (invalid_argument naming the field, vocabulary mismatch of a draft
// model named by its first differing token) and builds the drafter; nullptr when off.
Result<std::unique_ptr<Drafter>> make_drafter(const SessionOptions& options, const Model::Impl& target,
                                              int n_ctx);

}  // namespace nibble
