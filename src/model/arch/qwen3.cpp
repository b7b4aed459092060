// Qwen3: Llama's layout with per-head RMSNorm of q and k (attn_q_norm / attn_k_norm) and NeoX
// RoPE pairs.
#include "model/arch.h"

namespace nibble::model {

extern const ArchDescriptor kArch_qwen3;
const ArchDescriptor kArch_qwen3{.name = "qwen3", .qk_norm = Need::required, .rope_neox = true};

}  // namespace nibble::model
