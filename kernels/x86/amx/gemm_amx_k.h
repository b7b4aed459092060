// AMX prefill GEMM for Q4_K on the q4_k_x8 layout (kernels/pack/q4_k.cpp), driven by
// gemm_amx (gemm_amx.h): 16 rows x 16 tokens per tile, K in chunks of 4 super-blocks.
//
// Per 32-element sub-block j of a super-block: tdpbsud (signed activations in A x unsigned
// nibbles q in 0..15 in B) gives the exact sum of q x over the sub-block (|.| <= 32 x 15 x
// 128); the 8 sums of a super-block are stored (c[8], 8 KiB) and combined per token as the x8
// GEMV does: isum = sum_j sc_j x sum_j (vpmulld, |isum| <= 8 x 61440 x 63 < 2^31), mins =
// sum_j mn_j x bsum_j (vpmaddwd on the prepared int16 pairs, as the zmm tiles), then the
// GEMV's f32 step (finish_k: acc = fma(float(isum), d_w d_x, acc), then fnmadd of float(mins)
// x dmin_w d_x). Integer sums exact, the same f32 instructions per lane: bit-identical to the
// GEMV and the zmm tiles.
#pragma once

#include "kernels/x86/amx/gemm_amx.h"

namespace nibble::kernels::x86 {
namespace {

struct AmxQ4_K {
  using Gemv = Q4_Kx8<Avx512Vnni>;
  static constexpr int kQK = QK_K;
  static constexpr int64_t kChunk = 4;                 // super-blocks per K chunk
  static constexpr int64_t kSub = kChunk * 8;          // 32-element sub-blocks per chunk
  static constexpr size_t kBlockBytes = Gemv::kBlockBytes;
  struct Acts {
    alignas(64) int8_t qs[kAmxTiles][kSub][kAmxTokens][32];  // 64 KiB
    alignas(64) float dx[kChunk][kAmxGroup];
    alignas(64) int32_t xi[kChunk][kAmxGroup][4];  // bsum pairs (sub-blocks 2p, 2p + 1)
  };
  struct Weights {
    alignas(64) int8_t b[kSub][8][64];  // 16 KiB, unsigned nibbles
    alignas(64) int32_t sc[kSub][16];   // sub-block scales per row
    alignas(64) int16_t mn[kChunk][4][32];  // mins of sub-blocks 2p, 2p + 1 as int16 pairs
    alignas(64) float dw[kChunk][16], dmw[kChunk][16];
  };

  static void prep(const MatmulArgs& a, int tg, int n, int64_t b0, int64_t bn, Acts& pr) {
    const int padded = (n + kAmxTokens - 1) / kAmxTokens * kAmxTokens;
    for (int t = 0; t < padded; ++t) {
      const int tile = t / kAmxTokens, r = t % kAmxTokens;
      if (t >= n) {
        for (int64_t j = 0; j < bn * 8; ++j) std::memset(pr.qs[tile][j][r], 0, 32);
        for (int64_t b = 0; b < bn; ++b) {
          pr.dx[b][t] = 0;
          for (int p = 0; p < 4; ++p) pr.xi[b][t][p] = 0;
        }
        continue;
      }
      const auto* x = reinterpret_cast<const BlockQ8_K*>(static_cast<const uint8_t*>(a.x) +
                                                         (tg + t) * a.x_stride) + b0;
      for (int64_t b = 0; b < bn; ++b) {
        for (int j = 0; j < 8; ++j) std::memcpy(pr.qs[tile][8 * b + j][r], x[b].qs + 32 * j, 32);
        for (int p = 0; p < 4; ++p) {
          const int16_t* bs = x[b].bsums + 4 * p;
          const uint32_t lo = static_cast<uint16_t>(bs[0] + bs[1]),
                         hi = static_cast<uint16_t>(bs[2] + bs[3]);
          pr.xi[b][t][p] = static_cast<int32_t>(lo | hi << 16);
        }
        pr.dx[b][t] = x[b].d;
      }
    }
  }

