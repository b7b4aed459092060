// AVX-512 VNNI matmul for ternary weights (TQ2_0, TQ1_0) x Q8_K in the load-time layout "t2x32"
// (kernels/pack/ternary.cpp): the AVX-512 LUT kernel for one token (decode), and for two or more
// tokens (prefill) a vpdpbusd path over the same bytes, where per-token work is one vpdpbusd
// per 16 rows x 4 weights instead of table lookups.
//
// Prefill path: one byte q[s][r] = c0 | c1 << 2 | c2 << 4 | c3 << 6 (codes c = w + 1) is
// widened to an int32 lane and spread to one code per byte, b | b << 6 | b << 12 | b << 18
// masked with 0x03030303 (the shifted copies do not overlap inside the kept bits); vpdpbusd
// then multiplies the 4 codes (u8) with the 4 activations x[4s..4s+3] (s8, broadcast to every
// lane) and adds them into the row's int32 lane. Each spread weight vector serves up to 4
// tokens. The code offset comes off with the activation block sum: sum (c - 1) x = sum c x -
// sum x (the Q8_K bsums). int32 per block: |sum c x| <= 256 x 3 x 128 = 98304; then
// float(int32) x (d_w x d_x) FMA'd per row and token. Exact integer sums; results differ
// from ref::dot_row only by f32 rounding (tests: relative 1e-5 of |w|.|x|).
// Tails: rows of a group outside [row_begin, row_end) go to a scratch; tokens in tiles of 4,
// then 3/2/1 (kernels/x86/common/lut_prefill.h); any K that is a multiple of 256 (no K chunking: no
// tables).
#include <immintrin.h>

#include "kernels/formats/blocks.h"
#include "kernels/kernels.h"
#include "kernels/x86/common/lut_prefill.h"

// GCC 12's AVX-512 intrinsics pass _mm512_undefined_*() as the masked-off source, which it
// then reports as maybe-uninitialized (GCC bug 105593); the values are never used.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace nibble::kernels {
namespace avx512 {  // the GEMV path: kernels/x86/avx512/lut_ternary.cpp
void gemv_tq2_0_q8_k_lut32(const MatmulArgs& a);
}

namespace avx512vnni {
namespace {

using x86::kLutBlockBytes, x86::kLutRows;

inline __m512i spread(__m128i b16) {  // 16 bytes -> 16 int32 lanes of 4 one-code bytes
  const __m512i v = _mm512_cvtepu8_epi32(b16);
  const __m512i s =
      _mm512_or_si512(_mm512_or_si512(v, _mm512_slli_epi32(v, 6)),
                      _mm512_or_si512(_mm512_slli_epi32(v, 12), _mm512_slli_epi32(v, 18)));
  return _mm512_and_si512(s, _mm512_set1_epi32(0x03030303));
}

struct Prefill {
  template <int NT>
  static void tokens(const MatmulArgs& a, int t0, int64_t g) {  // one 32-row group, NT tokens
    const int64_t nb = a.k / QK_K;
    const BlockQ8_K* x[NT];
    x86::lut_token_rows(a, t0, x);
    const uint8_t* gw = static_cast<const uint8_t*>(a.w) + g * (a.w_row_bytes * kLutRows);
    __m512 acc[NT][2];
    for (int t = 0; t < NT; ++t) acc[t][0] = acc[t][1] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* blk = gw + b * kLutBlockBytes;
      const uint8_t* q = blk + 2 * kLutRows;
      __m512i is[NT][2];
      for (int t = 0; t < NT; ++t) is[t][0] = is[t][1] = _mm512_setzero_si512();
      for (int s = 0; s < QK_K / 4; ++s) {
        const __m512i w0 =
            spread(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q + kLutRows * s)));
        const __m512i w1 =
            spread(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q + kLutRows * s + 16)));
#pragma GCC unroll 4
        for (int t = 0; t < NT; ++t) {
          int32_t xv;
          __builtin_memcpy(&xv, x[t][b].qs + 4 * s, 4);
          const __m512i xb = _mm512_set1_epi32(xv);
          is[t][0] = _mm512_dpbusd_epi32(is[t][0], w0, xb);
          is[t][1] = _mm512_dpbusd_epi32(is[t][1], w1, xb);
        }
      }
      const __m512 dw0 = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk)));
      const __m512 dw1 =
          _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk) + 1));
      for (int t = 0; t < NT; ++t) {
        const __m512i xs = _mm512_set1_epi32(q8_k_sum(x[t][b]));
        const __m512 dx = _mm512_set1_ps(x[t][b].d);
        acc[t][0] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(is[t][0], xs)),
                                    _mm512_mul_ps(dw0, dx), acc[t][0]);
        acc[t][1] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(is[t][1], xs)),
                                    _mm512_mul_ps(dw1, dx), acc[t][1]);
      }
    }
    for (int t = 0; t < NT; ++t)
      x86::lut_store_group(a, t0 + t, g, [&](float* y) {
        _mm512_storeu_ps(y, acc[t][0]);
        _mm512_storeu_ps(y + 16, acc[t][1]);
      });
  }
};

}  // namespace

void gemv_tq2_0_q8_k_lut32(const MatmulArgs& a) {
  x86::matmul_t2x32_vnni<Prefill>(a, avx512::gemv_tq2_0_q8_k_lut32);
}
void gemv_tq1_0_q8_k_lut32(const MatmulArgs& a) {
  x86::matmul_t2x32_vnni<Prefill>(a, avx512::gemv_tq2_0_q8_k_lut32);
}

}  // namespace avx512vnni
}  // namespace nibble::kernels
