// AVX2 + FMA + F16C instantiation of the attention block kernel (kernels/simd/attn_impl.h).
// Hooks: F16C conversions (vcvtph2ps / vcvtps2ph, round to nearest even), the exact
// int8 -> f32 widening of q8_0 values (vpmovsxbd + vcvtdq2ps).
#include <immintrin.h>

#include "kernels/simd/attn_impl.h"
#include "kernels/x86/avx2/f16_hooks.h"

namespace nibble::kernels::avx2 {
namespace {

struct AttnHooks : F16Hooks {
  static constexpr int kGroups = 2;  // 4 x 2 accumulators of 8 positions (16 registers)
  static F load_i8(const int8_t* p) {
    return F(_mm256_cvtepi32_ps(
        _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)))));
  }
};

}  // namespace

extern const AttnOps kAttnOps = simd::make_attn_ops<AttnHooks>(Isa::avx2, "avx2");

}  // namespace nibble::kernels::avx2
