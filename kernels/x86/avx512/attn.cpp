// AVX-512 (F/BW/DQ/VL) instantiation of the attention block kernel
// (kernels/simd/attn_impl.h): 16 lanes; hooks are the 512-bit F16C conversions, the exact
// int8 -> f32 widening of q8_0 rows (vpmovsxbd + vcvtdq2ps), a 16 x 16 transpose, and q8_0
// K groups transposed as int8 before they are widened (load_q8_transposed).
#include "kernels/x86/common/avx512_warnings.h"  // first: GCC 12 intrinsics false positive

#include <immintrin.h>

#include "kernels/formats/blocks.h"
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
  // q8_0 K for the scores: dimensions [c, c + 16) of 16 rows (row_bytes apart) transposed as
  // int8 before widening (4 x 4 dword transposes inside 128-bit lanes, 8 unpacks, instead of
  // the 64 shuffles of the f32 transpose): r[k] lane l = qs of row l, dimension c + k, as an
  // exact f32 (the scale is applied by the caller). Lane L of a[g] holds row 4L + g, so after
  // the transposes dword 4L + e of t[m] is row 4L + e, dimensions c + 4m .. c + 4m + 3.
  [[gnu::always_inline]] static void load_q8_transposed(const uint8_t* rows, size_t row_bytes,
                                                        int64_t c, F* r) {
    auto row = [&](int j) {
      return _mm_loadu_si128(reinterpret_cast<const __m128i*>(
          reinterpret_cast<const BlockQ8_0*>(rows + j * row_bytes)[c / QK].qs + c % QK));
    };
    __m512i a[4];
    for (int g = 0; g < 4; ++g) {
      __m512i v = _mm512_castsi128_si512(row(g));
      v = _mm512_inserti32x4(v, row(4 + g), 1);
      v = _mm512_inserti32x4(v, row(8 + g), 2);
      a[g] = _mm512_inserti32x4(v, row(12 + g), 3);
    }
    const __m512i t0 = _mm512_unpacklo_epi32(a[0], a[1]), t1 = _mm512_unpackhi_epi32(a[0], a[1]);
    const __m512i t2 = _mm512_unpacklo_epi32(a[2], a[3]), t3 = _mm512_unpackhi_epi32(a[2], a[3]);
    const __m512i t[4] = {_mm512_unpacklo_epi64(t0, t2), _mm512_unpackhi_epi64(t0, t2),
                          _mm512_unpacklo_epi64(t1, t3), _mm512_unpackhi_epi64(t1, t3)};
    for (int m = 0; m < 4; ++m) {  // byte k of each dword, sign-extended
      r[4 * m + 0] = F(_mm512_cvtepi32_ps(_mm512_srai_epi32(_mm512_slli_epi32(t[m], 24), 24)));
      r[4 * m + 1] = F(_mm512_cvtepi32_ps(_mm512_srai_epi32(_mm512_slli_epi32(t[m], 16), 24)));
      r[4 * m + 2] = F(_mm512_cvtepi32_ps(_mm512_srai_epi32(_mm512_slli_epi32(t[m], 8), 24)));
      r[4 * m + 3] = F(_mm512_cvtepi32_ps(_mm512_srai_epi32(t[m], 24)));
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
