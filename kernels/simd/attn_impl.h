// The attention kernels (kernels/attention.h: contract and arithmetic) written once over
// xsimd, as templates on a per-ISA hook struct H that each ISA's attn.cpp defines in its own
// anonymous namespace (kernels/x86/avx2/attn.cpp, kernels/x86/avx512/attn.cpp,
// kernels/arm/neon/attn.cpp):
//   using arch;  static batch load_h(const uint16_t*);  static void store_h(uint16_t*, batch);
//   static float h2f(uint16_t);  static batch load_i8(const int8_t*)  (W int8 -> f32, exact);
//   static constexpr int kGroups  (SIMD groups of positions per register block of scores);
//   q8_0 K: using I (W int32 lanes);  static constexpr int kQ8Groups (groups per register
//   block);  static I q8_start(int32_t qsum);  static I q8_load(const uint8_t*)  (W x 4 bytes);
//   static I q8_dot(I acc, I k, int32_t q4)  (acc + per lane the dot product of its 4 int8 of
//   K with the 4 int8 of q, exact, once q8_start(sum of the block's q) began the block);
//   static batch q8_f32(I)  (exact: |isum| <= 32 x 127 x 128 < 2^24).
//
// Scores over an f16 K: the cache's K is dimension-major per 32 positions
// (kernels/attention.h), so the W positions of a SIMD group at dimension d are one load.
// Calls of more than kRows rows (prefill) copy the union's groups into an f32 tile
// kt[group][d][lane] (whole groups: a lane outside every row's range holds what the cache
// holds there and its scores are masked to -inf); a register block of up to kRows query rows
// x H::kGroups groups of W positions keeps its kRows x kGroups accumulators in registers while
// d runs 0 .. head_dim - 1: one load of kt per group and one broadcast of q[d] per row feed
// kRows x kGroups FMAs, and no horizontal reduction is needed. Each score is thus one FMA
// chain in dimension order, s = fma(q_d, k_d, s), exactly the reference's order (the products
// of two f16 values are exact in f32, so the dot products equal the reference's bit for bit).
// Calls of up to kRows rows (a decode token's GQA group) use no tile: each group's K is
// loaded from the cache and meets the rows' q at once, d in the same order, so the results
// are those of the tile path.
// Scores over a q8_0 K (decision 61): q comes quantized (AttnQ8); a register block of up to
// kRows rows x H::kQ8Groups groups reads K straight from the cache (decode and prefill alike:
// a 64-position block's K is 2 KiB per 32 dimensions, L1-resident for a prefill call's rows),
// W x 4 bytes per 4-dimension step, and keeps one int32 dot product per score per 32-dimension
// block; the block's f32 step is s = fma(float(isum), dq * dk, s), the reference's, so every
// table gives the reference's bits.
// expsum: xsimd exp over the groups (attn_exp_nonpos: its bits, where the ISA scales by 2^k in
// one instruction), lane-wise sums, one hadd.
// Values: the V rows go row-major into an f32 tile; p * (1/L) is rounded to f16 through the
// ISA's conversion into per-row probability rows (zero outside each row's range); a register
// block of up to kRows rows x NV output batches runs the positions of the rows' union in
// order, each V load feeding kRows FMAs. Calls of up to kRows rows (decode) whose head_dim is
// a multiple of NV x W take no tile: the register block converts the V rows straight from the
// cache (f16, or q8_0 scale x int8: the same exact f32 values, the same order). A row's zero
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
#include <cstring>
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

// The K group holding position g (relative to the block's start), and the byte offset in an
// f16 group of dimension d's values (d * kKGroup halves).
[[gnu::always_inline]] inline const uint8_t* attn_k_group(const AttnBlock& b, int64_t g) {
  return b.k + g / kKGroup * kKGroup * b.row_bytes;
}
constexpr size_t attn_k_dim_offset(int64_t d) { return static_cast<size_t>(d) * kKGroup * 2; }

// f16 K of the W positions from g (a multiple of W, relative to the block's start) at
// dimension d, exact f32: one load from the dimension-major group (kernels/attention.h), lane
// l = position g + l.
template <class H>
[[gnu::always_inline]] inline ABatch<H> attn_k_dim(const AttnBlock& b, int64_t g, int64_t d) {
  const uint8_t* p = attn_k_group(b, g) + attn_k_dim_offset(d);
  return H::load_h(reinterpret_cast<const uint16_t*>(p) + g % kKGroup);
}

