// Typed hyper-parameters of a transformer, read from a GGUF file's `<arch>.*` keys. Nothing
// here is assumed per model: every value comes from the file (or the documented default of the
// architecture when the key is optional).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "model/arch.h"
#include "nibble/result.h"

namespace nibble::model {

// How positions are scaled in RoPE (`<arch>.rope.scaling.type`). LongRoPE is not a type key in
// the files nibble reads: it is the presence of `rope_factors_short` / `rope_factors_long`
// (Phi-3 128k, Phi-3.5); the loader sets it. See model/rope.h for how each is applied.
enum class RopeScaling { none, linear, yarn, longrope };

struct Config {
  const ArchDescriptor* arch = nullptr;  // never null in a Config read_config returned
  std::string arch_name;                  // general.architecture
  int64_t n_vocab = 0;
  int64_t n_ctx_train = 0;
  int64_t n_embd = 0;
  int64_t n_layer = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t head_dim = 0;  // key/value length per head
  int64_t n_ff = 0;
  int64_t n_rot = 0;  // rotated dims per head
  float rope_base = 10000.0f;
  float rope_base_local = 10000.0f;    // gemma3 sliding-window layers
  float rope_freq_scale = 1.0f;        // 1 / rope.scaling.factor (linear and YaRN)
  float rope_freq_scale_local = 1.0f;  // the same for sliding-window layers (gemma3: none)
  RopeScaling rope_scaling = RopeScaling::none;
  int64_t rope_ctx_orig = 0;  // rope.scaling.original_context_length (else n_ctx_train)
  // Attention (magnitude) factor multiplying the rotated part of q and k: rope.scaling.attn_factor
  // when the key is present; else YaRN's 0.1 ln(factor) + 1, LongRoPE's
  // sqrt(1 + ln(n_ctx_train / rope_ctx_orig) / ln(rope_ctx_orig)), 1 otherwise (see rope.h).
  float rope_attn_factor = 1.0f;
  bool rope_attn_factor_key = false;  // rope_attn_factor came from the key
  float yarn_beta_fast = 32.0f;       // rope.scaling.yarn_beta_fast (ramp end, rotations)
  float yarn_beta_slow = 1.0f;        // rope.scaling.yarn_beta_slow (ramp start, rotations)
  bool rope_neox = false;             // pairs (i, i + n_rot/2) instead of (2i, 2i+1)
  float norm_eps = 1e-5f;
  float attn_softcap = 0.0f;   // gemma2: attention logit soft-capping (0 = none)
  float final_softcap = 0.0f;  // gemma2: output logit soft-capping
  float query_scale = 0.0f;    // attention scores scale (1/sqrt(head_dim) by default)
  float embd_scale = 1.0f;     // gemma: sqrt(n_embd)
  bool gelu = false;           // GELU(tanh) instead of SiLU in the gated FFN
  int64_t sliding_window = 0;  // 0 = none
  // per layer: true when the layer uses the sliding window (local attention)
  std::vector<uint8_t> swa_layer;
};

// Reads and validates the config: every key of the wrong type is refused as type_mismatch,
// every dimension positive and consistent, every float key inside its range (arch.h); errors
// name the key and the offending value.
Result<Config> read_config(const gguf::File& file);

}  // namespace nibble::model
