// The attention kernels (kernels/attention.h: contract and arithmetic) written once over
// xsimd, as templates on a per-ISA hook struct H that each ISA's attn.cpp defines in its own
// anonymous namespace (kernels/x86/avx2/attn.cpp, kernels/x86/avx512/attn.cpp,
// kernels/arm/neon/attn.cpp):
//   using arch;  static batch load_h(const uint16_t*);  static void store_h(uint16_t*, batch);
//   static float h2f(uint16_t);  static batch load_i8(const int8_t*)  (W int8 -> f32, exact);
//   static batch haddp(const batch* rows)  (lane r = sum of the lanes of rows[r])
//
// Layout: the block's K (scores) or V (values) rows of the union of the query ranges go into
// an f32 tile of kAttnBlock rows x hp = attn_padded(head_dim) floats (zero padded; rows of a
// SIMD group outside the union are zeroed, never read from the cache). Scores: per query and
// group of W positions, W accumulators over hp / W FMAs each, reduced by H::haddp into one
// batch whose lane r is position group + r (a position's lane is fixed by its offset in the
// block). expsum: xsimd exp over the same groups, lane-wise sums, one hadd. Values: p * (1/L)
// rounded to f16 through the ISA's conversion, then up to 8 batches of the output in registers
// while the positions run in order. All f32; versus the scalar reference the results differ
// only by summation order (haddp's tree, lane-wise sums) and xsimd's exp/tanh (a few ulp):
// tested in tests/kernels/attn_test.cpp against the reference and against double precision.
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

inline constexpr int64_t kPrefetch = 16;  // rows of K or V prefetched ahead of the tile fill

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

// Tile rows [g0, g1) of base (K or V): cache rows inside [r0, r1), zeros outside.
template <class H>
void attn_fill_tile(const AttnBlock& b, const uint8_t* base, float* t, int64_t g0, int64_t g1,
                    int64_t r0, int64_t r1) {
  const int64_t hp = attn_padded(b.head_dim);
  const size_t row = b.q8_0 ? b.head_dim / QK * sizeof(BlockQ8_0) : b.head_dim * 2;
  for (int64_t j = g0; j < g1; ++j) {
    // Rows kPrefetch ahead (past the block too: the next block of this head usually follows
    // on this thread); prefetches never fault, so the cache's end needs no check.
    const uint8_t* ahead = base + (j + kPrefetch) * b.row_bytes;
    for (size_t o = 0; o < row; o += 64) __builtin_prefetch(ahead + o);
    if (j >= r0 && j < r1)
      attn_tile_row<H>(b, base + j * b.row_bytes, t + j * hp);
    else
      std::fill(t + j * hp, t + (j + 1) * hp, 0.0f);
  }
}

// The union [r0, r1) of the rows' ranges, and the tile of base over its SIMD groups.
template <class H>
void attn_load_union(const AttnBlock& b, const uint8_t* base) {
  constexpr int64_t W = ABatch<H>::size;
  int64_t r0 = kAttnBlock, r1 = 0;
  for (int i = 0; i < b.nq; ++i)
    if (b.lo[i] < b.hi[i]) r0 = std::min<int64_t>(r0, b.lo[i]), r1 = std::max<int64_t>(r1, b.hi[i]);
  if (r0 >= r1) return;
  attn_fill_tile<H>(b, base, b.scratch, r0 / W * W, (r1 + W - 1) / W * W, r0, r1);
}

// Scaled, soft-capped scores of query q over positions [g, g + W) into s[g ..]; lanes outside
// [lo, hi) are -inf. Returns the batch.
template <class H>
ABatch<H> attn_score_group(const AttnBlock& b, const float* q, const float* kt, int64_t g,
                           int64_t lo, int64_t hi) {
  using B = ABatch<H>;
  constexpr int64_t W = B::size;
  const int64_t hp = attn_padded(b.head_dim);
  B acc[W];
  for (int64_t r = 0; r < W; ++r) acc[r] = B(0.0f);
  for (int64_t c = 0; c < hp; c += W) {
    const B qv = B::load_aligned(q + c);
#pragma GCC unroll 16
    for (int64_t r = 0; r < W; ++r)
      acc[r] = xsimd::fma(qv, B::load_aligned(kt + (g + r) * hp + c), acc[r]);
  }
  B sv = H::haddp(acc) * B(b.scale);
  if (b.softcap > 0) sv = B(b.softcap) * xsimd::tanh(sv / B(b.softcap));
  alignas(64) static constexpr float kIota[16] = {0, 1, 2,  3,  4,  5,  6,  7,
                                                  8, 9, 10, 11, 12, 13, 14, 15};
  const B idx = B::load_aligned(kIota) + B(static_cast<float>(g));
  const auto in = (idx >= B(static_cast<float>(lo))) & (idx < B(static_cast<float>(hi)));
  return xsimd::select(in, sv, B(-std::numeric_limits<float>::infinity()));
}