// Decode reads K straight from the cache as one sequential stream (a K group of kKGroup
// positions, dimension after dimension, or 4-dimension step after step for q8_0); the line
// kKPrefetch bytes further in that stream is requested per 64 bytes of a group (f16: one line
// per dimension; q8_0: two lines per 4-dimension step, the scales left to the hardware
// prefetcher). attn_bench from memory (decision 60): 1.09x on 2 threads, f16.
inline constexpr size_t kKPrefetch = 4096;
[[gnu::always_inline]] inline void attn_k_prefetch(const AttnBlock& b, int64_t g, int64_t d) {
  __builtin_prefetch(attn_k_group(b, g) + attn_k_dim_offset(d) + kKPrefetch);
}

// The scales of q8_0 block `blk` of the W positions from g (lane l = position g + l).
template <class H>
[[gnu::always_inline]] inline ABatch<H> attn_k_scale(const AttnBlock& b, int64_t g, int64_t blk) {
  return H::load_h(reinterpret_cast<const uint16_t*>(attn_k_group(b, g) +
                                                    blk * kKGroup * sizeof(BlockQ8_0)) +
                   g % kKGroup);
}

// The f16 group of W positions from g into the K tile dst (kt[d][lane], zeros past head_dim).
template <class H>
void attn_ktile_group(const AttnBlock& b, int64_t g, float* dst) {
  using B = ABatch<H>;
  constexpr int64_t W = B::size;
  for (int64_t d = 0; d < b.head_dim; ++d) attn_k_dim<H>(b, g, d).store_aligned(dst + d * W);
  for (int64_t d = b.head_dim; d < attn_padded(b.head_dim); ++d) B(0.0f).store_aligned(dst + d * W);
}

