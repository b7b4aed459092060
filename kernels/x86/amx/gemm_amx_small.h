// AMX GEMM for 2-15 tokens (speculative verification, short prompts) on the x8 layouts, for
// Q4_0, Q8_0 (gemm_amx.h's unpack) and Q4_K (gemm_amx_k.h's prep and unpack), decision 35.
//
// The tile shapes are configured per call to the token count n: A and C have n rows (not 16),
// so a tile product reads only the n real activation rows (Q4_0 / Q8_0 straight from the
// activation rows, no copy) and stores only n C rows, and the f32 step runs for n tokens
// (a template over n: the accumulators stay in zmm). Per row tile (16 rows) and K chunk the
// weights are unpacked once into B-tile order and used by all n tokens in one pass, where the
// AVX-512 VNNI tiles (16 x 8 in zmm) cost 8 vpdpbusd per token and block and split 9 tokens
// into a tile of 8 and one of 1 (two passes over the unpacked weights).
//
// Bit-identical to the x8 GEMV, the VNNI tiles and the 16-token AMX tiles: the same exact
// per-block integer sums (tdpbssd / tdpbsud), the same f32 step per (row, token).
#pragma once

#include "kernels/x86/amx/gemm_amx.h"
#include "kernels/x86/amx/gemm_amx_k.h"

