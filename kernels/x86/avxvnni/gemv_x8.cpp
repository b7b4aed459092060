// AVX-VNNI Q4_0 x Q8_0 matmul over the load-time layout "q4_0_x8" (kernels/pack/q4_0.cpp):
// the AVX2 kernel of kernels/x86/avx2/gemv_x8.cpp (which describes the layout, blocking and
// tails) with vpdpbusd (u8 x s8, 4 products summed into each int32 lane, no int16 step and no
// saturation) in place of vpmaddubsw + vpaddw + vpmaddwd. One int32 lane = one row: per block
// |sum q x| <= 32 x 15 x 128 = 61440, minus 8 x (sum x), exact; then f32 as in the AVX2 kernel.
// Reference: ref::dot_row (Q4_0); integer sums exact (tests: relative 1e-5 of |w|.|x|).
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/formats/blocks.h"
#include "kernels/kernels.h"

namespace nibble::kernels::avxvnni {
namespace {

constexpr int kRows = 8;
constexpr size_t kBlockBytes = kRows * sizeof(BlockQ4_0);  // 144
constexpr int kTok = 4;
constexpr int64_t kChunk = 1024;  // blocks per K chunk

inline __m256i bcast32(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

// 8 * (sum of the 32 activations) of `n` blocks.
void block_sums(const BlockQ8_0* x, int64_t n, int32_t* out) {
  const __m256i ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
  for (int64_t b = 0; b < n; ++b) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs));
    const __m256i s = _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, v), ones16);
    __m128i h = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4e));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xb1));
    out[b] = 8 * _mm_cvtsi128_si32(h);
  }
}

// Blocks [b0, b1) of one 8-row group for NT tokens: acc[t] (8 rows) += ...
template <int NT>
inline void group(const uint8_t* gw, const BlockQ8_0* const* x, const int32_t* const* xs8,
                  int64_t b0, int64_t b1, __m256 acc[NT]) {
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  for (int64_t b = b0; b < b1; ++b) {
    const uint8_t* blk = gw + b * kBlockBytes;
    const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk)));
    __m256i a32[NT];
    for (int t = 0; t < NT; ++t) a32[t] = _mm256_setzero_si256();
    for (int l = 0; l < 4; ++l) {
      const __m256i v =
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 2 * kRows + 32 * l));
      const __m256i lo = _mm256_and_si256(v, m4);
      const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
      for (int t = 0; t < NT; ++t) {
        const int8_t* q = x[t][b].qs + 8 * l;
        a32[t] = _mm256_dpbusd_avx_epi32(a32[t], lo, bcast32(q));
        a32[t] = _mm256_dpbusd_avx_epi32(a32[t], hi, bcast32(q + 4));
      }
    }
    for (int t = 0; t < NT; ++t) {
      const __m256i isum = _mm256_sub_epi32(a32[t], _mm256_set1_epi32(xs8[t][b - b0]));
      const __m256 d = _mm256_mul_ps(dw, _mm256_set1_ps(_cvtsh_ss(x[t][b].d)));
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), d, acc[t]);
    }
  }
}

template <int NT>
void tokens(const MatmulArgs& a, int t0) {
  const int64_t nb = a.k / QK;
  const size_t group_bytes = a.w_row_bytes * kRows;
  const BlockQ8_0* x[NT];
  for (int t = 0; t < NT; ++t)
    x[t] = reinterpret_cast<const BlockQ8_0*>(static_cast<const uint8_t*>(a.x) +
                                              (t0 + t) * a.x_stride);
  alignas(32) int32_t sums[NT][kChunk];
  const int32_t* xs8[NT];
  for (int t = 0; t < NT; ++t) xs8[t] = sums[t];
  const int64_t g0 = a.row_begin / kRows, g1 = (a.row_end + kRows - 1) / kRows;
  for (int64_t b0 = 0; b0 < nb; b0 += kChunk) {
    const int64_t b1 = std::min(nb, b0 + kChunk);
    for (int t = 0; t < NT; ++t) block_sums(x[t] + b0, b1 - b0, sums[t]);
    for (int64_t g = g0; g < g1; ++g) {
      const int64_t r0 = g * kRows;
      const bool full = r0 >= a.row_begin && r0 + kRows <= a.row_end;
      __m256 acc[NT];
      for (int t = 0; t < NT; ++t) {
        float* y = a.y + (t0 + t) * a.y_stride + r0;
        acc[t] = b0 > 0 && full ? _mm256_loadu_ps(y) : _mm256_setzero_ps();
      }
      if (g + 2 < g1) {  // software prefetch two groups ahead (docs/kernels-x86.md)
        const uint8_t* ahead =
            static_cast<const uint8_t*>(a.w) + (g + 2) * group_bytes + b0 * kBlockBytes;
        for (size_t o = 0; o < static_cast<size_t>(b1 - b0) * kBlockBytes; o += 64)
          _mm_prefetch(reinterpret_cast<const char*>(ahead + o), _MM_HINT_T0);
      }
      group<NT>(static_cast<const uint8_t*>(a.w) + g * group_bytes, x, xs8, b0, b1, acc);
      for (int t = 0; t < NT; ++t) {
        float* y = a.y + (t0 + t) * a.y_stride;
        if (full) {
          _mm256_storeu_ps(y + r0, acc[t]);
          continue;
        }
        alignas(32) float part[kRows];
        _mm256_store_ps(part, acc[t]);
        for (int r = 0; r < kRows; ++r) {
          const int64_t row = r0 + r;
          if (row >= a.row_begin && row < a.row_end) y[row] = (b0 > 0 ? y[row] : 0.0f) + part[r];
        }
      }
    }
  }
}

}  // namespace

void gemv_q4_0_q8_0_8x(const MatmulArgs& a) {
  int t = 0;
  for (; t + kTok <= a.n_tokens; t += kTok) tokens<kTok>(a, t);
  switch (a.n_tokens - t) {
    case 3:
      tokens<3>(a, t);
      break;
    case 2:
      tokens<2>(a, t);
      break;
    case 1:
      tokens<1>(a, t);
      break;
    default:
      break;
  }
}

}  // namespace nibble::kernels::avxvnni