  static void unpack(const uint8_t* w, size_t gs, int64_t bn, Weights& wb) {
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    for (int64_t b = 0; b < bn; ++b) {
      const uint8_t* blk = w + b * kBlockBytes;
      const uint8_t *sc = blk + 4 * kX8Rows, *mn = sc + 8 * kX8Rows, *qs = mn + 8 * kX8Rows;
      amx_scales(blk, gs, wb.dw[b]);
      amx_scales(blk + 2 * kX8Rows, gs, wb.dmw[b]);
      for (int j = 0; j < 8; ++j) {
        const __m128i s =
            _mm_unpacklo_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(sc + 8 * j)),
                               _mm_loadl_epi64(reinterpret_cast<const __m128i*>(sc + 8 * j + gs)));
        _mm512_store_si512(wb.sc[8 * b + j], _mm512_cvtepu8_epi32(s));
#pragma GCC unroll 4
        for (int l = 0; l < 4; ++l) {
          const __m512i v = amx_pair(qs + 128 * j + 32 * l, gs);
          _mm512_store_si512(wb.b[8 * b + j][2 * l], _mm512_and_si512(v, m4));
          _mm512_store_si512(wb.b[8 * b + j][2 * l + 1],
                             _mm512_and_si512(_mm512_srli_epi16(v, 4), m4));
        }
      }
      for (int p = 0; p < 4; ++p) _mm512_store_si512(wb.mn[b][p], AmxZmm::k_mins16(mn + 16 * p, gs));
    }
  }

  // Per token: the super-block's integer sums from the 8 stored sub-block tiles, then finish_k.
  static void finish(__m512 (&acc)[kAmxTokens], const int32_t (*c)[kAmxTokens * 16],
                     const Weights& wb, int64_t b, const float* dx, const int32_t (*xi)[4]) {
    const __m512 dw = _mm512_load_ps(wb.dw[b]), dmw = _mm512_load_ps(wb.dmw[b]);
#pragma GCC unroll 16
    for (int t = 0; t < kAmxTokens; ++t) {
      __m512i isum = _mm512_setzero_si512(), mins = _mm512_setzero_si512();
#pragma GCC unroll 8
      for (int j = 0; j < 8; ++j)
        isum = _mm512_add_epi32(isum, _mm512_mullo_epi32(_mm512_load_si512(c[j] + 16 * t),
                                                         _mm512_load_si512(wb.sc[8 * b + j])));
#pragma GCC unroll 4
      for (int p = 0; p < 4; ++p)
        mins = _mm512_add_epi32(mins, AmxZmm::madd_pair(_mm512_load_si512(wb.mn[b][p]), xi[t][p]));
      acc[t] = AmxZmm::finish_k(acc[t], isum, mins, dw, dmw, dx[t]);
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
    alignas(64) int32_t c[8][kAmxTokens * 16];
    // Q4_K reads A from the prepared copy for every tile: in place (as Q4_0 / Q8_0 do) the
    // 292-byte Q8_K rows measured 12 % slower (line-crossing loads) and no faster in small
    // row chunks.
    const auto* aq = pr.qs[tile];
    amx_fence();
    for (int64_t b = 0; b < bn; ++b) {
      const int64_t j = 8 * b;
      NIBBLE_AMX_DP(tdpbsud, 0, 4, 6, aq[j][0], 32, wb.b[j][0], c[0]);
      NIBBLE_AMX_DP(tdpbsud, 1, 5, 7, aq[j + 1][0], 32, wb.b[j + 1][0], c[1]);
      NIBBLE_AMX_DP(tdpbsud, 2, 4, 6, aq[j + 2][0], 32, wb.b[j + 2][0], c[2]);
      NIBBLE_AMX_DP(tdpbsud, 3, 5, 7, aq[j + 3][0], 32, wb.b[j + 3][0], c[3]);
      NIBBLE_AMX_DP(tdpbsud, 0, 4, 6, aq[j + 4][0], 32, wb.b[j + 4][0], c[4]);
      NIBBLE_AMX_DP(tdpbsud, 1, 5, 7, aq[j + 5][0], 32, wb.b[j + 5][0], c[5]);
      NIBBLE_AMX_DP(tdpbsud, 2, 4, 6, aq[j + 6][0], 32, wb.b[j + 6][0], c[6]);
      NIBBLE_AMX_DP(tdpbsud, 3, 5, 7, aq[j + 7][0], 32, wb.b[j + 7][0], c[7]);
      finish(acc, c, wb, b, pr.dx[b] + kAmxTokens * tile, pr.xi[b] + kAmxTokens * tile);
    }
#pragma GCC unroll 16
    for (int t = 0; t < kAmxTokens; ++t)
      if (t < nt) _mm512_mask_storeu_ps(y + t * a.y_stride, m, acc[t]);
  }
};

}  // namespace
}  // namespace nibble::kernels::x86
