// AVX-512 VNNI instantiation of the attention block kernel (kernels/simd/attn_impl.h): the
// avx512 table's hooks with the q8_0 K dot products as vpdpbusd (decision 61); the same bits.
#include "kernels/x86/common/avx512_warnings.h"  // first: GCC 12 intrinsics false positive

#include "kernels/simd/attn_impl.h"
#include "kernels/x86/common/attn512_hooks.h"

namespace nibble::kernels::avx512vnni {

extern const AttnOps kAttnOps =
    simd::make_attn_ops<x86::Attn512Hooks<true>>(Isa::avx512vnni, "avx512vnni");

}  // namespace nibble::kernels::avx512vnni
