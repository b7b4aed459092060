// AMX GEMM for 2-15 tokens (speculative verification, short prompts) on the x8 layouts, for
// Q4_0, Q8_0 (gemm_amx.h's unpack) and Q4_K (gemm_amx_k.h's prep and unpack), decisions 35, 42.
//
// The tile shapes are configured per call to the token count n: A and C have n rows (not 16),
// so a tile product reads only the n real activation rows (Q4_0 / Q8_0: in place, one row per
// token, x_stride apart) and stores only n C rows, and the f32 step runs for n tokens
// (a template over n: the accumulators stay in zmm). Per row tile (16 rows) and K chunk the
// weights are unpacked once into B-tile order and used by all n tokens in one pass (Q4_0 /
// Q8_0: row tiles outer, the next chunk unpacked during this one's products), where the
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

// The d_x of NT tokens for blocks [b0, b1) as f32 (per block the NT tokens' back to back),
// converted once per call for a span of K (at most kAmxSmallCap token-blocks), not once per row
// tile. The A tiles read the activation rows in place (block b of token t at x + t x x_stride +
// b x 34 + 2): a copy into 32-byte rows (decision 42) cost a memcpy per token-block and call,
// and the calls of a verification pass are many (decision 51).
constexpr int64_t kAmxSmallCap = 3072;
struct AmxSmallActs {
  alignas(64) float dx[kAmxSmallCap];
};
template <int NT>
inline void amx_small_prep(const MatmulArgs& a, int64_t b0, int64_t b1, AmxSmallActs& p) {
  for (int t = 0; t < NT; ++t) {
    const auto* x = reinterpret_cast<const BlockQ8_0*>(static_cast<const uint8_t*>(a.x) +
                                                       t * a.x_stride);
    for (int64_t b = b0; b < b1; ++b) p.dx[(b - b0) * NT + t] = _cvtsh_ss(x[b].d);
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
// The next chunk's unpack (U: AmxQ4_0 / AmxQ8_0), one block at a time, run between this
// chunk's tile products so that its loads wait on memory while the AMX unit computes.
template <class U>
struct AmxUnpackNext {
  const uint8_t* w;  // nullptr: no next chunk
  size_t gs;
  int64_t bn;
  AmxWeights* wb;
  void block(int64_t b) const {
    if (b < bn) U::unpack_block(w + b * U::kBlockBytes, gs, wb->b[b], wb->dw[b]);
  }
};

// A rows: the activation rows in place from block b0 on; d_x at dx + b x NT.
template <class U, int NT>
void amx_small_tile(const MatmulArgs& a, const float* dx, const AmxWeights& wb,
                    int64_t g, int ng, int64_t b0, int64_t bn, const AmxNext& nx,
                    const AmxUnpackNext<U>& un) {
  const __mmask16 m = ng > 1 ? 0xFFFF : 0x00FF;
  float* y = a.y + g * kX8Rows;
  __m512 acc[NT];
#pragma GCC unroll 16
  for (int t = 0; t < NT; ++t)
    acc[t] = b0 > 0 ? _mm512_maskz_loadu_ps(m, y + t * a.y_stride) : _mm512_setzero_ps();
  alignas(64) int32_t c[4][kAmxTokens * 16];
  const auto* xq = static_cast<const uint8_t*>(a.x) + b0 * sizeof(BlockQ8_0);
  const AmxA aq{reinterpret_cast<const int8_t*>(xq + offsetof(BlockQ8_0, qs)),
                static_cast<int64_t>(a.x_stride), static_cast<int64_t>(sizeof(BlockQ8_0))};
  amx_fence();
#define NIBBLE_AMX_ISSUE(TC, TA, TB, bb) \
  if ((bb) < bn) NIBBLE_AMX_BLOCK(TC, TA, TB, aq.at(bb), aq.stride, wb.b[bb][0], c[TC])
#define NIBBLE_AMX_FINISH(i, bb) \
  if ((bb) < bn)                 \
  amx_small_finish<NT>(acc, c[i], wb.dw[bb], dx + (bb) * NT), nx.fetch(bb), un.block(bb)
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

// Where the Q4_0 / Q8_0 driver is: row tile (first x8 group g), K span [k0, ...), chunk b0.
struct AmxSmallCursor {
  int64_t g, k0, b0;
  // The next chunk: along the span, then the next row tile, then the next span; false at the end.
  bool advance(int64_t f0, int64_t f1, int64_t nb, int64_t span) {
    b0 += kAmxChunk;
    if (b0 < std::min(nb, k0 + span)) return true;
    b0 = k0, g += 2;
    if (g < f1) return true;
    g = f0, k0 += span, b0 = k0;
    return k0 < nb;
  }
};

// Q4_0 / Q8_0 (U: AmxQ4_0, AmxQ8_0) for NT tokens. Row tiles outer, K chunks inner: each row
// tile's two x8 groups are read front to back as two sequential streams, the order the
// hardware prefetcher and the decode GEMV's stream have; the activations of a K span are
// prepared once for all row tiles. The weights are double-buffered: the next chunk is unpacked
// block by block between this chunk's tile products (its loads wait on memory while the AMX
// unit works) and the chunk after it is prefetched. (Before: chunks outer, 4.6 KiB runs
// scattered over the matrix, each unpacked in one go after the tile products: the unpack
// waited on memory about as long as the products ran, half the kernel's time in a profile.)
template <class U, int NT>
void gemm_amx_small_q8(const MatmulArgs& a, int64_t f0, int64_t f1) {
  const size_t gbytes = a.w_row_bytes * kX8Rows;
  constexpr size_t bb = U::kBlockBytes;
  const int64_t nb = a.k / QK;
  constexpr int64_t span = kAmxSmallCap / NT / kAmxChunk * kAmxChunk;
  const auto* w = static_cast<const uint8_t*>(a.w);
  auto at = [&](const AmxSmallCursor& c) { return w + c.g * gbytes + c.b0 * bb; };
  auto gs = [&](const AmxSmallCursor& c) { return c.g + 1 < f1 ? gbytes : 0; };
  auto bn = [&](const AmxSmallCursor& c) {
    return std::min({kAmxChunk, nb - c.b0, c.k0 + span - c.b0});
  };
  AmxSmallTiles tiles(NT);
  AmxSmallActs pr;
  AmxWeights wb[2];
  AmxSmallCursor cur{f0, 0, 0};
  amx_small_prep<NT>(a, 0, std::min(nb, span), pr);
  AmxQ8<U>::unpack(at(cur), gs(cur), bn(cur), wb[0]);
  for (int wi = 0;; wi ^= 1) {
    AmxSmallCursor n1 = cur, n2;
    const bool more = n1.advance(f0, f1, nb, span);
    n2 = n1;
    const bool more2 = more && n2.advance(f0, f1, nb, span);
    const AmxUnpackNext<U> un{more ? at(n1) : nullptr, gs(n1), more ? bn(n1) : 0, &wb[wi ^ 1]};
    const AmxNext nx{more2 ? at(n2) : nullptr, gs(n2), bb};
    const int64_t i = (cur.b0 - cur.k0) * NT, n = bn(cur);
    const int ng = static_cast<int>(std::min<int64_t>(2, f1 - cur.g));
    amx_small_tile<U, NT>(a, pr.dx + i, wb[wi], cur.g, ng, cur.b0, n, nx, un);
    for (int64_t b = n; b < un.bn; ++b) un.block(b);
    if (!more) break;
    if (n1.k0 != cur.k0) amx_small_prep<NT>(a, n1.k0, std::min(nb, n1.k0 + span), pr);
    cur = n1;
  }
}

template <class U>
struct AmxSmallQ8 {
  using Gemv = typename U::Gemv;
  template <int NT>
  static void run(const MatmulArgs& a, int64_t f0, int64_t f1) {
    gemm_amx_small_q8<U, NT>(a, f0, f1);
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
  template <int NT>
  static void run(const MatmulArgs& a, int64_t f0, int64_t f1);
};

// The Q4_K driver for NT tokens: K chunks (activations prepared once), row tiles (unpacked once).
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

template <int NT>
void AmxSmallQ4_K::run(const MatmulArgs& a, int64_t f0, int64_t f1) {
  gemm_amx_small_n<AmxSmallQ4_K, NT>(a, f0, f1);
}

template <class Fmt, int NT>
void gemm_amx_small_pick(const MatmulArgs& a, int64_t f0, int64_t f1) {
  if constexpr (NT >= 2) {
    if (a.n_tokens == NT) return Fmt::template run<NT>(a, f0, f1);
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
