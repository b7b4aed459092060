// Phi-3 / Phi-3.5: fused qkv and gate/up matrices, NeoX RoPE pairs, sliding window on every
// layer when the file states one; LongRoPE through rope_factors_short/long (loader).
#include "model/arch.h"

namespace nibble::model {

extern const ArchDescriptor kArch_phi3;
const ArchDescriptor kArch_phi3{.name = "phi3",
                                .fused_qkv = true,
                                .fused_gate_up = true,
                                .rope_neox = true,
                                .swa = SwaPattern::all_layers};

}  // namespace nibble::model
