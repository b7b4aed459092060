// Prefill GEMM on Intel AMX (AMX-TILE + AMX-INT8) over the 8-row interleaved layouts q4_0_x8
// and q8_0_x8 (kernels/pack/), the layouts the x8 GEMV and the AVX-512 VNNI tiles
// (kernels/x86/common/gemm_x8.h) already read: no layout of its own, one copy of the weights.
//
// Tiles (palette 1, configured per call and thread, released at the end of the call):
//   tmm0-3  C: 16 tokens x 16 rows int32 (64 bytes a row), 4 blocks in flight
//   tmm4-5  A: 16 tokens x 32 int8 (the block's 32 activations of each token)
//   tmm6-7  B: 8 x 64 int8 (VNNI order: row k4 holds elements 4k4..4k4+3 of the 16 rows)
// tdpbssd (signed x signed) gives C[t][r] = sum_i x_t[i] w_r[i] per 32-element block with the
// weights as signed int8 (Q4_0: q - 8, Q8_0: as stored), i.e. exactly the GEMV's isum - xs
// (|sum| <= 32 x 128 x 128 < 2^31). The x8 layouts hold, per 32-byte load, 4 consecutive
// elements of 8 rows, one row per 4 bytes: two groups side by side are one B row, which is
// why a row tile is two x8 groups (16 rows), as for the zmm tiles.
//
// Bit-identical to the x8 GEMV and the VNNI tiles: per (row, token) the block sums are the
// same exact integers, and the f32 step is the GEMV's, acc = fma(float(isum - xs), d_w x d_x,
// acc), block after block (C is stored to the stack and read back one token a row, 16 rows a
// zmm, so d_w x d_x is the same product per lane). Partial row groups go to the x8 GEMV code.
//
// Loop order: K in chunks of 32 blocks; per chunk and group of up to 64 tokens the d_x are
// converted to f32 once; full 16-token tiles load A straight from the activation rows (stride
// x_stride: no copy, which mattered for the small row chunks of a 2-thread step: 1.1-1.4x at
// 16 rows a call), a last partial tile from a zero-padded copy; per row tile the chunk's weights are unpacked once into B-tile
// order (Q4_0: and / shift / subtract 8; Q8_0: the two groups' rows side by side) and used by
// the group's 4 token tiles. f32 accumulators stay in zmm over a chunk and go through y
// between chunks.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "kernels/x86/common/gemm_x8.h"
#include "kernels/x86/common/gemv_x8.h"

namespace nibble::kernels::x86 {
namespace {

using AmxZmm = GemmZmm<Avx512Vnni>;               // zmm helpers of the VNNI tiles (Q4_K)
constexpr int kAmxTokens = 16;                     // tokens per tile (rows of A and C)
constexpr int kAmxGroup = 64;                      // tokens prepared at once
constexpr int kAmxTiles = kAmxGroup / kAmxTokens;  // token tiles per group
constexpr int64_t kAmxChunk = 32;                  // blocks per K chunk (1024 elements)

struct alignas(64) AmxConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};
static_assert(sizeof(AmxConfig) == 64);

// The tile configuration for this thread for the lifetime of the object (AMX state is per
// thread: every pool thread configures its own), released after (the OS then need not save
// the 8 KiB of tile data on a context switch).
// k_bytes: activations per tile product (A: 16 x k_bytes, B: k_bytes / 4 x 64); 32, or 64 for
// the ternary kernel (gemm_amx_tq.h).
class AmxTiles {
 public:
  explicit AmxTiles(int k_bytes = 32) {
    AmxConfig c;
    for (int i = 0; i < 4; ++i) c.rows[i] = kAmxTokens, c.colsb[i] = 64;  // C
    for (int i = 4; i < 6; ++i)
      c.rows[i] = kAmxTokens, c.colsb[i] = static_cast<uint16_t>(k_bytes);  // A
    for (int i = 6; i < 8; ++i)
      c.rows[i] = static_cast<uint8_t>(k_bytes / 4), c.colsb[i] = 64;  // B
    _tile_loadconfig(&c);
  }
  ~AmxTiles() { _tile_release(); }
  AmxTiles(const AmxTiles&) = delete;
  AmxTiles& operator=(const AmxTiles&) = delete;
};

// Activations of one token group and K chunk in A-tile order.
struct AmxActs {
  alignas(64) int8_t qs[kAmxChunk][kAmxTokens][QK];  // a partial token tile: 16 KiB
  alignas(64) float dx[kAmxChunk][kAmxGroup];                    // d_x per block and token
};
// Weights of one row tile (two x8 groups) and K chunk in B-tile order.
struct AmxWeights {
  alignas(64) int8_t b[kAmxChunk][8][64];  // 16 KiB
  alignas(64) float dw[kAmxChunk][16];     // d_w per block and row
};

// Two groups' 32-byte runs at p and p + gs as one 64-byte B row.
inline __m512i amx_pair(const uint8_t* p, size_t gs) {
  const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + gs));
  return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}
