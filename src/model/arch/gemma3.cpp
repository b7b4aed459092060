// Gemma 3 (text): Gemma 2's norms and GELU plus q/k norms; five sliding-window layers (their own
// RoPE: base 10000, unscaled) then one global layer; no soft-capping.
#include "model/arch.h"

namespace nibble::model {

extern const ArchDescriptor kArch_gemma3;
const ArchDescriptor kArch_gemma3{.name = "gemma3",
                                  .qk_norm = Need::required,
                                  .post_norms = Need::required,
                                  .rope_neox = true,
                                  .gelu = true,
                                  .embd_scale = true,
                                  .norm_eps = 1e-6f,
                                  .swa = SwaPattern::five_local_one_global,
                                  .sliding_window = 512,
                                  .local_rope_plain = true,
                                  .query_scale_embd_layers = 62};

}  // namespace nibble::model