namespace nibble::kernels::x86 {
namespace {

// Tile configuration for n tokens (A, C: n rows), released at the end (as AmxTiles).
class AmxSmallTiles {
 public:
  explicit AmxSmallTiles(int n) {
    AmxConfig c;
    const auto rows = static_cast<uint8_t>(n);
    for (int i = 0; i < 4; ++i) c.rows[i] = rows, c.colsb[i] = 64;  // C
    for (int i = 4; i < 6; ++i) c.rows[i] = rows, c.colsb[i] = 32;  // A
    for (int i = 6; i < 8; ++i) c.rows[i] = 8, c.colsb[i] = 64;     // B
    // asm with the whole struct as input: GCC 12 at -O2 dropped the stores of rows / colsb
    // before _tile_loadconfig (seen here, with rows from the argument), leaving an empty config.
    __asm__ volatile("ldtilecfg %0" : : "m"(c));
  }
  ~AmxSmallTiles() { _tile_release(); }
  AmxSmallTiles(const AmxSmallTiles&) = delete;
  AmxSmallTiles& operator=(const AmxSmallTiles&) = delete;
};

// The n tokens' activations of blocks [b0, b0 + bn) in A-tile order (32-byte rows back to
// back: read in place, the 34-byte Q8_0 blocks put a line boundary inside every other row) and
// their d_x as f32.
struct AmxSmallDx {
  alignas(64) int8_t qs[kAmxChunk][kAmxTokens][QK];
  alignas(64) float dx[kAmxChunk][kAmxTokens];
};
inline void amx_small_dx(const MatmulArgs& a, int n, int64_t b0, int64_t bn, AmxSmallDx& p) {
  for (int t = 0; t < n; ++t) {
    const auto* x = reinterpret_cast<const BlockQ8_0*>(static_cast<const uint8_t*>(a.x) +
                                                       t * a.x_stride) + b0;
    for (int64_t b = 0; b < bn; ++b) {
      std::memcpy(p.qs[b][t], x[b].qs, QK);
      p.dx[b][t] = _cvtsh_ss(x[b].d);
    }
  }
}

// The weights of the next row tile (2 x8 groups, gs bytes apart; bb bytes a block), fetched
// block by block while this one computes: the unpack reads a whole K chunk at once, so without
// this the memory stream would stall at each unpack and idle during the tile products.
struct AmxNext {
  const uint8_t* w;
  size_t gs, bb;
  void fetch(int64_t b) const {
    if (!w) return;
    const char* p = reinterpret_cast<const char*>(w + b * bb);
    for (size_t o = 0; o < bb; o += 64) {
      _mm_prefetch(p + o, _MM_HINT_T0);
      _mm_prefetch(p + gs + o, _MM_HINT_T0);
    }
  }
};

// The GEMV's f32 step for NT tokens: acc[t] += float(c[t]) x (d_w x d_x[t]).
template <int NT>
inline void amx_small_finish(__m512 (&acc)[NT], const int32_t* c, const float* dw,
                             const float* dx) {
  const __m512 vdw = _mm512_load_ps(dw);
#pragma GCC unroll 16
  for (int t = 0; t < NT; ++t) {
    const __m512 f = _mm512_cvtepi32_ps(_mm512_load_si512(c + 16 * t));
    acc[t] = _mm512_fmadd_ps(f, _mm512_mul_ps(vdw, _mm512_set1_ps(dx[t])), acc[t]);
  }
}

// Q4_0 / Q8_0: the NT tokens against the row tile at group g (ng groups) for blocks
// [b0, b0 + bn), 4 blocks in flight as in amx_tile.
template <int NT>
void amx_small_tile(const MatmulArgs& a, const AmxSmallDx& p, const AmxWeights& wb, int64_t g,
                    int ng, int64_t b0, int64_t bn, const AmxNext& nx) {
  const __mmask16 m = ng > 1 ? 0xFFFF : 0x00FF;
  float* y = a.y + g * kX8Rows;
  __m512 acc[NT];
#pragma GCC unroll 16
  for (int t = 0; t < NT; ++t)
    acc[t] = b0 > 0 ? _mm512_maskz_loadu_ps(m, y + t * a.y_stride) : _mm512_setzero_ps();
  alignas(64) int32_t c[4][kAmxTokens * 16];
  const AmxA aq{p.qs[0][0], QK, kAmxTokens * QK};
  amx_fence();
#define NIBBLE_AMX_ISSUE(TC, TA, TB, bb) \
  if ((bb) < bn) NIBBLE_AMX_BLOCK(TC, TA, TB, aq.at(bb), aq.stride, wb.b[bb][0], c[TC])
#define NIBBLE_AMX_FINISH(i, bb) \
  if ((bb) < bn) amx_small_finish<NT>(acc, c[i], wb.dw[bb], p.dx[bb]), nx.fetch(bb)
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
#pragma GCC unroll 16
  for (int t = 0; t < NT; ++t) _mm512_mask_storeu_ps(y + t * a.y_stride, m, acc[t]);
}

// Q4_K: per super-block the 8 sub-block products into c[0..7], then the x8 GEMV's combination
// and finish_k per token (AmxQ4_K::finish's steps for NT tokens).
template <int NT>
void amx_small_tile_k(const MatmulArgs& a, const AmxQ4_K::Acts& pr, const AmxQ4_K::Weights& wb,
                      int64_t g, int ng, int64_t b0, int64_t bn, const AmxNext& nx) {
  const __mmask16 m = ng > 1 ? 0xFFFF : 0x00FF;
  float* y = a.y + g * kX8Rows;
  __m512 acc[NT];
#pragma GCC unroll 16
  for (int t = 0; t < NT; ++t)
    acc[t] = b0 > 0 ? _mm512_maskz_loadu_ps(m, y + t * a.y_stride) : _mm512_setzero_ps();
  alignas(64) int32_t c[8][kAmxTokens * 16];
  const auto* aq = pr.qs[0];
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
    nx.fetch(b);
    const __m512 dw = _mm512_load_ps(wb.dw[b]), dmw = _mm512_load_ps(wb.dmw[b]);
#pragma GCC unroll 16
    for (int t = 0; t < NT; ++t) {
      __m512i isum = _mm512_setzero_si512(), mins = _mm512_setzero_si512();
#pragma GCC unroll 8
      for (int s = 0; s < 8; ++s)
        isum = _mm512_add_epi32(isum, _mm512_mullo_epi32(_mm512_load_si512(c[s] + 16 * t),
                                                         _mm512_load_si512(wb.sc[j + s])));
#pragma GCC unroll 4
      for (int q = 0; q < 4; ++q)
        mins = _mm512_add_epi32(mins,
                                AmxZmm::madd_pair(_mm512_load_si512(wb.mn[b][q]), pr.xi[b][t][q]));
      acc[t] = AmxZmm::finish_k(acc[t], isum, mins, dw, dmw, pr.dx[b][t]);
    }
  }
#pragma GCC unroll 16
  for (int t = 0; t < NT; ++t) _mm512_mask_storeu_ps(y + t * a.y_stride, m, acc[t]);
}

// Formats for the driver: per K chunk prep (activations) and per row tile unpack + tile<NT>.
template <class U>
struct AmxSmallQ8 {
  using Gemv = typename U::Gemv;
  using Acts = AmxSmallDx;
  using Weights = AmxWeights;
  static constexpr int kQK = QK;
  static constexpr int64_t kChunk = kAmxChunk;
  static void prep(const MatmulArgs& a, int n, int64_t b0, int64_t bn, Acts& p) {
    amx_small_dx(a, n, b0, bn, p);
  }
  static void unpack(const uint8_t* w, size_t gs, int64_t bn, Weights& wb) {
    AmxQ8<U>::unpack(w, gs, bn, wb);
  }
  template <int NT>
  static void tile(const MatmulArgs& a, const Acts& p, const Weights& wb, int64_t g, int ng,
                   int64_t b0, int64_t bn, const AmxNext& nx) {
    amx_small_tile<NT>(a, p, wb, g, ng, b0, bn, nx);
  }
};

struct AmxSmallQ4_K {
  using Gemv = AmxQ4_K::Gemv;
  using Acts = AmxQ4_K::Acts;
  using Weights = AmxQ4_K::Weights;
  static constexpr int kQK = QK_K;
  static constexpr int64_t kChunk = AmxQ4_K::kChunk;
  static void prep(const MatmulArgs& a, int n, int64_t b0, int64_t bn, Acts& p) {
    AmxQ4_K::prep(a, 0, n, b0, bn, p);
  }
  static void unpack(const uint8_t* w, size_t gs, int64_t bn, Weights& wb) {
    AmxQ4_K::unpack(w, gs, bn, wb);
  }
  template <int NT>
  static void tile(const MatmulArgs& a, const Acts& p, const Weights& wb, int64_t g, int ng,
                   int64_t b0, int64_t bn, const AmxNext& nx) {
    amx_small_tile_k<NT>(a, p, wb, g, ng, b0, bn, nx);
  }
};

// The driver for NT tokens: K chunks (activations prepared once), row tiles (unpacked once).
template <class Fmt, int NT>
void gemm_amx_small_n(const MatmulArgs& a, int64_t f0, int64_t f1) {
  const size_t gbytes = a.w_row_bytes * kX8Rows;
  const int64_t nb = a.k / Fmt::kQK;
  const size_t bbytes = Fmt::Gemv::kBlockBytes;
  AmxSmallTiles tiles(NT);
  typename Fmt::Acts pr;
  typename Fmt::Weights wb;
  for (int64_t b0 = 0; b0 < nb; b0 += Fmt::kChunk) {
    const int64_t bn = std::min(Fmt::kChunk, nb - b0);
    Fmt::prep(a, NT, b0, bn, pr);
    for (int64_t g = f0; g < f1; g += 2) {
      const int ng = static_cast<int>(std::min<int64_t>(2, f1 - g));
      const auto* w = static_cast<const uint8_t*>(a.w) + g * gbytes + b0 * bbytes;
      Fmt::unpack(w, ng > 1 ? gbytes : 0, bn, wb);
      const int64_t gn = g + 2 < f1 ? g + 2 : -1;  // the next row tile of this chunk
      const AmxNext nx{gn < 0 ? nullptr : static_cast<const uint8_t*>(a.w) + gn * gbytes + b0 * bbytes,
                       gn + 1 < f1 ? gbytes : 0, bbytes};
      Fmt::template tile<NT>(a, pr, wb, g, ng, b0, bn, nx);
    }
  }
}

template <class Fmt, int NT>
void gemm_amx_small_pick(const MatmulArgs& a, int64_t f0, int64_t f1) {
  if constexpr (NT >= 2) {
    if (a.n_tokens == NT) return gemm_amx_small_n<Fmt, NT>(a, f0, f1);
    gemm_amx_small_pick<Fmt, NT - 1>(a, f0, f1);
  }
}

// 2 <= a.n_tokens < 16. Partly covered x8 groups at either end go to the GEMV code.
template <class Fmt>
void gemm_amx_small(const MatmulArgs& a) {
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
  gemm_amx_small_pick<Fmt, kAmxTokens - 1>(a, f0, f1);
}

}  // namespace
}  // namespace nibble::kernels::x86

// Registered AMX entry points for Q4_0 / Q8_0 / Q4_K (kernels/registry_x86.inc): one token goes
// to the AVX-512 VNNI x8 GEMV on the same layout (decode unchanged), 2-15 tokens to the tiles
// above, 16 and more to the 16-token AMX tiles (gemm_amx). All give the same floats.
#define NIBBLE_X86_AMX_SMALL_ENTRY(NAME, FMT, SMALL)                   \
  void NAME(const MatmulArgs& a) {                                     \
    if (a.n_tokens == 1) return x86::matmul_x8<x86::FMT::Gemv>(a);     \
    if (a.n_tokens < x86::kAmxTokens) return x86::gemm_amx_small<x86::SMALL>(a); \
    x86::gemm_amx<x86::FMT>(a);                                        \
  }