inline void amx_scales(const uint8_t* p, size_t gs, float* dw) {
  const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + gs));
  _mm512_store_ps(dw, _mm512_cvtph_ps(_mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1)));
}

// Q4_0 x8 (144-byte blocks: d[8], qs[4][32]): load l holds elements 8l..8l+3 (low nibbles) and
// 8l+4..8l+7 (high nibbles) of every row, i.e. B rows 2l and 2l + 1, as q - 8.
struct AmxQ4_0 {
  using Gemv = Q4_0x8<Avx512Vnni>;
  static constexpr size_t kBlockBytes = Gemv::kBlockBytes;
  static void unpack_block(const uint8_t* blk, size_t gs, int8_t (*b)[64], float* dw) {
    amx_scales(blk, gs, dw);
    const __m512i m4 = _mm512_set1_epi8(0x0F), e8 = _mm512_set1_epi8(8);
#pragma GCC unroll 4
    for (int l = 0; l < 4; ++l) {
      const __m512i v = amx_pair(blk + 2 * kX8Rows + 32 * l, gs);
      _mm512_store_si512(b[2 * l], _mm512_sub_epi8(_mm512_and_si512(v, m4), e8));
      _mm512_store_si512(b[2 * l + 1],
                         _mm512_sub_epi8(_mm512_and_si512(_mm512_srli_epi16(v, 4), m4), e8));
    }
  }
};

// Q8_0 x8 (272-byte blocks: d[8], qs[8][32]): load l holds elements 4l..4l+3, B row l.
struct AmxQ8_0 {
  using Gemv = Q8_0x8<Avx512Vnni>;
  static constexpr size_t kBlockBytes = Gemv::kBlockBytes;
  static void unpack_block(const uint8_t* blk, size_t gs, int8_t (*b)[64], float* dw) {
    amx_scales(blk, gs, dw);
#pragma GCC unroll 8
    for (int l = 0; l < 8; ++l) _mm512_store_si512(b[l], amx_pair(blk + 2 * kX8Rows + 32 * l, gs));
  }
};

// d_x of tokens [tg, tg + n) and blocks [b0, b0 + bn) as f32; a last, partial token tile's
// activations copied into A-tile order with zero rows past n (their sums are 0 and never
// stored). Full tiles read the activation rows in place (amx_a).
inline void amx_prep(const MatmulArgs& a, int tg, int n, int64_t b0, int64_t bn, AmxActs& pr) {
  const int padded = (n + kAmxTokens - 1) / kAmxTokens * kAmxTokens;
  for (int t = 0; t < padded; ++t) {
    const int tile = t / kAmxTokens, r = t % kAmxTokens;
    if (t >= n) {
      for (int64_t b = 0; b < bn; ++b) std::memset(pr.qs[b][r], 0, QK), pr.dx[b][t] = 0;
      continue;
    }
    const auto* x = reinterpret_cast<const BlockQ8_0*>(static_cast<const uint8_t*>(a.x) +
                                                       (tg + t) * a.x_stride) + b0;
    const bool copy = (tile + 1) * kAmxTokens > n;
    for (int64_t b = 0; b < bn; ++b) {
      if (copy) std::memcpy(pr.qs[b][r], x[b].qs, QK);
      pr.dx[b][t] = _cvtsh_ss(x[b].d);
    }
  }
}

// One block of a token tile: C = A x B into tile TC (A: 16 rows of 32 bytes at aq, `as` bytes
// apart; B: 8 x 64 bytes at bq), stored to c (16 x 16 int32). One asm statement instead of
// GCC's tile intrinsics: those paste the tile number into the text (so no template), and their
// store clobbers all memory, which kept the 16 f32 accumulators in memory (a load and a store
// per token and block); the operands here name the bytes of B read and of c written. A is
// read from the caller's activations or from the prepared copy, both written before the
// tile function runs (amx_fence at its start).
#define NIBBLE_AMX_DP(OP, TC, TA, TB, aq, as, bq, c)                                         \
  __asm__ volatile("tilezero %%tmm" #TC "\n\t"                                              \
                   "tileloadd (%1,%4,1), %%tmm" #TA "\n\t"                                  \
                   "tileloadd (%2,%5,1), %%tmm" #TB "\n\t"                                  \
                   #OP " %%tmm" #TB ", %%tmm" #TA ", %%tmm" #TC "\n\t"                       \
                   "tilestored %%tmm" #TC ", (%3,%5,1)"                                     \
                   : "=m"(*reinterpret_cast<int32_t(*)[256]>(c))                            \
                   : "r"(aq), "r"(bq), "r"(c), "r"(static_cast<int64_t>(as)),               \
                     "r"(static_cast<int64_t>(64)),                                         \
                     "m"(*reinterpret_cast<const int8_t(*)[512]>(bq)))
