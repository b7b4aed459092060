// AVX2 lookup-table (LUT) matmul for ternary weights (TQ2_0, TQ1_0) x Q8_K activations, in the
// load-time layout "t2x32" (kernels/pack/ternary.cpp): 32 rows interleaved, one nibble per
// weight pair holding the codes c = w + 1 of both weights.
//
// Table build (per activation block of 256, per token): for each of the 128 activation pairs
// (x[2p], x[2p+1]) a 16-entry table T_p[c0 | c1 << 2] = v(c0) x[2p] + v(c1) x[2p+1] with
// v(c) = c - 1 (so code 3, which TQ2_0's own quantizer never writes, means +2, exactly as the
// reference decoder reads it; TQ1_0 trits never give 3). |entry| <= 2 x 2 x 128 = 512 needs
// 10 bits, so each table is kept exact as int16, split into a 16-byte low-byte plane and a
// 16-byte high-byte plane (32 bytes per pair, 4 KiB per block).
// Lookup: one 32-byte load of q[s] holds the nibbles of pairs 2s and 2s+1 for 32 rows; per
// pair, vpshufb on the low plane and on the high plane (the same 16-byte table broadcast to
// both lanes) gives 32 bytes each, re-joined by vpunpck{l,h}bw into two vectors of 16 int16
// per-row partial sums. The activations are never multiplied by weights: the multiply is in
// the table, and one table serves every row.
//
// Accumulation: int16 per row over a quarter block (16 steps x 2 lookups x |entry| <= 512:
// |sum| <= 16384 < 2^15 for any int8 activations, -128 included), widened to int32 per block
// (<= 65536), then float(int32) x (d_w x d_x) FMA'd into f32 per row. Integer sums are exact; the
// result differs from the reference (ref::dot_row) only by f32 rounding of the per-block products
// and their summation (tests: relative 1e-5 of the row's |w|.|x|).
//
// Blocking: tables are built for
// up to 32 tokens x (32 / tokens) blocks at a time (128 KiB, in L2), and each 32-row group's blocks
// are then used for all those tokens, so prefill reads the weights once per 32 tokens. A table is
// 32 bytes per activation pair, as many bytes as 64 rows of weights, so two row groups share each
// table load (L2 bandwidth on the tables). Output rows of a group that fall outside [row_begin,
// row_end) (padding rows, or a range that does not start at a multiple of 32) are computed into a
// scratch and not written.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/formats/blocks.h"
#include "kernels/kernels.h"
#include "kernels/x86/common/lut_driver.h"

namespace nibble::kernels::avx2 {
namespace {

using x86::kLutPairs, x86::kLutRows;
constexpr size_t kTableBytes = 32;  // low plane + high plane

void build_tables(const BlockQ8_K& x, uint8_t* tab) {
  const __m256i w0 = _mm256_setr_epi16(-1, 0, 1, 2, -1, 0, 1, 2, -1, 0, 1, 2, -1, 0, 1, 2);
  const __m256i w1 = _mm256_setr_epi16(-1, -1, -1, -1, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2);
  // Per lane: low bytes of the 8 int16 entries, then their high bytes.
  const __m256i split = _mm256_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15, 0, 2,
                                         4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
  for (int p = 0; p < kLutPairs; ++p) {
    const __m256i xa = _mm256_set1_epi16(x.qs[2 * p]), xb = _mm256_set1_epi16(x.qs[2 * p + 1]);
    __m256i t = _mm256_add_epi16(_mm256_mullo_epi16(xa, w0), _mm256_mullo_epi16(xb, w1));
    t = _mm256_shuffle_epi8(t, split);      // [lo 0-7 | hi 0-7 | lo 8-15 | hi 8-15]
    t = _mm256_permute4x64_epi64(t, 0xD8);  // [lo 0-15 | hi 0-15]
    _mm256_store_si256(reinterpret_cast<__m256i*>(tab + p * kTableBytes), t);
  }
}

inline __m256i bcast(const uint8_t* p) {
  return _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(p)));
}

