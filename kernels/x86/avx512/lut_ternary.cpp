// AVX-512 (F/BW/VL) lookup-table matmul for ternary weights (TQ2_0, TQ1_0) x Q8_K, in the
// load-time layout "t2x32" (kernels/pack/ternary.cpp), the same layout and tables as the AVX2
// LUT kernel (kernels/x86/avx2/lut_ternary.cpp, which describes the scheme), but looked up with
// vpermw: a 32-entry int16 table per register holds the tables of two activation pairs (2s in
// entries 0-15, 2s+1 in 16-31), so one vpermw gives 32 rows' exact int16 partial sums directly
// (no byte planes, no re-joining): per 32 rows x 4 weights, 1 widening load, an AND and a shift
// for the two nibble indices, 2 vpermw, 2 adds (the high nibble looks up a second table
// register loaded 32 bytes on, whose entries 0-15 are pair 2s + 1).
// Four row groups share each table load (tables are as many bytes as 64 rows of weights, so
// one group per load would be bound by L2 bandwidth on the tables).
//
// Accumulation: int16 per row over a quarter block (16 steps x 2 lookups, |entry| <= 512:
// |sum| <= 16384 < 2^15), int32 per block, then float(int32) x (d_w x d_x) FMA'd per row.
// Integer sums exact; results differ from ref::dot_row only by f32 rounding (tests: relative
// 1e-5 of |w|.|x|). Blocking and tails as in the AVX2 kernel.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/formats/blocks.h"
#include "kernels/kernels.h"
#include "kernels/x86/common/lut_driver.h"

// GCC 12's AVX-512 intrinsics pass _mm512_undefined_*() as the masked-off source, which it
// then reports as maybe-uninitialized (GCC bug 105593); the values are never used.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace nibble::kernels::avx512 {
namespace {

using x86::kLutPairs, x86::kLutRows;  // 16 int16 (32 bytes) per pair's table

void build_tables(const BlockQ8_K& x, uint8_t* tab) {
  const __m256i w0 = _mm256_setr_epi16(-1, 0, 1, 2, -1, 0, 1, 2, -1, 0, 1, 2, -1, 0, 1, 2);
  const __m256i w1 = _mm256_setr_epi16(-1, -1, -1, -1, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2);
  for (int p = 0; p < kLutPairs; ++p) {
    const __m256i xa = _mm256_set1_epi16(x.qs[2 * p]), xb = _mm256_set1_epi16(x.qs[2 * p + 1]);
    const __m256i t = _mm256_add_epi16(_mm256_mullo_epi16(xa, w0), _mm256_mullo_epi16(xb, w1));
    _mm256_store_si256(reinterpret_cast<__m256i*>(tab + 32 * p), t);
  }
}

// One block of G 32-row groups against one token's tables (each table register loaded once
// for the G groups): acc[g][0] rows 0-15, acc[g][1] rows 16-31 of group g.
template <int G>
inline void group_block(const uint8_t* const* blk, const uint8_t* tab, float dx, __m512 (*acc)[2]) {
  const __m512i m4 = _mm512_set1_epi16(0x0F);
  __m512i s32[G][2];
#pragma GCC unroll 8
  for (int g = 0; g < G; ++g) s32[g][0] = s32[g][1] = _mm512_setzero_si512();
  for (int quarter = 0; quarter < 4; ++quarter) {
    __m512i a[G], b[G];  // two chains per group
#pragma GCC unroll 8
    for (int g = 0; g < G; ++g) a[g] = b[g] = _mm512_setzero_si512();
    for (int s = 16 * quarter; s < 16 * quarter + 16; ++s) {
      // t: pair 2s in entries 0-15; th (32 bytes on): pair 2s + 1 in entries 0-15, so the high
      // nibble indexes it as is (no OR of 16; entries 16-31 of th are never selected).
      const __m512i t = _mm512_load_si512(tab + 64 * s);
      const __m512i th = _mm512_loadu_si512(tab + 64 * s + 32);
#pragma GCC unroll 8
      for (int g = 0; g < G; ++g) {
        const __m512i idx = _mm512_cvtepu8_epi16(_mm256_loadu_si256(
            reinterpret_cast<const __m256i*>(blk[g] + 2 * kLutRows + kLutRows * s)));
        const __m512i i0 = _mm512_and_si512(idx, m4);
        const __m512i i1 = _mm512_srli_epi16(idx, 4);
        a[g] = _mm512_add_epi16(a[g], _mm512_permutexvar_epi16(i0, t));
        b[g] = _mm512_add_epi16(b[g], _mm512_permutexvar_epi16(i1, th));
      }
    }
#pragma GCC unroll 8
    for (int g = 0; g < G; ++g) {
      const __m512i v = _mm512_add_epi16(a[g], b[g]);  // |v| <= 2 x 16 x 512 = 16384
      s32[g][0] = _mm512_add_epi32(s32[g][0], _mm512_cvtepi16_epi32(_mm512_castsi512_si256(v)));
      s32[g][1] =
          _mm512_add_epi32(s32[g][1], _mm512_cvtepi16_epi32(_mm512_extracti64x4_epi64(v, 1)));
    }
  }
  const __m512 vdx = _mm512_set1_ps(dx);
  for (int g = 0; g < G; ++g)
    for (int j = 0; j < 2; ++j) {
      const __m512 dw = _mm512_mul_ps(
          _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk[g]) + j)), vdx);
      acc[g][j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s32[g][j]), dw, acc[g][j]);
    }
}

// The LUT policy of x86::matmul_t2x32_lut (kernels/x86/common/lut_driver.h).
struct Lut {
  static constexpr int kGroups = 4;  // 128 rows per table load
  // The last step's second table load reads 32 bytes past the tables.
  static constexpr size_t kTablePad = 64;
  using Acc = __m512;
  static constexpr int kAcc = 2;  // f32 accumulators per 32-row group
  static Acc zero() { return _mm512_setzero_ps(); }
  static Acc load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, Acc v) { _mm512_storeu_ps(p, v); }
  static void build_tables(const BlockQ8_K& x, uint8_t* tab) { avx512::build_tables(x, tab); }
  template <int G>
  static void group_block(const uint8_t* const* blk, const uint8_t* tab, float dx, Acc (*acc)[2]) {
    avx512::group_block<G>(blk, tab, dx, acc);
  }
};

}  // namespace

// Both formats share the packed layout (TQ1_0's base-3 trits are unpacked at load time).
void gemv_tq2_0_q8_k_lut32(const MatmulArgs& a) { x86::matmul_t2x32_lut<Lut>(a); }
void gemv_tq1_0_q8_k_lut32(const MatmulArgs& a) { x86::matmul_t2x32_lut<Lut>(a); }

}  // namespace nibble::kernels::avx512
