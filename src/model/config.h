// Typed hyper-parameters of a transformer, read from a GGUF file's `<arch>.*` keys. Nothing
// here is assumed per model: every value comes from the file (or the documented default of the
// architecture when the key is optional).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "nibble/result.h"

namespace nibble::model {

enum class Arch { llama, qwen2, qwen3, gemma2, gemma3, phi3, bitnet };

struct Config {
  Arch arch = Arch::llama;
  std::string arch_name;  // general.architecture
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
  float rope_freq_scale = 1.0f;        // 1 / rope.scaling.factor for linear scaling
  float rope_freq_scale_local = 1.0f;  // the same for sliding-window layers (gemma3: none)
  bool rope_neox = false;              // pairs (i, i + n_rot/2) instead of (2i, 2i+1)
  float norm_eps = 1e-5f;
  bool layer_norm = false;     // LayerNorm instead of RMSNorm (unused by current archs)
  float attn_softcap = 0.0f;   // gemma2: attention logit soft-capping (0 = none)
  float final_softcap = 0.0f;  // gemma2: output logit soft-capping
  float query_scale = 0.0f;    // attention scores scale (1/sqrt(head_dim) by default)
  float embd_scale = 1.0f;     // gemma: sqrt(n_embd)
  bool gelu = false;           // GELU(tanh) instead of SiLU in the gated FFN
  int64_t sliding_window = 0;  // 0 = none
  // per layer: true when the layer uses the sliding window (local attention)
  std::vector<uint8_t> swa_layer;
};

std::string_view arch_name(Arch a);

// Reads and validates the config (every dimension positive and consistent).
Result<Config> read_config(const gguf::File& file);

}  // namespace nibble::model
