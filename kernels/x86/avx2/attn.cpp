// AVX2 + FMA + F16C instantiation of the attention block kernel (kernels/simd/attn_impl.h).
// Hooks: F16C conversions (vcvtph2ps / vcvtps2ph, round to nearest even), the exact
// int8 -> f32 widening of q8_0 rows (vpmovsxbd + vcvtdq2ps) and an 8 x 8 transpose.
#include <immintrin.h>

#include "kernels/simd/attn_impl.h"
#include "kernels/x86/avx2/f16_hooks.h"

namespace nibble::kernels::avx2 {
namespace {

struct AttnHooks : F16Hooks {
  static constexpr int kGroups = 2;  // 4 x 2 accumulators of 8 positions (16 registers)
  // 8 x 8 transpose: pairs of rows interleaved, then 64-bit pairs, then 128-bit halves.
  [[gnu::always_inline]] static void transpose(F* r) {
    __m256 t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
      t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
      t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    // u[4i + k], 128-bit half L: rows 4i .. 4i + 3 of column 4L + k.
    for (int i = 0; i < 8; i += 4) {
      u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
      u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
      u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
      u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    for (int k = 0; k < 4; ++k) {
      r[k] = F(_mm256_permute2f128_ps(u[k], u[4 + k], 0x20));
      r[k + 4] = F(_mm256_permute2f128_ps(u[k], u[4 + k], 0x31));
    }
  }
  static F load_i8(const int8_t* p) {
    return F(_mm256_cvtepi32_ps(
        _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)))));
  }
};

}  // namespace

extern const AttnOps kAttnOps = simd::make_attn_ops<AttnHooks>(Isa::avx2, "avx2");

}  // namespace nibble::kernels::avx2
