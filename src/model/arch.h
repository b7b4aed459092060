// Architecture descriptors: everything nibble knows about one architecture in one constant
// (src/model/arch/<name>.cpp): which tensors a layer has, which norms and biases exist, how
// RoPE pairs dimensions, the activation, attention options and the architecture's
// hyper-parameter keys with their defaults and valid ranges. read_config (config.cpp), the
// loader's tensor binding (loader.cpp) and the plan builder (graph/context.cpp) read it; none
// of them compares architecture names. Adding an architecture is one file in arch/ plus its
// line in arch/list.inc.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace nibble::model {

struct Config;

// Whether an optional tensor family exists in an architecture.
enum class Need : uint8_t {
  absent,    // not part of the architecture: a file that has it is refused (it would be ignored)
  optional,  // used when the file has it
  required,  // missing_tensor when absent
};

// Which layers attend through the sliding window (`<arch>.attention.sliding_window`).
enum class SwaPattern : uint8_t {
  none,                  // no layer (the key, if any, is ignored)
  all_layers,            // every layer when the key is present and > 0 (phi3)
  even_layers,           // layers 0, 2, 4, ... (gemma2)
  five_local_one_global  // layers whose (index + 1) % 6 != 0 (gemma3)
};

// A float hyper-parameter key `<arch>.<suffix>` with its default (used when the key is
// absent) and its valid range; a value outside it is refused naming key, value and range.
struct RealKey {
  std::string_view suffix;  // e.g. "attn_logit_softcapping"
  float fallback;
  float lo, hi;  // valid range
  bool lo_open;  // (lo, hi] instead of [lo, hi]
  float Config::*field;
};

struct ArchDescriptor {
  std::string_view name;  // general.architecture

  // ---- tensors of layer N (GGUF names as llama.cpp writes them: blk.N.<name>) ----
  bool fused_qkv = false;          // attn_qkv.weight [Q + 2 KV rows] instead of attn_q/k/v.weight
  bool fused_gate_up = false;      // ffn_up.weight [2 n_ff rows: gate, then up]; no ffn_gate.weight
  Need qkv_bias = Need::optional;  // attn_q/k/v.bias
  Need out_bias = Need::optional;  // attn_output.bias
  Need qk_norm = Need::optional;   // attn_q_norm / attn_k_norm.weight [head_dim]
  Need post_norms = Need::optional;  // post_attention_norm / post_ffw_norm.weight [n_embd]
  Need sub_norms = Need::absent;     // attn_sub_norm [Q] / ffn_sub_norm [n_ff] (BitNet)

  // ---- computation ----
  bool rope_neox = false;   // RoPE pairs (i, i + n_rot/2) instead of (2i, 2i+1)
  bool gelu = false;        // GELU(tanh) gate activation instead of SiLU
  bool embd_scale = false;  // embeddings multiplied by sqrt(n_embd)
  float norm_eps = 1e-5f;   // default of attention.layer_norm_rms_epsilon
  SwaPattern swa = SwaPattern::none;
  int64_t sliding_window = 0;  // default of attention.sliding_window (0: key needed)
  // Sliding-window layers rotate with base 10000 and no scaling (gemma3) instead of the
  // global layers' RoPE.
  bool local_rope_plain = false;
  // query_pre_attn_scalar: the attention scale is 1/sqrt(n_embd / n_head) instead of
  // 1/sqrt(head_dim) for the model with this many layers (gemma 27B), as the reference
  // implementations choose by size; 0 = never.
  int64_t query_scale_embd_layers = 0;
  std::span<const RealKey> reals = {};  // architecture-specific float keys (soft-capping)
};

// The descriptor of `general.architecture` = name; nullptr when nibble has none.
const ArchDescriptor* find_architecture(std::string_view name);
// Every supported architecture (docs, error messages, tests).
std::span<const ArchDescriptor* const> architectures();

}  // namespace nibble::model
