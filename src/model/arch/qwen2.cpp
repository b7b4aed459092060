// Qwen2 / Qwen2.5: Llama's layout with required q/k/v biases and NeoX RoPE pairs.
#include "model/arch.h"

namespace nibble::model {

extern const ArchDescriptor kArch_qwen2;
const ArchDescriptor kArch_qwen2{.name = "qwen2", .qkv_bias = Need::required, .rope_neox = true};

}  // namespace nibble::model