// a[0 .. NV * W) = sum over j in [lo, hi) of p[j] * vt[j][0 .. NV * W), in j order.
template <class H, int NV>
void attn_values_tile(const float* p, const float* vt, int64_t hp, int64_t lo, int64_t hi,
                      float* a) {
  using B = ABatch<H>;
  constexpr int64_t W = B::size;
  B acc[NV];
  for (int u = 0; u < NV; ++u) acc[u] = B(0.0f);
  for (int64_t j = lo; j < hi; ++j) {
    const B pj(p[j]);
    const float* r = vt + j * hp;
#pragma GCC unroll 8
    for (int u = 0; u < NV; ++u) acc[u] = xsimd::fma(pj, B::load_aligned(r + u * W), acc[u]);
  }
  for (int u = 0; u < NV; ++u) acc[u].store_aligned(a + u * W);
}

template <class H>
void attn_scores(const AttnBlock& b) {
  using B = ABatch<H>;
  constexpr int64_t W = B::size;
  static_assert(kAttnBlock % W == 0 && kAttnPad % W == 0, "groups must tile the block");
  attn_load_union<H>(b, b.k);
  for (int i = 0; i < b.nq; ++i) {
    const int64_t lo = b.lo[i], hi = b.hi[i];
    if (lo >= hi) {
      b.m[i] = -std::numeric_limits<float>::infinity();
      continue;
    }
    const float* q = b.q + i * attn_padded(b.head_dim);
    float* s = b.s + i * b.s_stride;
    B vmax(-std::numeric_limits<float>::infinity());
    for (int64_t g = lo / W * W; g < hi; g += W) {
      const B sv = attn_score_group<H>(b, q, b.scratch, g, lo, hi);
      sv.store_aligned(s + g);
      vmax = xsimd::max(vmax, sv);
    }
    alignas(64) float t[W];
    vmax.store_aligned(t);
    float m = t[0];
    for (int64_t r = 1; r < W; ++r) m = std::max(m, t[r]);
    b.m[i] = m;
  }
}

template <class H>
float attn_expsum(float* s, int32_t lo, int32_t hi, float m) {
  using B = ABatch<H>;
  constexpr int64_t W = B::size;
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
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

template <class H>
void attn_values(const AttnBlock& b) {
  using B = ABatch<H>;
  constexpr int64_t W = B::size;
  const int64_t hp = attn_padded(b.head_dim);
  attn_load_union<H>(b, b.v);
  alignas(64) float ph[kAttnBlock];
  alignas(64) uint16_t h[W];
  for (int i = 0; i < b.nq; ++i) {
    const int64_t lo = b.lo[i], hi = b.hi[i];
    if (lo >= hi) continue;
    const float* p = b.s + i * b.s_stride;
    const B inv(b.inv_l[i]);
    for (int64_t g = lo / W * W; g < hi; g += W) {
      H::store_h(h, B::load_aligned(p + g) * inv);
      H::load_h(h).store_aligned(ph + g);
    }
    float* a = b.a + i * hp;
    const float* vt = b.scratch;
    int64_t c = 0;
    for (; c + 8 * W <= hp; c += 8 * W) attn_values_tile<H, 8>(ph, vt + c, hp, lo, hi, a + c);
    for (; c + 4 * W <= hp; c += 4 * W) attn_values_tile<H, 4>(ph, vt + c, hp, lo, hi, a + c);
    for (; c < hp; c += W) attn_values_tile<H, 1>(ph, vt + c, hp, lo, hi, a + c);
  }
}

template <class H>
constexpr AttnOps make_attn_ops(Isa isa, const char* name) {
  return AttnOps{isa, name, attn_scores<H>, attn_expsum<H>, attn_values<H>};
}

}  // namespace nibble::kernels::simd
