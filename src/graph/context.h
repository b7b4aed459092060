// The seam between the engine's two halves: a per-session inference context (KV cache,
// scratch, plan, threads) over a loaded model. The public API (src/api) drives generation
// through this interface only; src/model + src/graph implement it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "nibble/result.h"
#include "nibble/tokenizer.h"

namespace nibble::model {
struct LoadedModel;
}

namespace nibble::graph {

struct ContextOptions {
  int n_ctx = 0;         // context length in tokens; 0 = the model's trained length capped at 4096
  int n_threads = 0;     // 0 = physical cores
  int n_batch = 64;      // prefill chunk (tokens per forward pass)
  bool kv_q8_0 = false;  // KV cache in q8_0 instead of f16
};

struct MemoryReport {
  uint64_t weights_bytes = 0;  // mapped + repacked weight bytes
  uint64_t kv_bytes = 0;       // KV cache
  uint64_t scratch_bytes = 0;  // activations / logits / plan buffers
};

class InferenceContext {
 public:
  virtual ~InferenceContext() = default;

  // Evaluate `tokens` at positions [n_past(), n_past() + size); afterwards n_past() grows by
  // size. Logits are kept for the last token, or for every token when all_logits is true.
  // context_full (nothing evaluated) when n_past() + size > n_ctx(); cancelled when *cancel
  // becomes true between chunks or layers (the KV state then rolls back to before the call).
  virtual Status eval(std::span<const Token> tokens, bool all_logits,
                      const std::atomic<bool>* cancel = nullptr) = 0;
  // Logits (n_vocab floats) of the i-th token of the last eval (all_logits), or of its last
  // token when i < 0.
  virtual std::span<const float> logits(int i = -1) const = 0;
  virtual int n_past() const = 0;
  // Forget positions >= n (prompt-prefix reuse, context shift). n <= n_past().
  virtual void truncate(int n) = 0;
  // Drop positions [first, first + count) and shift later ones down (context shift; RoPE
  // re-applied to the cached keys). Optional: returns invalid_argument when unsupported.
  virtual Status shift(int first, int count) = 0;
  virtual int n_ctx() const = 0;
  virtual int n_vocab() const = 0;
  virtual MemoryReport memory() const = 0;

  // Session state (save/restore, src/api/state.cpp): the K and V rows of positions
  // [0, n_tokens) in the cache's own format (f16 or q8_0), layer by layer.
  virtual bool kv_q8_0() const = 0;
  virtual size_t kv_state_bytes(int n_tokens) const = 0;
  // Writes kv_state_bytes(n_past()) bytes.
  virtual void save_kv_state(uint8_t* dst) const = 0;
  // Replaces the cache with n_tokens positions from src (exactly kv_state_bytes(n_tokens)
  // bytes) and the last logits with `logits` (n_vocab floats, or empty for none).
  // invalid_argument when n_tokens > n_ctx() or a size does not match.
  virtual Status load_kv_state(int n_tokens, std::span<const uint8_t> src,
                               std::span<const float> logits) = 0;
};

// A fresh context (empty KV cache) over a loaded model. Several contexts may share one model
// and run concurrently on different threads. invalid_argument for bad options (n_ctx < 0 or
// above the trained length x 4, n_batch < 1, n_threads < 0); out_of_memory when the KV cache
// cannot be allocated.
Result<std::unique_ptr<InferenceContext>> create_context(
    std::shared_ptr<const model::LoadedModel> model, const ContextOptions& options);

}  // namespace nibble::graph
