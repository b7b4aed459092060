// The attention kernels (kernels/attention.h: contract and arithmetic) written once over
// xsimd, as templates on a per-ISA hook struct H that each ISA's attn.cpp defines in its own
// anonymous namespace (kernels/x86/avx2/attn.cpp, kernels/x86/avx512/attn.cpp,
// kernels/arm/neon/attn.cpp):
//   using arch;  static batch load_h(const uint16_t*);  static void store_h(uint16_t*, batch);
//   static float h2f(uint16_t);  static batch load_i8(const int8_t*)  (W int8 -> f32, exact);
//   static void transpose(batch* rows)  (W x W in registers: rows[k] lane l <- rows[l] lane k);
//   static constexpr int kGroups  (SIMD groups of positions per register block of scores);
//   optional: static void load_q8_transposed(const uint8_t* rows, size_t row_bytes, int64_t c,
//   batch* r)  (W q8_0 rows' int8 values of dimensions [c, c + W) transposed before widening,
//   exact f32, scale not applied; avx512 has it, the others transpose the widened f32 rows).
//
// Scores: the block's K rows (f16, or q8_0 converted exactly) go transposed into an f32 tile
// kt[group][d][lane] (position group + lane, dimension d; groups outside the union of the query
// ranges are not filled, rows of a filled group outside it are zeros, never read from the
// cache). A register block of up to kRows query rows x H::kGroups groups of W positions keeps
// its kRows x kGroups accumulators in registers while d runs 0 .. head_dim - 1: one load of
// kt per group and one broadcast of q[d] per row feed kRows x kGroups FMAs, and no horizontal
// reduction is needed. Each score is thus one FMA chain in dimension order, s = fma(q_d, k_d,
// s), exactly the reference's order (for f16 K the products of two f16 values are exact in
// f32, so the dot products equal the reference's bit for bit; for q8_0 K the reference rounds
// each product before the add, the kernel does not). q8_0 rows are transposed as int8 -> f32
// values (avx512: as int8, then widened) and then multiplied by the vector of the W rows'
// scales, read once per 32-dimension block (d x int8 is exact either way, so every path gives
// the same bits). Calls of up to kRows rows (a decode token's GQA group) use no K tile: each whole group
// of W rows is transposed in registers and meets the rows' q at once, d in the same order, so
// the results are those of the tile path; partial groups (the ends of the union) take it.
// expsum: xsimd exp over the groups, lane-wise sums, one hadd.
// Values: the V rows go row-major into an f32 tile; p * (1/L) is rounded to f16 through the
// ISA's conversion into per-row probability rows (zero outside each row's range); a register
// block of up to kRows rows x NV output batches runs the positions of the rows' union in
// order, each V load feeding kRows FMAs. Calls of up to kRows rows (decode) over an f16 cache
// whose head_dim is a multiple of NV x W take no tile: the register block converts the V
// rows straight from the cache (the same exact f32 values, the same order). A row's zero
// probabilities outside its own range add exact zeros (for finite V), so each output is the
// sum over its own positions in order. With `accumulate` (prefill) the register block adds
// each row's output to the row's running sum as it stores it, the executor's add of block
// outputs without the block row in between (rows with no position in the block untouched).
// All f32; versus the scalar reference the results differ only by summation order (values:
// none; expsum: lane-wise sums) and xsimd's exp/tanh (a few ulp): tested in
// tests/kernels/attn_test.cpp against the reference and against double precision.
#pragma once

#include <xsimd/xsimd.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "kernels/attention.h"
#include "kernels/formats/blocks.h"

