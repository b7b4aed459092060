// AVX-512 (F/BW/DQ/VL) instantiation of the attention block kernel
// (kernels/simd/attn_impl.h): 16 lanes; hooks are the 512-bit F16C conversions, the exact
// int8 -> f32 widening of q8_0 rows (vpmovsxbd + vcvtdq2ps) and a 16 x 16 transpose.
#include "kernels/x86/common/avx512_warnings.h"  // first: GCC 12 intrinsics false positive

#include <immintrin.h>

#include "kernels/simd/attn_impl.h"
#include "kernels/x86/avx512/f16_hooks.h"

namespace nibble::kernels::avx512 {
namespace {

struct AttnHooks : F16Hooks {
  static constexpr int kGroups = 4;  // 4 x 4 accumulators of 16 positions (scores), 4 x 4 outputs
  // 16 x 16 transpose: pairs of rows interleaved, then 64-bit pairs, then 128-bit lanes.
  [[gnu::always_inline]] static void transpose(F* r) {
    __m512 t[16], u[16];
    for (int i = 0; i < 16; i += 2) {
      t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
      t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    // u[4i + k], 128-bit lane L: rows 4i .. 4i + 3 of column 4L + k.
    for (int i = 0; i < 16; i += 4) {
      u[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
      u[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xEE);
      u[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
      u[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    for (int k = 0; k < 4; ++k) {
      const __m512 v0 = _mm512_shuffle_f32x4(u[k], u[4 + k], 0x88);
      const __m512 v1 = _mm512_shuffle_f32x4(u[k], u[4 + k], 0xDD);
      const __m512 v2 = _mm512_shuffle_f32x4(u[8 + k], u[12 + k], 0x88);
      const __m512 v3 = _mm512_shuffle_f32x4(u[8 + k], u[12 + k], 0xDD);
      r[k] = F(_mm512_shuffle_f32x4(v0, v2, 0x88));
      r[k + 4] = F(_mm512_shuffle_f32x4(v1, v3, 0x88));
      r[k + 8] = F(_mm512_shuffle_f32x4(v0, v2, 0xDD));
      r[k + 12] = F(_mm512_shuffle_f32x4(v1, v3, 0xDD));
    }
  }
  static F load_i8(const int8_t* p) {
    return F(_mm512_cvtepi32_ps(
        _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)))));
  }
};

}  // namespace

extern const AttnOps kAttnOps = simd::make_attn_ops<AttnHooks>(Isa::avx512, "avx512");

}  // namespace nibble::kernels::avx512
