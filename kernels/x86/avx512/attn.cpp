// AVX-512 (F/BW/DQ/VL) instantiation of the attention block kernel
// (kernels/simd/attn_impl.h): 16 lanes; hooks (kernels/x86/common/attn512_hooks.h) are the
// 512-bit F16C conversions, the exact int8 -> f32 widening of q8_0 values (vpmovsxbd +
// vcvtdq2ps) and the q8_0 K dot products through vpmaddubsw / vpmaddwd.
#include "kernels/x86/common/avx512_warnings.h"  // first: GCC 12 intrinsics false positive

#include "kernels/simd/attn_impl.h"
#include "kernels/x86/common/attn512_hooks.h"

namespace nibble::kernels::avx512 {

extern const AttnOps kAttnOps =
    simd::make_attn_ops<x86::Attn512Hooks<false>>(Isa::avx512, "avx512");

}  // namespace nibble::kernels::avx512
