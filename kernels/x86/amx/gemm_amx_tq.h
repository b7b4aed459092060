// AMX prefill GEMM for the ternary formats (TQ2_0, TQ1_0) on the t2x8 layout
// (kernels/pack/ternary.cpp: TQ1_0's trits are 2-bit codes there too), driven by gemm_amx
// (gemm_amx.h): 16 rows x 16 tokens per tile, K in chunks of 4 super-blocks, 64 elements per
// tile product (A 16 x 64 bytes, B 16 x 64 bytes: the tile shape AmxTiles takes from kKBytes).
//
// The t2x8 codes c = w + 1 (0..3, no sub-block scales) go unsigned into B: a 32-byte load of
// 16-element chunk s holds bit pair k of element 16s + 4k + i of row r in byte 4r + i, so
// ((v >> 2k) & 3) of two groups' loads side by side is B row 4s + k (elements 16s + 4k ..
// 16s + 4k + 3 of the 16 rows, VNNI order). tdpbsud (signed activations in A x unsigned codes)
// over the super-block's 4 tile products accumulates sum c x exactly in C (|.| <= 256 x 3 x
// 128); the GEMV's f32 step then takes off the Q8_K sum of the block (sum w x = sum c x -
// sum x, the same q8_k_sum) and does acc = fma(float(isum - xs), d_w x d_x, acc): the same
// integers and the same f32 instructions per lane as T2x8 (gemv_x8.h), so bit-identical to
// the decode GEMV for any token count, row range and thread split.
//
// Per token tile and chunk: the 4 super-blocks go to C tiles 0-3 and their tile products are
// issued interleaved (block 0 sub 0, block 1 sub 0, ..., block 3 sub 3), so consecutive
// tdpbsud never wait on each other; then the 4 C tiles are stored and the f32 step runs.
// Activations are copied into A order once per token group and chunk (64 KiB; read in place
// the 292-byte Q8_K rows make every 64-byte A row straddle two cache lines), the weights of a
// row tile are unpacked once per chunk (16 KiB) for the group's token tiles.
#pragma once

#include "kernels/x86/amx/gemm_amx.h"

namespace nibble::kernels::x86 {
namespace {

// Tile steps of their own (the A and B rows are 64 bytes here): C = 0; C += A x B (A: 16 x 64
// bytes at aq, B: 16 x 64 bytes at bq, both contiguous); C stored to c (16 x 16 int32). One
// asm statement each, with the bytes read and written named as operands (see NIBBLE_AMX_DP).
#define NIBBLE_AMX_TQ_ZERO(TC) __asm__ volatile("tilezero %%tmm" #TC ::)
#define NIBBLE_AMX_TQ_MAC(TC, TA, TB, aq, bq)                           \
  __asm__ volatile("tileloadd (%0,%2,1), %%tmm" #TA                     \
                   "\n\t"                                               \
                   "tileloadd (%1,%2,1), %%tmm" #TB                     \
                   "\n\t"                                               \
                   "tdpbsud %%tmm" #TB ", %%tmm" #TA ", %%tmm" #TC      \
                   :                                                    \
                   : "r"(aq), "r"(bq), "r"(static_cast<int64_t>(64)),   \
                     "m"(*reinterpret_cast<const int8_t(*)[1024]>(aq)), \
                     "m"(*reinterpret_cast<const uint8_t(*)[1024]>(bq)))
#define NIBBLE_AMX_TQ_STORE(TC, c)                               \
  __asm__ volatile("tilestored %%tmm" #TC ", (%1,%2,1)"          \
                   : "=m"(*reinterpret_cast<int32_t(*)[256]>(c)) \
                   : "r"(c), "r"(static_cast<int64_t>(64)))

struct AmxT2 {
  using Gemv = T2x8<Avx512Vnni>;
  static constexpr int kQK = QK_K;
  static constexpr int kKBytes = 64;           // elements per tile product
  static constexpr int64_t kChunk = 4;         // super-blocks per K chunk: one per C tile
  static constexpr int kSub = QK_K / kKBytes;  // tile products per super-block
  static constexpr size_t kBlockBytes = Gemv::kBlockBytes;  // 528
  struct Acts {
    alignas(64) int8_t qs[kAmxTiles][kChunk][kSub][kAmxTokens][kKBytes];  // 64 KiB
    alignas(64) float dx[kChunk][kAmxGroup];
    alignas(64) int32_t xs[kChunk][kAmxGroup];  // q8_k_sum, as T2x8::sums
  };
  struct Weights {
    alignas(64) uint8_t b[kChunk][kSub][16][64];  // 16 KiB, codes 0..3 in B order
    alignas(64) float dw[kChunk][16];
  };

  static void prep(const MatmulArgs& a, int tg, int n, int64_t b0, int64_t bn, Acts& pr) {
    const int padded = (n + kAmxTokens - 1) / kAmxTokens * kAmxTokens;
    for (int t = 0; t < padded; ++t) {
      const int tile = t / kAmxTokens, r = t % kAmxTokens;
      if (t >= n) {  // zero rows: their sums are 0 and never stored
        for (int64_t b = 0; b < bn; ++b) {
          for (int j = 0; j < kSub; ++j) std::memset(pr.qs[tile][b][j][r], 0, kKBytes);
          pr.dx[b][t] = 0, pr.xs[b][t] = 0;
        }
        continue;
      }
      const auto* x = reinterpret_cast<const BlockQ8_K*>(static_cast<const uint8_t*>(a.x) +
                                                         (tg + t) * a.x_stride) +
                      b0;
      for (int64_t b = 0; b < bn; ++b) {
        for (int j = 0; j < kSub; ++j)
          std::memcpy(pr.qs[tile][b][j][r], x[b].qs + kKBytes * j, kKBytes);
        pr.dx[b][t] = x[b].d;
        pr.xs[b][t] = q8_k_sum(x[b]);
      }
    }
  }