#define NIBBLE_AMX_BLOCK(TC, TA, TB, aq, as, bq, c) \
  NIBBLE_AMX_DP(tdpbssd, TC, TA, TB, aq, as, bq, c)
inline void amx_fence() { __asm__ volatile("" ::: "memory"); }

// Where a token tile's A rows are: a full tile reads the 16 activation rows in place (block b
// at p + b x step, rows `stride` bytes apart), a partial one the zero-padded copy.
struct AmxA {
  const int8_t* p;
  int64_t stride, step;
  const int8_t* at(int64_t b) const { return p + b * step; }
};
template <class XBlock>
inline AmxA amx_a(const MatmulArgs& a, const int8_t* copy, int64_t copy_step, int tg, int tile,
                  int nt, int64_t b0) {
  if (nt < kAmxTokens) return {copy, 32, copy_step};
  const auto* x = static_cast<const uint8_t*>(a.x) +
                  static_cast<size_t>(tg + kAmxTokens * tile) * a.x_stride + b0 * sizeof(XBlock);
  return {reinterpret_cast<const int8_t*>(x + offsetof(XBlock, qs)),
          static_cast<int64_t>(a.x_stride), static_cast<int64_t>(sizeof(XBlock))};
}

// The GEMV's f32 step for the 16 tokens of a tile: acc[t] += float(c[t]) x (d_w x d_x[t]).
inline void amx_finish(__m512 (&acc)[kAmxTokens], const int32_t* c, const float* dw,
                       const float* dx) {
  const __m512 vdw = _mm512_load_ps(dw);
#pragma GCC unroll 16
  for (int t = 0; t < kAmxTokens; ++t) {
    const __m512 f = _mm512_cvtepi32_ps(_mm512_load_si512(c + 16 * t));
    acc[t] = _mm512_fmadd_ps(f, _mm512_mul_ps(vdw, _mm512_set1_ps(dx[t])), acc[t]);
  }
}

// Token tile `tile` of the group at tg (nt valid tokens) against the row tile at group g (ng =
// 2 groups, or 1: only the low 8 rows are real) for blocks [b0, b0 + bn).
inline void amx_tile(const MatmulArgs& a, const AmxActs& pr, const AmxWeights& wb, int64_t g,
                     int ng, int tg, int tile, int nt, int64_t b0, int64_t bn) {
  const __mmask16 m = ng > 1 ? 0xFFFF : 0x00FF;
  float* y = a.y + static_cast<size_t>(tg + kAmxTokens * tile) * a.y_stride + g * kX8Rows;
  __m512 acc[kAmxTokens];
#pragma GCC unroll 16
  for (int t = 0; t < kAmxTokens; ++t)
    acc[t] = b0 > 0 && t < nt ? _mm512_maskz_loadu_ps(m, y + t * a.y_stride) : _mm512_setzero_ps();
  // Software-pipelined over 4 C tiles: block b's tile work is issued 3 blocks before its f32
  // step reads the sums (tdpbssd has a long latency: with 2 tiles in flight it ran at about
  // half its throughput), so the AMX unit and the vector ports overlap. Block b's sums are in
  // tile b % 4 and c[b % 4]; A and B tiles alternate between 4, 6 and 5, 7.
  alignas(64) int32_t c[4][kAmxTokens * 16];
  const float* dx = pr.dx[0] + kAmxTokens * tile;
  const AmxA aq = amx_a<BlockQ8_0>(a, pr.qs[0][0], kAmxTokens * QK, tg, tile, nt, b0);
  amx_fence();
#define NIBBLE_AMX_ISSUE(TC, TA, TB, bb) \
  if ((bb) < bn) NIBBLE_AMX_BLOCK(TC, TA, TB, aq.at(bb), aq.stride, wb.b[bb][0], c[TC])
#define NIBBLE_AMX_FINISH(i, bb) \
  if ((bb) < bn) amx_finish(acc, c[i], wb.dw[bb], dx + (bb) * kAmxGroup)
  NIBBLE_AMX_ISSUE(0, 4, 6, 0);
  NIBBLE_AMX_ISSUE(1, 5, 7, 1);
  NIBBLE_AMX_ISSUE(2, 4, 6, 2);
  for (int64_t b = 0; b < bn; b += 4) {
    NIBBLE_AMX_ISSUE(3, 5, 7, b + 3);
    NIBBLE_AMX_FINISH(0, b);
    NIBBLE_AMX_ISSUE(0, 4, 6, b + 4);
    NIBBLE_AMX_FINISH(1, b + 1);
    NIBBLE_AMX_ISSUE(1, 5, 7, b + 5);
    NIBBLE_AMX_FINISH(2, b + 2);
    NIBBLE_AMX_ISSUE(2, 4, 6, b + 6);
    NIBBLE_AMX_FINISH(3, b + 3);
  }
#undef NIBBLE_AMX_FINISH
#undef NIBBLE_AMX_ISSUE
  // Unrolled with a test, not a loop to nt: a runtime index would keep acc[] in memory.
#pragma GCC unroll 16
  for (int t = 0; t < kAmxTokens; ++t)
    if (t < nt) _mm512_mask_storeu_ps(y + t * a.y_stride, m, acc[t]);
}