namespace nibble::kernels::simd {

template <class H>
using ABatch = xsimd::batch<float, typename H::arch>;

inline constexpr int64_t kPrefetch = 64;  // rows of K or V prefetched ahead of the tile fill
inline constexpr int kRows = 4;           // query rows per register block

inline constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// The rows' union [*r0, *r1) of the ranges of rows [i0, i0 + n); empty: *r0 >= *r1.
inline void attn_union(const AttnBlock& b, int i0, int n, int64_t* r0, int64_t* r1) {
  *r0 = kAttnBlock, *r1 = 0;
  for (int i = i0; i < i0 + n; ++i)
    if (b.lo[i] < b.hi[i]) *r0 = std::min<int64_t>(*r0, b.lo[i]), *r1 = std::max<int64_t>(*r1, b.hi[i]);
}

inline size_t attn_head_bytes(const AttnBlock& b) {
  return b.q8_0 ? b.head_dim / QK * sizeof(BlockQ8_0) : b.head_dim * 2;
}

inline void attn_prefetch_row(const AttnBlock& b, const uint8_t* row) {
  const size_t bytes = attn_head_bytes(b);
  for (size_t o = 0; o < bytes; o += 64) __builtin_prefetch(row + o);
}

// Prefetch n rows from `rows`, row by row. (Tried: one request per cache line over the
// contiguous rows of the head-major cache, as an asm statement since GCC 12 deleted that
// flat loop of __builtin_prefetch (decision 32); f16 decode was 6-8 % slower in attn_bench.)
inline void attn_prefetch_rows(const AttnBlock& b, const uint8_t* rows, int64_t n) {
  for (int64_t k = 0; k < n; ++k) attn_prefetch_row(b, rows + k * b.row_bytes);
}

template <class H>
void attn_tile_row(const AttnBlock& b, const uint8_t* r, float* out) {
  using B = ABatch<H>;
  constexpr int64_t W = B::size;
  const int64_t hd = b.head_dim, hp = attn_padded(hd);
  int64_t i = 0;
  if (b.q8_0) {
    const auto* blk = reinterpret_cast<const BlockQ8_0*>(r);
    for (int64_t g = 0; g < hd / QK; ++g) {
      const B d(H::h2f(blk[g].d));
      for (int64_t c = 0; c < QK; c += W) (d * H::load_i8(blk[g].qs + c)).store_aligned(out + i + c);
      i += QK;
    }
  } else {
    const auto* h = reinterpret_cast<const uint16_t*>(r);
    for (; i + W <= hd; i += W) H::load_h(h + i).store_aligned(out + i);
    for (; i < hd; ++i) out[i] = H::h2f(h[i]);
  }
  for (; i < hp; ++i) out[i] = 0;
}

// Dimensions [c, c + W) of cache row r as f32 (exact), zeros past head_dim.
template <class H>
ABatch<H> attn_row_chunk(const AttnBlock& b, const uint8_t* r, int64_t c) {
  using B = ABatch<H>;
  constexpr int64_t W = B::size;
  if (b.q8_0) {  // head_dim is a multiple of 32, so of W: no tail
    const auto& blk = reinterpret_cast<const BlockQ8_0*>(r)[c / QK];
    return B(H::h2f(blk.d)) * H::load_i8(blk.qs + c % QK);
  }
  const auto* h = reinterpret_cast<const uint16_t*>(r);
  if (c + W <= b.head_dim) return H::load_h(h + c);
  alignas(64) float t[W] = {};
  for (int64_t i = c; i < b.head_dim; ++i) t[i - c] = H::h2f(h[i]);
  return B::load_aligned(t);
}

// The scales of q8_0 block `blk` of W cache rows from `rows`, lane l = row l (exact f32).
template <class H>
[[gnu::always_inline]] inline ABatch<H> attn_group_scale(const AttnBlock& b, const uint8_t* rows,
                                                         int64_t blk) {
  constexpr int64_t W = ABatch<H>::size;
  alignas(64) uint16_t d[W];
#pragma GCC unroll 16
  for (int64_t k = 0; k < W; ++k)
    d[k] = reinterpret_cast<const BlockQ8_0*>(rows + k * b.row_bytes)[blk].d;
  return H::load_h(d);
}

// W cache rows from `rows` (row_bytes apart), dimensions [c, c + W) of each, exact f32, no
// tail (head_dim a multiple of W), transposed: r[k] lane l = row l, dimension c + k. Q8 (the
// cache's format as a template argument, so that the f16 loops carry nothing of q8_0):
// `scale` holds the rows' scales of the block holding c (attn_group_scale), read once per
// block by the caller instead of once per W dimensions.
template <class H, bool Q8>
[[gnu::always_inline]] inline void attn_load_transposed(const AttnBlock& b, const uint8_t* rows,
                                                        int64_t c, ABatch<H>* r,
                                                        [[maybe_unused]] ABatch<H> scale) {
  constexpr int64_t W = ABatch<H>::size;
  if constexpr (Q8) {  // int8 values transposed, then times the rows' scales (lane l = row l)
    if constexpr (requires { H::load_q8_transposed(rows, b.row_bytes, c, r); }) {
      H::load_q8_transposed(rows, b.row_bytes, c, r);  // the same exact values, fewer shuffles
    } else {
#pragma GCC unroll 16
      for (int64_t k = 0; k < W; ++k)
        r[k] = H::load_i8(reinterpret_cast<const BlockQ8_0*>(rows + k * b.row_bytes)[c / QK].qs +
                          c % QK);
      H::transpose(r);
    }
#pragma GCC unroll 16
    for (int64_t k = 0; k < W; ++k) r[k] *= scale;
  } else {
#pragma GCC unroll 16
    for (int64_t k = 0; k < W; ++k)
      r[k] = H::load_h(reinterpret_cast<const uint16_t*>(rows + k * b.row_bytes) + c);
    H::transpose(r);
  }
}

// A whole group of W rows (no tail) into the transposed tile dst (kt[d][lane]).
template <class H, bool Q8>
void attn_ktile_group(const AttnBlock& b, const uint8_t* rows, float* dst) {
  using B = ABatch<H>;
  constexpr int64_t W = B::size;
  B scale(1.0f);
  for (int64_t c = 0; c < attn_padded(b.head_dim); c += W) {
    if (Q8 && c % QK == 0) scale = attn_group_scale<H>(b, rows, c / QK);
    B r[W];
    attn_load_transposed<H, Q8>(b, rows, c, r, scale);
#pragma GCC unroll 16
    for (int64_t k = 0; k < W; ++k) r[k].store_aligned(dst + (c + k) * W);
  }
}

// The transposed K tile of the groups over [r0, r1): kt[(grp * hp + d) * W + lane].
template <class H>
void attn_fill_ktile(const AttnBlock& b, int64_t r0, int64_t r1) {
  using B = ABatch<H>;
  constexpr int64_t W = B::size;
  const int64_t hp = attn_padded(b.head_dim);
  for (int64_t g = r0 / W * W; g < r1; g += W) {
    // Rows kPrefetch ahead (past the block too: the next block of this head usually follows
    // on this thread); prefetches never fault, so the cache's end needs no check.
    attn_prefetch_rows(b, b.k + (g + kPrefetch) * b.row_bytes, W);
    float* dst = b.scratch + g * hp;
    const uint8_t* rows = b.k + g * b.row_bytes;
    if (b.head_dim % W == 0 && g >= r0 && g + W <= r1) {
      // The common case (a whole group, no tail): converted straight into registers.
      if (b.q8_0)
        attn_ktile_group<H, true>(b, rows, dst);
      else
        attn_ktile_group<H, false>(b, rows, dst);
      continue;
    }
    for (int64_t c = 0; c < hp; c += W) {
      B r[W];
      for (int64_t k = 0; k < W; ++k)
        r[k] = g + k >= r0 && g + k < r1 ? attn_row_chunk<H>(b, rows + k * b.row_bytes, c)
                                         : B(0.0f);
      H::transpose(r);
      for (int64_t k = 0; k < W; ++k) r[k].store_aligned(dst + (c + k) * W);
    }
  }
}

// The row-major V tile of the groups over [r0, r1): cache rows inside, zeros outside.
template <class H>
void attn_fill_vtile(const AttnBlock& b, int64_t r0, int64_t r1) {
  constexpr int64_t W = ABatch<H>::size;
  const int64_t hp = attn_padded(b.head_dim);
  float* t = b.scratch;
  for (int64_t j = r0 / W * W; j < (r1 + W - 1) / W * W; ++j) {
    attn_prefetch_row(b, b.v + (j + kPrefetch) * b.row_bytes);
    if (j >= r0 && j < r1)
      attn_tile_row<H>(b, b.v + j * b.row_bytes, t + j * hp);
    else
      std::fill(t + j * hp, t + (j + 1) * hp, 0.0f);
  }
}

// Row i's dot products acc over the W positions from gk: scaled, soft-capped, masked to the
// row's range, stored where the group meets the range, and folded into the row's maxima vm.
template <class H>
[[gnu::always_inline]] inline void attn_score_finish(const AttnBlock& b, int i, int64_t gk, ABatch<H> acc, ABatch<H>& vm) {
  using B = ABatch<H>;
  constexpr int64_t W = B::size;
  const int64_t lo = b.lo[i], hi = b.hi[i];
  if (lo >= hi || gk + W <= lo || gk >= hi) return;
  alignas(64) static constexpr float kIota[16] = {0, 1, 2,  3,  4,  5,  6,  7,
                                                  8, 9, 10, 11, 12, 13, 14, 15};
  B sv = acc * B(b.scale);
  if (b.softcap > 0) sv = B(b.softcap) * xsimd::tanh(sv / B(b.softcap));
  const B idx = B::load_aligned(kIota) + B(static_cast<float>(gk));
  const auto in = (idx >= B(static_cast<float>(lo))) & (idx < B(static_cast<float>(hi)));
  sv = xsimd::select(in, sv, B(kNegInf));
  sv.store_aligned(b.s + i * b.s_stride + gk);
  vm = xsimd::max(vm, sv);
}

// Scores of rows [i0, i0 + QN) over the GN groups from position g: QN x GN accumulators, one
// FMA chain per score in dimension order; scaled, soft-capped, masked to each row's range,
// stored where the group meets the range, and folded into the rows' running maxima vm.
template <class H, int QN, int GN>
void attn_score_tile(const AttnBlock& b, int i0, int64_t g, ABatch<H>* vm) {
  using B = ABatch<H>;
  constexpr int64_t W = B::size;
  const int64_t hd = b.head_dim, hp = attn_padded(hd);
  const float* kt = b.scratch + g * hp;
  const float* q = b.q + i0 * hp;
  B acc[QN][GN];
  for (int i = 0; i < QN; ++i)
    for (int k = 0; k < GN; ++k) acc[i][k] = B(0.0f);
  for (int64_t d = 0; d < hd; ++d) {
    B kv[GN];
#pragma GCC unroll 8
    for (int k = 0; k < GN; ++k) kv[k] = B::load_aligned(kt + (k * hp + d) * W);
#pragma GCC unroll 8
    for (int i = 0; i < QN; ++i) {
      const B qd(q[i * hp + d]);
#pragma GCC unroll 8
      for (int k = 0; k < GN; ++k) acc[i][k] = xsimd::fma(qd, kv[k], acc[i][k]);
    }
  }
  for (int i = 0; i < QN; ++i)
    for (int k = 0; k < GN; ++k) attn_score_finish<H>(b, i0 + i, g + k * W, acc[i][k], vm[i]);
}

// Rows [i0, i0 + QN) over the groups of their union [u0, u1).
template <class H, int QN>
void attn_score_rows(const AttnBlock& b, int i0, int64_t u0, int64_t u1) {
  using B = ABatch<H>;
  constexpr int64_t W = B::size;
  constexpr int GB = H::kGroups;
  B vm[QN];
  for (int i = 0; i < QN; ++i) vm[i] = B(kNegInf);
  const int64_t end = (u1 + W - 1) / W * W;
  int64_t g = u0 / W * W;
  for (; g + GB * W <= end; g += GB * W) attn_score_tile<H, QN, GB>(b, i0, g, vm);
  for (; g < end; g += W) attn_score_tile<H, QN, 1>(b, i0, g, vm);
  for (int i = 0; i < QN; ++i) {
    alignas(64) float t[W];
    vm[i].store_aligned(t);
    b.m[i0 + i] = *std::max_element(t, t + W);
  }
}

// Up to kRows rows (a decode token's GQA group) over the union [u0, u1) without a tile: each
// whole group's rows are transposed in registers and meet the rows' q right away, in the same
// dimension order as the tile path (same results); partial groups take the tile path.
template <class H, int QN, bool Q8>
void attn_scores_direct(const AttnBlock& b, int64_t u0, int64_t u1) {
  using B = ABatch<H>;
  constexpr int64_t W = B::size;
  const int64_t hd = b.head_dim, hp = attn_padded(hd);
  B vm[QN];
  for (int i = 0; i < QN; ++i) vm[i] = B(kNegInf);
  for (int64_t g = u0 / W * W; g < u1; g += W) {
    if (hd % W != 0 || g < u0 || g + W > u1) {
      attn_fill_ktile<H>(b, std::max(u0, g), std::min(u1, g + W));
      attn_score_tile<H, QN, 1>(b, 0, g, vm);
      continue;
    }
    attn_prefetch_rows(b, b.k + (g + kPrefetch) * b.row_bytes, W);
    B acc[QN];
    for (int i = 0; i < QN; ++i) acc[i] = B(0.0f);
    B scale(1.0f);
    for (int64_t c = 0; c < hd; c += W) {
      if (Q8 && c % QK == 0) scale = attn_group_scale<H>(b, b.k + g * b.row_bytes, c / QK);
      B r[W];
      attn_load_transposed<H, Q8>(b, b.k + g * b.row_bytes, c, r, scale);
#pragma GCC unroll 16
      for (int64_t k = 0; k < W; ++k)
#pragma GCC unroll 4
        for (int i = 0; i < QN; ++i) acc[i] = xsimd::fma(B(b.q[i * hp + c + k]), r[k], acc[i]);
    }
    for (int i = 0; i < QN; ++i) attn_score_finish<H>(b, i, g, acc[i], vm[i]);
  }
  for (int i = 0; i < QN; ++i) {
    alignas(64) float t[W];
    vm[i].store_aligned(t);
    b.m[i] = *std::max_element(t, t + W);
  }
}

template <class H, bool Q8>
void attn_scores_direct_q(const AttnBlock& b, int64_t r0, int64_t r1) {
  switch (b.nq) {
    case 1: return attn_scores_direct<H, 1, Q8>(b, r0, r1);
    case 2: return attn_scores_direct<H, 2, Q8>(b, r0, r1);
    case 3: return attn_scores_direct<H, 3, Q8>(b, r0, r1);
    default: return attn_scores_direct<H, 4, Q8>(b, r0, r1);
  }
}

template <class H>
void attn_scores(const AttnBlock& b) {
  constexpr int64_t W = ABatch<H>::size;
  static_assert(kAttnBlock % (W * H::kGroups) == 0 && kAttnPad % W == 0,
                "groups must tile the block");
  int64_t r0, r1;
  attn_union(b, 0, b.nq, &r0, &r1);
  if (b.nq <= kRows && r0 < r1) {
    if (b.q8_0) return attn_scores_direct_q<H, true>(b, r0, r1);
    return attn_scores_direct_q<H, false>(b, r0, r1);
  }
  if (r0 < r1) attn_fill_ktile<H>(b, r0, r1);
  for (int i0 = 0; i0 < b.nq; i0 += kRows) {
    const int qn = std::min(kRows, b.nq - i0);
    int64_t u0, u1;
    attn_union(b, i0, qn, &u0, &u1);
    if (u0 >= u1) {
      for (int i = i0; i < i0 + qn; ++i) b.m[i] = kNegInf;
      continue;
    }
    switch (qn) {
      case 1: attn_score_rows<H, 1>(b, i0, u0, u1); break;
      case 2: attn_score_rows<H, 2>(b, i0, u0, u1); break;
      case 3: attn_score_rows<H, 3>(b, i0, u0, u1); break;
      default: attn_score_rows<H, 4>(b, i0, u0, u1); break;
    }
  }
}

template <class H>
[[gnu::always_inline]] inline float attn_expsum(float* s, int32_t lo, int32_t hi, float m) {
  using B = ABatch<H>;
  constexpr int64_t W = B::size;
  B lsum(0.0f);
  if (lo >= hi) return 0.0f;
  for (int64_t g = lo / W * W; g < hi; g += W) {
    const B sv = B::load_aligned(s + g);
    const B pv = xsimd::select(sv > B(kNegInf), xsimd::exp(sv - B(m)), B(0.0f));
    pv.store_aligned(s + g);
    lsum += pv;
  }
  return xsimd::hadd(lsum);
}

// a_i[0 .. NV * W) = sum over j in [u0, u1) of ph_i[j] * v_j[c .. c + NV * W), in j order,
// for QN rows (ph rows kAttnBlock floats apart), v_j from the V tile (Direct: converted
// straight from the f16 cache, the same values).
template <class H, int QN, int NV, bool Direct = false>
void attn_values_tile(const AttnBlock& b, const float* ph, int64_t c, int64_t u0, int64_t u1,
                      float* const* a) {
  using B = ABatch<H>;
  constexpr int64_t W = B::size;
  const int64_t hp = attn_padded(b.head_dim);
  B acc[QN][NV];
  for (int i = 0; i < QN; ++i)
    for (int u = 0; u < NV; ++u) acc[i][u] = B(0.0f);
  for (int64_t j = u0; j < u1; ++j) {
    B v[NV];
    if constexpr (Direct) {
      if (c == 0) attn_prefetch_row(b, b.v + (j + kPrefetch) * b.row_bytes);
      const auto* h = reinterpret_cast<const uint16_t*>(b.v + j * b.row_bytes);
#pragma GCC unroll 8
      for (int u = 0; u < NV; ++u) v[u] = H::load_h(h + c + u * W);
    } else {
#pragma GCC unroll 8
      for (int u = 0; u < NV; ++u) v[u] = B::load_aligned(b.scratch + j * hp + c + u * W);
    }
#pragma GCC unroll 8
    for (int i = 0; i < QN; ++i) {
      const B pj(ph[i * kAttnBlock + j]);
#pragma GCC unroll 8
      for (int u = 0; u < NV; ++u) acc[i][u] = xsimd::fma(pj, v[u], acc[i][u]);
    }
  }
  for (int i = 0; i < QN; ++i) {
    if (a[i] == nullptr) continue;  // accumulate: a row with no position here keeps its sum
    for (int u = 0; u < NV; ++u) {
      float* o = a[i] + c + u * W;
      (b.accumulate ? B::load_aligned(o) + acc[i][u] : acc[i][u]).store_aligned(o);
    }
  }
}

// Rows [i0, i0 + QN): their f16 probability rows over the union [u0, u1), then the outputs.
template <class H, int QN, bool Direct = false>
void attn_values_rows(const AttnBlock& b, int i0, int64_t u0, int64_t u1) {
  using B = ABatch<H>;
  constexpr int64_t W = B::size;
  constexpr int NV = H::kGroups;
  const int64_t hp = attn_padded(b.head_dim);
  alignas(64) float ph[QN * kAttnBlock];
  alignas(64) uint16_t h[W];
  float* a[QN];
  for (int i = 0; i < QN; ++i) {
    const int64_t lo = b.lo[i0 + i], hi = b.hi[i0 + i];
    const float* p = b.s + (i0 + i) * b.s_stride;
    const B inv(b.inv_l[i0 + i]);
    for (int64_t g = u0 / W * W; g < u1; g += W) {
      if (lo >= hi || g + W <= lo || g >= hi) {
        B(0.0f).store_aligned(ph + i * kAttnBlock + g);
        continue;
      }
      H::store_h(h, B::load_aligned(p + g) * inv);
      H::load_h(h).store_aligned(ph + i * kAttnBlock + g);
    }
    a[i] = b.accumulate && lo >= hi ? nullptr : b.a + (i0 + i) * hp;
  }
  int64_t c = 0;
  for (; c + NV * W <= hp; c += NV * W)
    attn_values_tile<H, QN, NV, Direct>(b, ph, c, u0, u1, a);
  for (; c < hp; c += W) attn_values_tile<H, QN, 1, Direct>(b, ph, c, u0, u1, a);
}

template <class H>
void attn_values(const AttnBlock& b) {
  int64_t r0, r1;
  attn_union(b, 0, b.nq, &r0, &r1);
  if (r0 >= r1) return;
  constexpr int64_t W = ABatch<H>::size;
  if (!b.q8_0 && b.nq <= kRows && b.head_dim % (W * H::kGroups) == 0) {
    switch (b.nq) {
      case 1: return attn_values_rows<H, 1, true>(b, 0, r0, r1);
      case 2: return attn_values_rows<H, 2, true>(b, 0, r0, r1);
      case 3: return attn_values_rows<H, 3, true>(b, 0, r0, r1);
      default: return attn_values_rows<H, 4, true>(b, 0, r0, r1);
    }
  }
  attn_fill_vtile<H>(b, r0, r1);
  for (int i0 = 0; i0 < b.nq; i0 += kRows) {
    const int qn = std::min(kRows, b.nq - i0);
    int64_t u0, u1;
    attn_union(b, i0, qn, &u0, &u1);
    if (u0 >= u1) continue;
    switch (qn) {
      case 1: attn_values_rows<H, 1>(b, i0, u0, u1); break;
      case 2: attn_values_rows<H, 2>(b, i0, u0, u1); break;
      case 3: attn_values_rows<H, 3>(b, i0, u0, u1); break;
      default: attn_values_rows<H, 4>(b, i0, u0, u1); break;
    }
  }
}

template <class H>
constexpr AttnOps make_attn_ops(Isa isa, const char* name) {
  return AttnOps{isa, name, attn_scores<H>, attn_expsum<H>, attn_values<H>,
                 attn_expsum_range<attn_expsum<H>>};
}

}  // namespace nibble::kernels::simd
