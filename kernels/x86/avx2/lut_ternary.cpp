// AVX2 lookup-table (LUT) matmul for ternary weights (TQ2_0, TQ1_0) x Q8_K activations, in the
// load-time layout "t2x32" (kernels/pack/ternary.cpp): 32 rows interleaved, one nibble per
// weight pair holding the codes c = w + 1 of both weights.
//
// Table build (per activation block of 256, per token): for each of the 128 activation pairs
// (x[2p], x[2p+1]) a 16-entry table T_p[c0 | c1 << 2] = (c0 - 1) x[2p] + (c1 - 1) x[2p+1]
// (entries with a code 3 are 0 and never read). Entries need 9 bits, so each table is kept
// exact as int16, split into a 16-byte low-byte plane and a 16-byte high-byte plane
// (32 bytes per pair, 4 KiB per block).
// Lookup: one 32-byte load of q[s] holds the nibbles of pairs 2s and 2s+1 for 32 rows; per
// pair, vpshufb on the low plane and on the high plane (the same 16-byte table broadcast to
// both lanes) gives 32 bytes each, re-joined by vpunpck{l,h}bw into two vectors of 16 int16
// per-row partial sums. The activations are never multiplied by weights: the multiply is in
// the table, and one table serves every row.
//
// Accumulation: int16 per row over half a block (32 steps x 2 lookups, |entry| <= 2 x 128 =
// 256, so |sum| <= 16384 < 2^15 even for x = -128), widened to int32 per block (<= 65536),
// then float(int32) x (d_w x d_x) FMA'd into f32 per row. Integer sums are exact; the result
// differs from the reference (ref::dot_row) only by f32 rounding of the per-block products and
// their summation (tests: relative 1e-5 of the row's |w|.|x|).
// Blocking: tables are built for up to 8 tokens x (8 / tokens) blocks at a time (32 KiB, in
// L1/L2), and each 32-row group's blocks are then used for all those tokens, so prefill reads
// the weights once per 8 tokens. Output rows of a group that fall outside [row_begin,
// row_end) (padding rows, or a range that does not start at a multiple of 32) are computed
// into a scratch and not written.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/formats/blocks.h"
#include "kernels/kernels.h"

namespace nibble::kernels::avx2 {
namespace {

constexpr int kRows = 32;
constexpr int kPairs = QK_K / 2;                       // tables per block
constexpr size_t kTableBytes = 32;                     // low plane + high plane
constexpr size_t kBlockTables = kPairs * kTableBytes;  // 4 KiB
constexpr int kMaxTables = 32;                         // blocks x tokens per pass (128 KiB)

void build_tables(const BlockQ8_K& x, uint8_t* tab) {
  const __m256i w0 = _mm256_setr_epi16(-1, 0, 1, 0, -1, 0, 1, 0, -1, 0, 1, 0, -1, 0, 1, 0);
  const __m256i w1 = _mm256_setr_epi16(-1, -1, -1, -1, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0);
  // Per lane: low bytes of the 8 int16 entries, then their high bytes.
  const __m256i split = _mm256_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15, 0, 2,
                                         4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
  for (int p = 0; p < kPairs; ++p) {
    const __m256i xa = _mm256_set1_epi16(x.qs[2 * p]), xb = _mm256_set1_epi16(x.qs[2 * p + 1]);
    __m256i t = _mm256_add_epi16(_mm256_sign_epi16(xa, w0), _mm256_sign_epi16(xb, w1));
    t = _mm256_shuffle_epi8(t, split);      // [lo 0-7 | hi 0-7 | lo 8-15 | hi 8-15]
    t = _mm256_permute4x64_epi64(t, 0xD8);  // [lo 0-15 | hi 0-15]
    _mm256_store_si256(reinterpret_cast<__m256i*>(tab + p * kTableBytes), t);
  }
}

inline __m256i bcast(const uint8_t* p) {
  return _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(p)));
}