// One block of G 32-row groups against one token's tables (each table loaded once for the G
// groups): acc[g][j] += isum(row) * d_w(row) * d_x for rows 8j..8j+7 of group g.
template <int G>
inline void group_block(const uint8_t* const* blk, const uint8_t* tab, float dx, __m256 (*acc)[4]) {
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  __m256i s32[G][4];
#pragma GCC unroll 8
  for (int g = 0; g < G; ++g)
    for (int j = 0; j < 4; ++j) s32[g][j] = _mm256_setzero_si256();
  for (int quarter = 0; quarter < 4; ++quarter) {
    __m256i a[G], c[G];  // rows 0-7 | 16-23 and rows 8-15 | 24-31
#pragma GCC unroll 8
    for (int g = 0; g < G; ++g) a[g] = c[g] = _mm256_setzero_si256();
    for (int s = 16 * quarter; s < 16 * quarter + 16; ++s) {
      const uint8_t* t = tab + 2 * kTableBytes * s;
      const __m256i tl0 = bcast(t), th0 = bcast(t + 16), tl1 = bcast(t + 32), th1 = bcast(t + 48);
#pragma GCC unroll 8
      for (int g = 0; g < G; ++g) {
        const __m256i idx = _mm256_loadu_si256(
            reinterpret_cast<const __m256i*>(blk[g] + 2 * kLutRows + kLutRows * s));
        const __m256i i0 = _mm256_and_si256(idx, m4);
        const __m256i i1 = _mm256_and_si256(_mm256_srli_epi16(idx, 4), m4);
        const __m256i l0 = _mm256_shuffle_epi8(tl0, i0), h0 = _mm256_shuffle_epi8(th0, i0);
        const __m256i l1 = _mm256_shuffle_epi8(tl1, i1), h1 = _mm256_shuffle_epi8(th1, i1);
        a[g] = _mm256_add_epi16(
            a[g], _mm256_add_epi16(_mm256_unpacklo_epi8(l0, h0), _mm256_unpacklo_epi8(l1, h1)));
        c[g] = _mm256_add_epi16(
            c[g], _mm256_add_epi16(_mm256_unpackhi_epi8(l0, h0), _mm256_unpackhi_epi8(l1, h1)));
      }
    }
#pragma GCC unroll 8
    for (int g = 0; g < G; ++g) {
      const __m128i lo_a = _mm256_castsi256_si128(a[g]), lo_c = _mm256_castsi256_si128(c[g]);
      s32[g][0] = _mm256_add_epi32(s32[g][0], _mm256_cvtepi16_epi32(lo_a));
      s32[g][1] = _mm256_add_epi32(s32[g][1], _mm256_cvtepi16_epi32(lo_c));
      s32[g][2] =
          _mm256_add_epi32(s32[g][2], _mm256_cvtepi16_epi32(_mm256_extracti128_si256(a[g], 1)));
      s32[g][3] =
          _mm256_add_epi32(s32[g][3], _mm256_cvtepi16_epi32(_mm256_extracti128_si256(c[g], 1)));
    }
  }
  const __m256 vdx = _mm256_set1_ps(dx);
#pragma GCC unroll 8
  for (int g = 0; g < G; ++g) {
    const auto* d = reinterpret_cast<const __m128i*>(blk[g]);
    for (int j = 0; j < 4; ++j) {
      const __m256 dw = _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128(d + j)), vdx);
      acc[g][j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s32[g][j]), dw, acc[g][j]);
    }
  }
}

// The LUT policy of x86::matmul_t2x32_lut (kernels/x86/common/lut_driver.h).
struct Lut {
  static constexpr int kGroups = 2;  // 64 rows per table load (16 ymm registers: 2 is what fits)
  static constexpr size_t kTablePad = 0;
  using Acc = __m256;
  static constexpr int kAcc = 4;  // f32 accumulators per 32-row group
  static Acc zero() { return _mm256_setzero_ps(); }
  static Acc load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, Acc v) { _mm256_storeu_ps(p, v); }
  static void build_tables(const BlockQ8_K& x, uint8_t* tab) { avx2::build_tables(x, tab); }
  template <int G>
  static void group_block(const uint8_t* const* blk, const uint8_t* tab, float dx, Acc (*acc)[4]) {
    avx2::group_block<G>(blk, tab, dx, acc);
  }
};

}  // namespace

// Both formats share the packed layout (TQ1_0's base-3 trits are unpacked at load time).
void gemv_tq2_0_q8_k_lut32(const MatmulArgs& a) { x86::matmul_t2x32_lut<Lut>(a); }
void gemv_tq1_0_q8_k_lut32(const MatmulArgs& a) { x86::matmul_t2x32_lut<Lut>(a); }

}  // namespace nibble::kernels::avx2
