// AVX-512 (F/BW/DQ/VL) instantiation of the attention block kernel
// (kernels/simd/attn_impl.h): 16 lanes; hooks are the 512-bit F16C conversions and the exact
// int8 -> f32 widening of q8_0 rows (vpmovsxbd + vcvtdq2ps), and a lane-wise row reduction.
#include <immintrin.h>

#include "kernels/simd/attn_impl.h"
#include "kernels/x86/avx512/f16_hooks.h"

namespace nibble::kernels::avx512 {
namespace {

struct AttnHooks : F16Hooks {
  // Lane r = sum of rows[r]'s lanes. xsimd 8.1.0's avx512 haddp puts some sums in the wrong
  // lanes (tests/kernels/attn_test.cpp caught it), so: fold each row to 8 lanes (low + high
  // half), then the AVX haddp on two sets of 8.
  static F haddp(const F* rows) {
    using H8 = xsimd::batch<float, xsimd::fma3<xsimd::avx2>>;
    H8 half[16];
    for (int r = 0; r < 16; ++r)
      half[r] = H8(_mm256_add_ps(_mm512_castps512_ps256(rows[r]),
                                 _mm512_extractf32x8_ps(rows[r], 1)));
    const __m256 lo = xsimd::haddp(half), hi = xsimd::haddp(half + 8);
    return F(_mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1));
  }
  static F load_i8(const int8_t* p) {
    return F(_mm512_cvtepi32_ps(
        _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)))));
  }
};

}  // namespace

extern const AttnOps kAttnOps = simd::make_attn_ops<AttnHooks>(Isa::avx512, "avx512");

}  // namespace nibble::kernels::avx512
