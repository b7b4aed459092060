// Llama (1, 2, 3.x; also TinyLlama, Mistral v0.1, SmolLM): pre-norm RMSNorm, SwiGLU, RoPE on
// adjacent pairs; optional q/k/v and output biases and Llama 3 rope_freqs factors.
#include "model/arch.h"

namespace nibble::model {

extern const ArchDescriptor kArch_llama;
const ArchDescriptor kArch_llama{.name = "llama"};

}  // namespace nibble::model
