// Dotprod (Armv8.2 SDOT) instantiation of the attention block kernel
// (kernels/simd/attn_impl.h): the neon table's hooks with the q8_0 K dot products as sdot
// (decision 61); the same bits.
#include "kernels/arm/attn_hooks.h"
#include "kernels/simd/attn_impl.h"

namespace nibble::kernels::dotprod {

extern const AttnOps kAttnOps =
    simd::make_attn_ops<arm::AttnNeonHooks<true>>(Isa::dotprod, "dotprod");

}  // namespace nibble::kernels::dotprod