// The K tile of the groups over [r0, r1): kt[(grp * hp + d) * W + lane]. Whole groups are
// copied: lanes outside [r0, r1) hold whatever the cache holds there (its groups are whole),
// and every score of such a lane is outside its row's range, so attn_score_finish masks it.
template <class H>
void attn_fill_ktile(const AttnBlock& b, int64_t r0, int64_t r1) {
  constexpr int64_t W = ABatch<H>::size;
  const int64_t hp = attn_padded(b.head_dim);
  for (int64_t g = r0 / W * W; g < r1; g += W) {
    // Positions kPrefetch ahead (past the block too: the next block of this head usually
    // follows on this thread); prefetches never fault, so the cache's end needs no check.
    attn_prefetch_rows(b, b.k + (g + kPrefetch) * b.row_bytes, W);
    attn_ktile_group<H>(b, g, b.scratch + g * hp);
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
  if (gk < lo || gk + W > hi) {  // a group only partly in the range: mask the rest
    const B idx = B::load_aligned(kIota) + B(static_cast<float>(gk));
    const auto in = (idx >= B(static_cast<float>(lo))) & (idx < B(static_cast<float>(hi)));
    sv = xsimd::select(in, sv, B(kNegInf));
  }
  sv.store_aligned(b.s + i * b.s_stride + gk);
  vm = xsimd::max(vm, sv);
}

// Where a register block of f16 scores reads K: the f32 tile in scratch, or the cache itself
// (decode's calls of up to kRows rows).
enum class KSrc { tile, f16 };

// Scores of rows [i0, i0 + QN) over the GN groups from position g: QN x GN accumulators, one
// FMA chain per score in dimension order; scaled, soft-capped, masked to each row's range,
// stored where the group meets the range, and folded into the rows' running maxima vm.
template <class H, int QN, int GN, KSrc S = KSrc::tile>
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
    if constexpr (S != KSrc::tile) attn_k_prefetch(b, g, d);
#pragma GCC unroll 8
    for (int k = 0; k < GN; ++k)
      kv[k] = S == KSrc::tile ? B::load_aligned(kt + (k * hp + d) * W)
                              : attn_k_dim<H>(b, g + k * W, d);
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

// Rows [i0, i0 + QN)'s maxima: the lanes of their running maxima vm.
template <class H, int QN>
void attn_store_maxima(const AttnBlock& b, int i0, const ABatch<H>* vm) {
  constexpr int64_t W = ABatch<H>::size;
  for (int i = 0; i < QN; ++i) {
    alignas(64) float t[W];
    vm[i].store_aligned(t);
    b.m[i0 + i] = *std::max_element(t, t + W);
  }
}

// Rows [i0, i0 + QN) over the groups of their union [u0, u1), K from S: from the tile,
// register blocks of H::kGroups groups, then single groups; from the cache, register blocks
// of as many SIMD groups as one K group holds (kKGroup positions: 2 x 16 lanes on avx512,
// 2 x 8 on avx2, 4 x 4 on neon), so that a head's K is one sequential stream (decision 60:
// blocks that spanned 2 or 4 K groups of 16 read streams 2 KiB apart and were 1.45x / 1.07x
// slower from memory), prefetched one line per dimension ahead (attn_k_prefetch). A union
// that starts inside a K group (a window's start) gives blocks that straddle two K groups
// (the same values, two streams) until its end.
template <class H, int QN, KSrc S = KSrc::tile>
void attn_score_rows(const AttnBlock& b, int i0, int64_t u0, int64_t u1) {
  using B = ABatch<H>;
  constexpr int64_t W = B::size;
  constexpr int GB = S == KSrc::tile ? H::kGroups : std::min<int>(kKGroup / W, H::kGroups);
  static_assert(S == KSrc::tile || kKGroup % (GB * W) == 0, "a register block inside a K group");
  B vm[QN];
  for (int i = 0; i < QN; ++i) vm[i] = B(kNegInf);
  const int64_t end = (u1 + W - 1) / W * W;
  int64_t g = u0 / W * W;
  for (; g + GB * W <= end; g += GB * W) attn_score_tile<H, QN, GB, S>(b, i0, g, vm);
  for (; g < end; g += W) attn_score_tile<H, QN, 1, S>(b, i0, g, vm);
  attn_store_maxima<H, QN>(b, i0, vm);
}

// Up to kRows rows (a decode token's GQA group) over the union [u0, u1) without a tile: the
// groups' f16 K goes from the cache straight into registers and meets the rows' q, in the
// same dimension order as the tile path (same results; lanes outside a row's range are masked).
template <class H>
void attn_scores_direct(const AttnBlock& b, int64_t r0, int64_t r1) {
  switch (b.nq) {
    case 1: return attn_score_rows<H, 1, KSrc::f16>(b, 0, r0, r1);
    case 2: return attn_score_rows<H, 2, KSrc::f16>(b, 0, r0, r1);
    case 3: return attn_score_rows<H, 3, KSrc::f16>(b, 0, r0, r1);
    default: return attn_score_rows<H, 4, KSrc::f16>(b, 0, r0, r1);
  }
}

// q8_0 K: scores of rows [i0, i0 + QN) over the GN groups of W positions from g (decision 61).
// Per 32-dimension block c: QN x GN integer dot products over 8 steps of 4 dimensions (one
// W x 4-byte load of K per group and step, 4 bytes of q per row and step), then the block's
// f32 step fma(float(isum), dq * dk, acc) per score. Pf: prefetch the K stream ahead (decode).
template <class H, int QN, int GN, bool Pf>
void attn_score_tile_q8(const AttnBlock& b, int i0, int64_t g, ABatch<H>* vm) {
  using B = ABatch<H>;
  using I = typename H::I;
  constexpr int64_t W = B::size;
  constexpr size_t kBlk = kKGroup * sizeof(BlockQ8_0);  // one 32-dimension block of a K group
  const int64_t nb = b.head_dim / QK;
  const AttnQ8* q = b.q8 + i0 * nb;
  B acc[QN][GN];
  for (int i = 0; i < QN; ++i)
    for (int k = 0; k < GN; ++k) acc[i][k] = B(0.0f);
  for (int64_t c = 0; c < nb; ++c) {
    const uint8_t* kb[GN];
    I is[QN][GN];
#pragma GCC unroll 8
    for (int k = 0; k < GN; ++k)
      kb[k] = attn_k_group(b, g + k * W) + c * kBlk + 2 * kKGroup + (g + k * W) % kKGroup * 4;
    for (int i = 0; i < QN; ++i)
      for (int k = 0; k < GN; ++k) is[i][k] = H::q8_start(q[i * nb + c].sum);
#pragma GCC unroll 8
    for (int e = 0; e < QK; e += 4) {
      if constexpr (Pf) {
        if (g % kKGroup == 0) {  // the group's first register block: the step's 128 bytes
          const uint8_t* p = attn_k_group(b, g) + c * kBlk + 2 * kKGroup + e * kKGroup + kKPrefetch;
          __builtin_prefetch(p), __builtin_prefetch(p + 64);
        }
      }
      I kv[GN];
#pragma GCC unroll 8
      for (int k = 0; k < GN; ++k) kv[k] = H::q8_load(kb[k] + e * kKGroup);
#pragma GCC unroll 8
      for (int i = 0; i < QN; ++i) {
        int32_t q4;
        std::memcpy(&q4, q[i * nb + c].qs + e, 4);
#pragma GCC unroll 8
        for (int k = 0; k < GN; ++k) is[i][k] = H::q8_dot(is[i][k], kv[k], q4);
      }
    }
    B dk[GN];
#pragma GCC unroll 8
    for (int k = 0; k < GN; ++k) dk[k] = attn_k_scale<H>(b, g + k * W, c);
#pragma GCC unroll 8
    for (int i = 0; i < QN; ++i) {
      const B dq(q[i * nb + c].d);
#pragma GCC unroll 8
      for (int k = 0; k < GN; ++k) acc[i][k] = xsimd::fma(H::q8_f32(is[i][k]), dk[k] * dq, acc[i][k]);
    }
  }
  for (int i = 0; i < QN; ++i)
    for (int k = 0; k < GN; ++k) attn_score_finish<H>(b, i0 + i, g + k * W, acc[i][k], vm[i]);
}

// q8_0 K: rows [i0, i0 + QN) over the groups of their union [u0, u1), register blocks of
// H::kQ8Groups groups inside a K group, then single groups.
template <class H, int QN, bool Pf>
void attn_score_rows_q8(const AttnBlock& b, int i0, int64_t u0, int64_t u1) {
  using B = ABatch<H>;
  constexpr int64_t W = B::size;
  constexpr int GB = H::kQ8Groups;
  static_assert(kKGroup % (GB * W) == 0, "a register block inside a K group");
  B vm[QN];
  for (int i = 0; i < QN; ++i) vm[i] = B(kNegInf);
  const int64_t end = (u1 + W - 1) / W * W;
  int64_t g = u0 / W * W;
  if constexpr (GB > 1) {
    for (; g + GB * W <= end && g % (GB * W) != 0; g += W) attn_score_tile_q8<H, QN, 1, Pf>(b, i0, g, vm);
    for (; g + GB * W <= end; g += GB * W) attn_score_tile_q8<H, QN, GB, Pf>(b, i0, g, vm);
  }
  for (; g < end; g += W) attn_score_tile_q8<H, QN, 1, Pf>(b, i0, g, vm);
  attn_store_maxima<H, QN>(b, i0, vm);
}

template <class H, bool Pf>
void attn_score_rows_q8_n(const AttnBlock& b, int i0, int qn, int64_t u0, int64_t u1) {
  switch (qn) {
    case 1: return attn_score_rows_q8<H, 1, Pf>(b, i0, u0, u1);
    case 2: return attn_score_rows_q8<H, 2, Pf>(b, i0, u0, u1);
    case 3: return attn_score_rows_q8<H, 3, Pf>(b, i0, u0, u1);
    default: return attn_score_rows_q8<H, 4, Pf>(b, i0, u0, u1);
  }
}

// The call's rows in groups of up to kRows: fn(i0, qn, u0, u1) over each group's union of
// ranges; a group with no position in the block gets the maxima -inf.
template <class Fn>
void attn_score_groups(const AttnBlock& b, Fn&& fn) {
  for (int i0 = 0; i0 < b.nq; i0 += kRows) {
    const int qn = std::min(kRows, b.nq - i0);
    int64_t u0, u1;
    attn_union(b, i0, qn, &u0, &u1);
    if (u0 >= u1) {
      for (int i = i0; i < i0 + qn; ++i) b.m[i] = kNegInf;
      continue;
    }
    fn(i0, qn, u0, u1);
  }
}

// q8_0 K, every call (decode's few rows and prefill's many): groups of kRows rows.
template <class H>
void attn_scores_q8(const AttnBlock& b) {
  const bool pf = b.nq <= kRows;  // decode streams K from memory; prefill's block is in L1
  attn_score_groups(b, [&](int i0, int qn, int64_t u0, int64_t u1) {
    if (pf)
      attn_score_rows_q8_n<H, true>(b, i0, qn, u0, u1);
    else
      attn_score_rows_q8_n<H, false>(b, i0, qn, u0, u1);
  });
}

template <class H>
void attn_scores(const AttnBlock& b) {
  constexpr int64_t W = ABatch<H>::size;
  static_assert(kAttnBlock % (W * H::kGroups) == 0 && kAttnPad % W == 0 && kKGroup % W == 0,
                "groups must tile the block and the cache's K groups");
  if (b.q8_0) return attn_scores_q8<H>(b);
  int64_t r0, r1;
  attn_union(b, 0, b.nq, &r0, &r1);
  if (b.nq <= kRows && r0 < r1) return attn_scores_direct<H>(b, r0, r1);
  if (r0 < r1) attn_fill_ktile<H>(b, r0, r1);
  attn_score_groups(b, [&](int i0, int qn, int64_t u0, int64_t u1) {
    switch (qn) {
      case 1: return attn_score_rows<H, 1>(b, i0, u0, u1);
      case 2: return attn_score_rows<H, 2>(b, i0, u0, u1);
      case 3: return attn_score_rows<H, 3>(b, i0, u0, u1);
      default: return attn_score_rows<H, 4>(b, i0, u0, u1);
    }
  });
}

// exp(x) for x = s - m <= 0 where the ISA scales by 2^k in one instruction (H::exp_scale(e, k,
// keep): e * 2^k in the lanes of keep, 0 elsewhere, e.g. vscalefps with a zero mask): xsimd's
// float exp step for step (its reduction k = nearbyint(x / ln 2), its polynomial e on
// [-ln 2 / 2, ln 2 / 2]), then e * 2^k for k >= -126, where xsimd's ldexp multiplies by the
// normal 2^k (the same single rounding), and 0 for k <= -127, where xsimd's ldexp builds 2^k
// as 0 (k = -127) or x is at or below its minlog (k <= -128); -inf and NaN give k = -inf / NaN,
// 0. So the bits are xsimd::exp's for every x <= 0, in about 16 instructions instead of 23
// (no integer exponent arithmetic, no overflow and underflow selects).
template <class H>
[[gnu::always_inline]] inline ABatch<H> attn_exp_nonpos(ABatch<H> x) {
  using B = ABatch<H>;
  const B k = xsimd::nearbyint(B(1.442695040888963407359924681001892137f) * x);
  B r = xsimd::fnma(k, B(0.693359375f), x);  // xsimd's log_2hi, log_2lo
  r = xsimd::fnma(k, B(-2.12194440e-4f), r);
  B y = xsimd::fma(r, B(1.3997796e-03f), B(8.3955629e-03f));  // xsimd's horner, innermost first
  y = xsimd::fma(r, y, B(4.1665401e-02f));
  y = xsimd::fma(r, y, B(1.6666277e-01f));
  y = xsimd::fma(r, y, B(5.0000000e-01f));
  const B e = xsimd::fma(y, r * r, r) + B(1.0f);
  return H::exp_scale(e, k, k >= B(-126.0f));
}

template <class H>
[[gnu::always_inline]] inline float attn_expsum(float* s, int32_t lo, int32_t hi, float m) {
  using B = ABatch<H>;
  constexpr int64_t W = B::size;
  B lsum(0.0f);
  if (lo >= hi) return 0.0f;
  for (int64_t g = lo / W * W; g < hi; g += W) {
    const B sv = B::load_aligned(s + g);
    B pv;
    if constexpr (requires { H::exp_scale(sv, sv, sv > sv); })
      pv = attn_exp_nonpos<H>(sv - B(m));
    else
      pv = xsimd::select(sv > B(kNegInf), xsimd::exp(sv - B(m)), B(0.0f));
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
      const uint8_t* r = b.v + j * b.row_bytes;
      if (b.q8_0) {  // scale x int8, exact: the values attn_tile_row stores
        // c is a multiple of NV x W, so a block's scale is read where u x W starts a block
        static_assert(QK % (NV * W) == 0 || (NV * W) % QK == 0, "batches inside blocks");
        const auto* blk = reinterpret_cast<const BlockQ8_0*>(r);
        B scale(0.0f);
#pragma GCC unroll 8
        for (int u = 0; u < NV; ++u) {
          const int64_t e = c + u * W;
          if ((u * W) % QK == 0) scale = B(H::h2f(blk[e / QK].d));
          v[u] = scale * H::load_i8(blk[e / QK].qs + e % QK);
        }
      } else {
#pragma GCC unroll 8
        for (int u = 0; u < NV; ++u) v[u] = H::load_h(reinterpret_cast<const uint16_t*>(r) + c + u * W);
      }
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
  if (b.nq <= kRows && b.head_dim % (W * H::kGroups) == 0) {
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