// Q4_0 / Q8_0 (U: AmxQ4_0 or AmxQ8_0) in the shape gemm_amx drives: activations, weights,
// prep, unpack and the token tile of 32-element blocks.
template <class U>
struct AmxQ8 {
  using Gemv = typename U::Gemv;
  using Acts = AmxActs;
  using Weights = AmxWeights;
  static constexpr int kQK = QK;
  static constexpr int64_t kChunk = kAmxChunk;
  static constexpr size_t kBlockBytes = U::kBlockBytes;
  static void prep(const MatmulArgs& a, int tg, int n, int64_t b0, int64_t bn, Acts& pr) {
    amx_prep(a, tg, n, b0, bn, pr);
  }
  static void unpack(const uint8_t* w, size_t gs, int64_t bn, Weights& wb) {
    for (int64_t b = 0; b < bn; ++b) U::unpack_block(w + b * kBlockBytes, gs, wb.b[b], wb.dw[b]);
  }
  static void tile(const MatmulArgs& a, const Acts& pr, const Weights& wb, int64_t g, int ng,
                   int tg, int tile, int nt, int64_t b0, int64_t bn) {
    amx_tile(a, pr, wb, g, ng, tg, tile, nt, b0, bn);
  }
};

// Bytes of activations per tile product: Fmt::kKBytes where a format sets it, else 32.
template <class Fmt>
constexpr int amx_k_bytes() {
  if constexpr (requires { Fmt::kKBytes; })
    return Fmt::kKBytes;
  else
    return 32;
}

// The driver: K chunks, token groups (prepared once), row tiles (unpacked once), token tiles.
template <class Fmt>
void gemm_amx(const MatmulArgs& a) {
  // Full groups [f0, f1); a partly covered group at either end goes to the GEMV code.
  const int64_t f0 = (a.row_begin + kX8Rows - 1) / kX8Rows, f1 = a.row_end / kX8Rows;
  auto ragged = [&](int64_t r0, int64_t r1) {
    MatmulArgs s = a;
    s.row_begin = std::max(r0, a.row_begin);
    s.row_end = std::min(r1, a.row_end);
    if (s.row_begin < s.row_end) matmul_x8<typename Fmt::Gemv>(s);
  };
  if (f0 >= f1) return ragged(a.row_begin, a.row_end);
  if (a.row_begin < f0 * kX8Rows) ragged(a.row_begin, f0 * kX8Rows);
  if (a.row_end > f1 * kX8Rows) ragged(f1 * kX8Rows, a.row_end);
  const size_t gbytes = a.w_row_bytes * kX8Rows;
  const int64_t nb = a.k / Fmt::kQK;
  AmxTiles tiles(amx_k_bytes<Fmt>());
  typename Fmt::Acts pr;
  typename Fmt::Weights wb;
  for (int64_t b0 = 0; b0 < nb; b0 += Fmt::kChunk) {
    const int64_t bn = std::min(Fmt::kChunk, nb - b0);
    for (int tg = 0; tg < a.n_tokens; tg += kAmxGroup) {
      const int n = std::min(kAmxGroup, a.n_tokens - tg);
      Fmt::prep(a, tg, n, b0, bn, pr);
      for (int64_t g = f0; g < f1; g += 2) {
        const int ng = static_cast<int>(std::min<int64_t>(2, f1 - g));
        const auto* w = static_cast<const uint8_t*>(a.w) + g * gbytes + b0 * Fmt::kBlockBytes;
        Fmt::unpack(w, ng > 1 ? gbytes : 0, bn, wb);
        for (int tile = 0; tile * kAmxTokens < n; ++tile)
          Fmt::tile(a, pr, wb, g, ng, tg, tile, std::min(kAmxTokens, n - tile * kAmxTokens), b0,
                    bn);
      }
    }
  }
}

}  // namespace
}  // namespace nibble::kernels::x86
