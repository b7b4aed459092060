// NEON (arm64 baseline) instantiation of the attention block kernel
// (kernels/simd/attn_impl.h): 4 lanes; hooks (kernels/arm/attn_hooks.h) are fcvtl / fcvtn for
// f16, the exact int8 -> f32 widening of q8_0 values (sxtl, sxtl, scvtf) and the q8_0 K dot
// products (smull, addp, sadalp).
#include "kernels/arm/attn_hooks.h"
#include "kernels/simd/attn_impl.h"

namespace nibble::kernels::neon {

extern const AttnOps kAttnOps = simd::make_attn_ops<arm::AttnNeonHooks<false>>(Isa::neon, "neon");

}  // namespace nibble::kernels::neon