  static void unpack(const uint8_t* w, size_t gs, int64_t bn, Weights& wb) {
    const __m512i m2 = _mm512_set1_epi8(3);
    for (int64_t b = 0; b < bn; ++b) {
      const uint8_t* blk = w + b * kBlockBytes;
      amx_scales(blk, gs, wb.dw[b]);
      const uint8_t* qs = blk + 2 * kX8Rows;
      auto* rows = reinterpret_cast<uint8_t(*)[64]>(wb.b[b][0][0]);  // B row 4s + k
#pragma GCC unroll 4
      for (int s = 0; s < 16; ++s) {
        const __m512i v = amx_pair(qs + 32 * s, gs);
        _mm512_store_si512(rows[4 * s], _mm512_and_si512(v, m2));
        _mm512_store_si512(rows[4 * s + 1], _mm512_and_si512(_mm512_srli_epi16(v, 2), m2));
        _mm512_store_si512(rows[4 * s + 2], _mm512_and_si512(_mm512_srli_epi16(v, 4), m2));
        _mm512_store_si512(rows[4 * s + 3], _mm512_and_si512(_mm512_srli_epi16(v, 6), m2));
      }
    }
  }

  // The GEMV's f32 step for the 16 tokens of a tile: acc[t] += float(c[t] - xs[t]) x (d_w x
  // d_x[t]) (finish in gemv_x8.h, 16 rows a zmm).
  static void finish(__m512 (&acc)[kAmxTokens], const int32_t* c, const float* dw, const float* dx,
                     const int32_t* xs) {
    const __m512 vdw = _mm512_load_ps(dw);
#pragma GCC unroll 16
    for (int t = 0; t < kAmxTokens; ++t) {
      const __m512i v = _mm512_sub_epi32(_mm512_load_si512(c + 16 * t), _mm512_set1_epi32(xs[t]));
      acc[t] =
          _mm512_fmadd_ps(_mm512_cvtepi32_ps(v), _mm512_mul_ps(vdw, _mm512_set1_ps(dx[t])), acc[t]);
    }
  }

  static void tile(const MatmulArgs& a, const Acts& pr, const Weights& wb, int64_t g, int ng,
                   int tg, int tile, int nt, int64_t b0, int64_t bn) {
    const __mmask16 m = ng > 1 ? 0xFFFF : 0x00FF;
    float* y = a.y + static_cast<size_t>(tg + kAmxTokens * tile) * a.y_stride + g * kX8Rows;
    __m512 acc[kAmxTokens];
#pragma GCC unroll 16
    for (int t = 0; t < kAmxTokens; ++t)
      acc[t] =
          b0 > 0 && t < nt ? _mm512_maskz_loadu_ps(m, y + t * a.y_stride) : _mm512_setzero_ps();
    alignas(64) int32_t c[kChunk][kAmxTokens * 16];
    const auto& aq = pr.qs[tile];
    amx_fence();
    // Block i of the chunk in C tile i; A and B alternate between tmm4, 6 and tmm5, 7.
#define NIBBLE_AMX_TQ_BLOCK(i, TA, TB, j) \
  if (i < bn) NIBBLE_AMX_TQ_MAC(i, TA, TB, aq[i][j][0], wb.b[i][j][0])
    NIBBLE_AMX_TQ_ZERO(0);
    NIBBLE_AMX_TQ_ZERO(1);
    NIBBLE_AMX_TQ_ZERO(2);
    NIBBLE_AMX_TQ_ZERO(3);
#pragma GCC unroll 4
    for (int j = 0; j < kSub; ++j) {
      NIBBLE_AMX_TQ_BLOCK(0, 4, 6, j);
      NIBBLE_AMX_TQ_BLOCK(1, 5, 7, j);
      NIBBLE_AMX_TQ_BLOCK(2, 4, 6, j);
      NIBBLE_AMX_TQ_BLOCK(3, 5, 7, j);
    }
#undef NIBBLE_AMX_TQ_BLOCK
    NIBBLE_AMX_TQ_STORE(0, c[0]);
    if (bn > 1) NIBBLE_AMX_TQ_STORE(1, c[1]);
    if (bn > 2) NIBBLE_AMX_TQ_STORE(2, c[2]);
    if (bn > 3) NIBBLE_AMX_TQ_STORE(3, c[3]);
    for (int64_t b = 0; b < bn; ++b)
      finish(acc, c[b], wb.dw[b], pr.dx[b] + kAmxTokens * tile, pr.xs[b] + kAmxTokens * tile);
#pragma GCC unroll 16
    for (int t = 0; t < kAmxTokens; ++t)
      if (t < nt) _mm512_mask_storeu_ps(y + t * a.y_stride, m, acc[t]);
  }
};

}  // namespace
}  // namespace nibble::kernels::x86

// Registered ternary AMX entry points: one or two tokens go to the AVX-512 VNNI t2x8 GEMV (decode
// unchanged; at two tokens its in-place VNNI path was 2x the AMX tiles, whose 16-token tile
// costs the same for 2 tokens as for 16), three or more to the AMX tiles (at 3 tokens 0.9-1.3x
// the GEMV, which then takes its shift-and-mask path; at 4-15 1.4-5x). Both give the same floats.
#define NIBBLE_AMX_TQ_MIN 3
#define NIBBLE_X86_AMX_TQ_ENTRY(NAME)                                               \
  void NAME(const MatmulArgs& a) {                                                  \
    if (a.n_tokens < NIBBLE_AMX_TQ_MIN) return x86::matmul_x8<x86::AmxT2::Gemv>(a); \
    x86::gemm_amx<x86::AmxT2>(a);                                                   \
  }
