// Gemma 2: post-attention and post-FFN norms, GELU(tanh), embeddings scaled by sqrt(n_embd),
// attention and final logit soft-capping, sliding window on even layers.
#include "model/arch.h"
#include "model/config.h"

namespace nibble::model {
namespace {
// Soft-capping divides by the cap: zero, negative or non-finite values are refused.
constexpr RealKey kGemma2Reals[] = {
    {"attn_logit_softcapping", 50.0f, 0.0f, 1e6f, true, &Config::attn_softcap},
    {"final_logit_softcapping", 30.0f, 0.0f, 1e6f, true, &Config::final_softcap},
};
}  // namespace

extern const ArchDescriptor kArch_gemma2;
const ArchDescriptor kArch_gemma2{.name = "gemma2",
                                  .post_norms = Need::required,
                                  .rope_neox = true,
                                  .gelu = true,
                                  .embd_scale = true,
                                  .norm_eps = 1e-6f,
                                  .swa = SwaPattern::even_layers,
                                  .sliding_window = 4096,
                                  .query_scale_embd_layers = 46,
                                  .reals = kGemma2Reals};

}  // namespace nibble::model
