// AVX2 + FMA + F16C instantiation of the attention block kernel (kernels/simd/attn_impl.h).
// Hooks: F16C conversions (vcvtph2ps / vcvtps2ph, round to nearest even), the exact
// int8 -> f32 widening of q8_0 values (vpmovsxbd + vcvtdq2ps), the q8_0 K dot products through
// vpmaddubsw / vpmaddwd.
#include <immintrin.h>

#include "kernels/simd/attn_impl.h"
#include "kernels/x86/avx2/f16_hooks.h"

namespace nibble::kernels::avx2 {
namespace {

struct AttnHooks : F16Hooks {
  static constexpr int kGroups = 2;  // 4 x 2 accumulators of 8 positions (16 registers)
  static constexpr int kQ8Groups = 1;  // q8_0 K: 4 x 1 dot products and 4 f32 sums
  using I = __m256i;
  static F load_i8(const int8_t* p) {
    return F(_mm256_cvtepi32_ps(
        _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)))));
  }
  // q8_0 K: |q| x (k with q's sign) through vpmaddubsw (pairs at most 2 x 127 x 128, no
  // saturation) and vpmaddwd: per lane the exact dot product of 4 int8.
  static I q8_start(int32_t) { return _mm256_setzero_si256(); }
  static I q8_load(const uint8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const I*>(p)); }
  static I q8_dot(I acc, I k, int32_t q4) {
    const I qb = _mm256_set1_epi32(q4);
    const I p = _mm256_maddubs_epi16(_mm256_abs_epi8(qb), _mm256_sign_epi8(k, qb));
    return _mm256_add_epi32(acc, _mm256_madd_epi16(p, _mm256_set1_epi16(1)));
  }
  static F q8_f32(I x) { return F(_mm256_cvtepi32_ps(x)); }
};

}  // namespace

extern const AttnOps kAttnOps = simd::make_attn_ops<AttnHooks>(Isa::avx2, "avx2");

}  // namespace nibble::kernels::avx2
