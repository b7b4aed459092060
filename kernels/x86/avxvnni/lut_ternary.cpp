// AVX-VNNI (256-bit) matmul for ternary weights (TQ2_0, TQ1_0) x Q8_K in the load-time layout
// "t2x32" (kernels/pack/ternary.cpp): the 256-bit copy of kernels/x86/avx512vnni/lut_ternary.cpp.
// The AVX2 LUT kernel for one token (decode), and for two or more tokens (prefill) a vpdpbusd
// path over the same bytes, where per-token work is one vpdpbusd per 8 rows x 4 weights
// instead of table lookups.
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

namespace nibble::kernels {
namespace avx2 {  // the GEMV path: kernels/x86/avx2/lut_ternary.cpp
void gemv_tq2_0_q8_k_lut32(const MatmulArgs& a);
}

namespace avxvnni {
namespace {

using x86::kLutBlockBytes, x86::kLutRows;

inline __m256i spread(const uint8_t* p) {  // 8 bytes -> 8 int32 lanes of 4 one-code bytes
  const __m256i v = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
  const __m256i s =
      _mm256_or_si256(_mm256_or_si256(v, _mm256_slli_epi32(v, 6)),
                      _mm256_or_si256(_mm256_slli_epi32(v, 12), _mm256_slli_epi32(v, 18)));
  return _mm256_and_si256(s, _mm256_set1_epi32(0x03030303));
}

// 16 rows x 4 tokens per pass: 8 accumulators + 2 weight vectors in registers.
struct Prefill {
  template <int NT>
  static void tokens(const MatmulArgs& a, int t0, int64_t g) {  // one 32-row group, NT tokens
    const int64_t nb = a.k / QK_K;
    const BlockQ8_K* x[NT];
    x86::lut_token_rows(a, t0, x);
    const uint8_t* gw = static_cast<const uint8_t*>(a.w) + g * (a.w_row_bytes * kLutRows);
    __m256 acc[NT][4];
    for (int t = 0; t < NT; ++t)
#pragma GCC unroll 4
      for (int j = 0; j < 4; ++j) acc[t][j] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* blk = gw + b * kLutBlockBytes;
      const uint8_t* q = blk + 2 * kLutRows;
      __m256i is[NT][4];
      for (int h = 0; h < 2; ++h) {  // rows 16h..16h+15: 2 x NT accumulators stay in registers
        __m256i ih[NT][2];
        for (int t = 0; t < NT; ++t) ih[t][0] = ih[t][1] = _mm256_setzero_si256();
        for (int s = 0; s < QK_K / 4; ++s) {
          const __m256i w0 = spread(q + kLutRows * s + 16 * h);
          const __m256i w1 = spread(q + kLutRows * s + 16 * h + 8);
#pragma GCC unroll 4
          for (int t = 0; t < NT; ++t) {
            int32_t xv;
            __builtin_memcpy(&xv, x[t][b].qs + 4 * s, 4);
            const __m256i xb = _mm256_set1_epi32(xv);
            ih[t][0] = _mm256_dpbusd_avx_epi32(ih[t][0], w0, xb);
            ih[t][1] = _mm256_dpbusd_avx_epi32(ih[t][1], w1, xb);
          }
        }
        for (int t = 0; t < NT; ++t) {
          is[t][2 * h] = ih[t][0];
          is[t][2 * h + 1] = ih[t][1];
        }
      }
      __m256 dw[4];
#pragma GCC unroll 4
      for (int j = 0; j < 4; ++j)
        dw[j] = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk) + j));
      for (int t = 0; t < NT; ++t) {
        const __m256i xs = _mm256_set1_epi32(q8_k_sum(x[t][b]));
        const __m256 dx = _mm256_set1_ps(x[t][b].d);
#pragma GCC unroll 4
        for (int j = 0; j < 4; ++j)
          acc[t][j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(is[t][j], xs)),
                                      _mm256_mul_ps(dw[j], dx), acc[t][j]);
      }
    }
    for (int t = 0; t < NT; ++t)
      x86::lut_store_group(a, t0 + t, g, [&](float* y) {
#pragma GCC unroll 4
        for (int j = 0; j < 4; ++j) _mm256_storeu_ps(y + 8 * j, acc[t][j]);
      });
  }
};

}  // namespace

void gemv_tq2_0_q8_k_lut32(const MatmulArgs& a) {
  x86::matmul_t2x32_vnni<Prefill>(a, avx2::gemv_tq2_0_q8_k_lut32);
}
void gemv_tq1_0_q8_k_lut32(const MatmulArgs& a) {
  x86::matmul_t2x32_vnni<Prefill>(a, avx2::gemv_tq2_0_q8_k_lut32);
}

}  // namespace avxvnni
}  // namespace nibble::kernels