// One block of one 32-row group against one token's tables: acc[j] (rows 8j..8j+7) +=
// isum(row) * d_w(row) * d_x.
inline void group_block(const uint8_t* blk, const uint8_t* tab, float dx, __m256 acc[4]) {
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const uint8_t* q = blk + 2 * kRows;
  __m256i s32[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(),
                    _mm256_setzero_si256()};
  for (int half = 0; half < 2; ++half) {
    __m256i a = _mm256_setzero_si256();  // rows 0-7 | 16-23
    __m256i c = _mm256_setzero_si256();  // rows 8-15 | 24-31
    for (int s = 32 * half; s < 32 * half + 32; ++s) {
      const __m256i idx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + kRows * s));
      const __m256i i0 = _mm256_and_si256(idx, m4);
      const __m256i i1 = _mm256_and_si256(_mm256_srli_epi16(idx, 4), m4);
      const uint8_t* t = tab + 2 * kTableBytes * s;
      const __m256i l0 = _mm256_shuffle_epi8(bcast(t), i0);
      const __m256i h0 = _mm256_shuffle_epi8(bcast(t + 16), i0);
      const __m256i l1 = _mm256_shuffle_epi8(bcast(t + 32), i1);
      const __m256i h1 = _mm256_shuffle_epi8(bcast(t + 48), i1);
      a = _mm256_add_epi16(
          a, _mm256_add_epi16(_mm256_unpacklo_epi8(l0, h0), _mm256_unpacklo_epi8(l1, h1)));
      c = _mm256_add_epi16(
          c, _mm256_add_epi16(_mm256_unpackhi_epi8(l0, h0), _mm256_unpackhi_epi8(l1, h1)));
    }
    s32[0] = _mm256_add_epi32(s32[0], _mm256_cvtepi16_epi32(_mm256_castsi256_si128(a)));
    s32[1] = _mm256_add_epi32(s32[1], _mm256_cvtepi16_epi32(_mm256_castsi256_si128(c)));
    s32[2] = _mm256_add_epi32(s32[2], _mm256_cvtepi16_epi32(_mm256_extracti128_si256(a, 1)));
    s32[3] = _mm256_add_epi32(s32[3], _mm256_cvtepi16_epi32(_mm256_extracti128_si256(c, 1)));
  }
  const auto* d = reinterpret_cast<const __m128i*>(blk);
  const __m256 vdx = _mm256_set1_ps(dx);
  for (int j = 0; j < 4; ++j) {
    const __m256 dw = _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128(d + j)), vdx);
    acc[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s32[j]), dw, acc[j]);
  }
}

void matmul_t2x32(const MatmulArgs& a) {
  const int64_t nb = a.k / QK_K;
  const size_t group_bytes = a.w_row_bytes * kRows;
  constexpr size_t block_bytes = 2 * kRows + QK_K / 4 * kRows;  // 2112
  alignas(64) uint8_t tabs[kMaxTables * kBlockTables];
  alignas(32) float part[kRows];
  const int64_t g0 = a.row_begin / kRows, g1 = (a.row_end + kRows - 1) / kRows;
  for (int t0 = 0; t0 < a.n_tokens; t0 += kMaxTables) {
    const int tb = std::min(kMaxTables, a.n_tokens - t0);
    const int64_t cb = kMaxTables / tb;  // blocks per pass
    for (int64_t b0 = 0; b0 < nb; b0 += cb) {
      const int64_t b1 = std::min(nb, b0 + cb);
      for (int tt = 0; tt < tb; ++tt) {
        const auto* x = reinterpret_cast<const BlockQ8_K*>(static_cast<const uint8_t*>(a.x) +
                                                           (t0 + tt) * a.x_stride);
        for (int64_t b = b0; b < b1; ++b)
          build_tables(x[b], tabs + (tt * cb + (b - b0)) * kBlockTables);
      }
      for (int64_t g = g0; g < g1; ++g) {
        const uint8_t* gw = static_cast<const uint8_t*>(a.w) + g * group_bytes;
        const int64_t r0 = g * kRows;
        const bool full = r0 >= a.row_begin && r0 + kRows <= a.row_end;
        for (int tt = 0; tt < tb; ++tt) {
          const auto* x = reinterpret_cast<const BlockQ8_K*>(static_cast<const uint8_t*>(a.x) +
                                                             (t0 + tt) * a.x_stride);
          float* y = a.y + (t0 + tt) * a.y_stride;
          float* out = full ? y + r0 : part;
          if (!full) {
            for (int r = 0; r < kRows; ++r) {
              const int64_t row = r0 + r;
              part[r] = (b0 > 0 && row >= a.row_begin && row < a.row_end) ? y[row] : 0.0f;
            }
          }
          __m256 acc[4];
          for (int j = 0; j < 4; ++j)
            acc[j] = b0 == 0 && full ? _mm256_setzero_ps() : _mm256_loadu_ps(out + 8 * j);
          for (int64_t b = b0; b < b1; ++b)
            group_block(gw + b * block_bytes, tabs + (tt * cb + (b - b0)) * kBlockTables, x[b].d,
                        acc);
          for (int j = 0; j < 4; ++j) _mm256_storeu_ps(out + 8 * j, acc[j]);
          if (!full) {
            for (int r = 0; r < kRows; ++r) {
              const int64_t row = r0 + r;
              if (row >= a.row_begin && row < a.row_end) y[row] = part[r];
            }
          }
        }
      }
    }
  }
}

}  // namespace

// Both formats share the packed layout (TQ1_0's base-3 trits are unpacked at load time).
void gemv_tq2_0_q8_k_lut32(const MatmulArgs& a) { matmul_t2x32(a); }
void gemv_tq1_0_q8_k_lut32(const MatmulArgs& a) { matmul_t2x32(a); }

}  // namespace nibble::kernels::avx2
