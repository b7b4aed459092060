// arm64 generic integer GEMV over decoded blocks (kernels/arm/decode.h), shared by the neon,
// dotprod and i8mm folders: templates over a format's traits F (decode.h) and an ISA policy P
// (ArmDotIsa below), internal linkage (see decode.h).
//
// Shape: one weight row at a time; each decoded weight block feeds up to 4 tokens (a row is
// decoded once per 4 tokens, not once per token). Any row range and token count (tails are
// the 1..3-token tiles). Layout: GGUF row-major, no repacking.
//
// Accumulation, per (row, token):
//   32-blocks: int32 sum of one block (<= 32 * 128 * 128 = 2^19), converted to float and
//     scaled by d_w * d_x into the f32 sum; Q4_1 / Q5_1 add m_w * s_x (Q8_1's s) after it.
//   256-blocks: per 16 elements an int32 sum (<= 16 * kMaxAbsQ * 128), times the int16 scale,
//     summed over the block's 16 sub-blocks in int32; mins: sum of min * bsum (int16 x int16
//     -> int32, <= 16 * 63 * 16 * 128). Bounds per format are in the kernel files; every one
//     is < 2^31, so the int32 block sums equal the reference's exactly.
// Float: block results summed in f32 (order differs from the reference: the only difference).
#pragma once

#include <arm_neon.h>

#include <cstdint>
#include <type_traits>
#include <utility>

#include "kernels/arm/decode.h"
#include "kernels/kernels.h"

namespace nibble::kernels::arm {
namespace {

// P provides template <int kMaxAbsQ> static int32x4_t dot16(int32x4_t acc, int8x16_t w,
// int8x16_t x): acc + the sum of the 16 products w[i] * x[i] spread over the 4 int32 lanes,
// exact for |w| <= kMaxAbsQ and any int8 x (kernels/arm/<isa>/isa.h).
template <class P>
concept ArmDotIsa = requires(int32x4_t acc, int8x16_t v) {
  P::template dot16<128>(acc, v, v);
  P::template dot16<1>(acc, v, v);
};

template <class P, class F>
inline int32x4_t isum32(const Dec32& d, const typename F::Act& x) {
  const int32x4_t acc = P::template dot16<F::kMaxAbsQ>(vdupq_n_s32(0), d.q[0], vld1q_s8(x.qs));
  return P::template dot16<F::kMaxAbsQ>(acc, d.q[1], vld1q_s8(x.qs + 16));
}

// Sum over the block's 16 sub-blocks of mn[j] * bsums[j] (the mins term of Q4_K / Q2_K).
inline int32_t mins_dot(const Dec256& d, const BlockQ8_K& x) {
  const int16x8_t m0 = vld1q_s16(d.mn), m1 = vld1q_s16(d.mn + 8);
  const int16x8_t b0 = vld1q_s16(x.bsums), b1 = vld1q_s16(x.bsums + 8);
  int32x4_t s = vmull_s16(vget_low_s16(m0), vget_low_s16(b0));
  s = vmlal_high_s16(s, m0, b0);
  s = vmlal_s16(s, vget_low_s16(m1), vget_low_s16(b1));
  s = vmlal_high_s16(s, m1, b1);
  return vaddvq_s32(s);
}

// acc + v * lane L of s (MLA by element). The lane is a template argument because clang's
// vmlaq_laneq_s32 is a macro, through which a pack expansion does not go.
template <int L>
inline int32x4_t mla_lane(int32x4_t acc, int32x4_t v, int32x4_t s) {
  return vmlaq_laneq_s32(acc, v, s, L);
}

// sum over slices S of sc[S] * (q_S . x_S) for per-16 scales, the 16 scales held in 4 int32
// vectors and applied by MLA-by-element (lane immediates: the index pack unrolls the slices).
template <class P, class F, size_t... S>
inline int32x4_t scaled_isum(const Dec256& d, const BlockQ8_K& x, std::index_sequence<S...>) {
  const int16x8_t s0 = vld1q_s16(d.sc), s1 = vld1q_s16(d.sc + 8);
  const int32x4_t sc[4] = {vmovl_s16(vget_low_s16(s0)), vmovl_high_s16(s0),
                           vmovl_s16(vget_low_s16(s1)), vmovl_high_s16(s1)};
  int32x4_t acc = vdupq_n_s32(0);
  auto xv = [&](int j) { return vld1q_s8(x.qs + 16 * j); };
  ((acc = mla_lane<S % 4>(acc, P::template dot16<F::kMaxAbsQ>(vdupq_n_s32(0), d.q[S], xv(S)),
                          sc[S / 4])),
   ...);
  return acc;
}

// The same for per-32 scales (Q4_K, Q5_K; Dec256 holds each twice): S = sub-block 0..7,
// slices 2S and 2S + 1 summed before the multiply.
template <class P, class F, size_t... S>
inline int32x4_t sub32_isum(const Dec256& d, const BlockQ8_K& x, std::index_sequence<S...>) {
  const int16x8_t s8 = vuzp1q_s16(vld1q_s16(d.sc), vld1q_s16(d.sc + 8));
  const int32x4_t sc[2] = {vmovl_s16(vget_low_s16(s8)), vmovl_high_s16(s8)};
  int32x4_t acc = vdupq_n_s32(0);
  auto xv = [&](int j) { return vld1q_s8(x.qs + 16 * j); };
  ((acc = mla_lane<S % 4>(acc,
                          P::template dot16<F::kMaxAbsQ>(
                              P::template dot16<F::kMaxAbsQ>(vdupq_n_s32(0), d.q[2 * S], xv(2 * S)),
                              d.q[2 * S + 1], xv(2 * S + 1)),
                          sc[S / 4])),
   ...);
  return acc;
}

// d_w * d_x * sum(sc * q.x) - dmin_w * d_x * sum(mn * bsums), as the reference.
template <class P, class F>
inline float block_dot256(const Dec256& d, const BlockQ8_K& x) {
  int32x4_t acc = vdupq_n_s32(0);
  if constexpr (F::kScaled && F::kSub32) {  // slices 2s, 2s + 1 share scale s
    acc = sub32_isum<P, F>(d, x, std::make_index_sequence<8>());
  } else if constexpr (F::kScaled) {
    acc = scaled_isum<P, F>(d, x, std::make_index_sequence<16>());
  } else {
    for (int j = 0; j < 16; ++j)
      acc = P::template dot16<F::kMaxAbsQ>(acc, d.q[j], vld1q_s8(x.qs + 16 * j));
  }
  float r = d.d * x.d * static_cast<float>(vaddvq_s32(acc));
  if constexpr (F::kMins) r -= d.dmin * x.d * static_cast<float>(mins_dot(d, x));
  return r;
}

template <class F>
constexpr int block_elems() {
  return std::is_same_v<typename F::Dec, Dec32> ? QK : QK_K;
}

template <class F>
size_t weight_row_bytes(const MatmulArgs& a) {
  return a.w_row_bytes ? a.w_row_bytes
                       : static_cast<size_t>(a.k / block_elems<F>()) * sizeof(typename F::Block);
}

// Row `w` against NT tokens x, x + x_stride, ...: out[t] = dot(w, x_t).
template <class P, class F, int NT>
void row_tile(const uint8_t* w, const uint8_t* x, size_t x_stride, int64_t nb, float* out) {
  const auto* wb = reinterpret_cast<const typename F::Block*>(w);
  if constexpr (std::is_same_v<typename F::Dec, Dec32>) {
    // Per block: the exact int32 sum, times d_w * d_x, added to the token's f32 sum (then
    // m_w * s_x, Q8_1's s = d_x * sum(q_x), for Q4_1 / Q5_1). The i8mm tiles do the same
    // float operations in the same order, so a (row, token) result does not depend on which
    // path, tile or thread computed it (chunked prefill equals decode bit for bit).
    using Act = typename F::Act;
    float s[NT] = {};
    for (int64_t i = 0; i < nb; ++i) {
      Dec32 d;
      F::decode(wb[i], &d);
      for (int t = 0; t < NT; ++t) {
        const Act& xb = reinterpret_cast<const Act*>(x + t * x_stride)[i];
        s[t] += static_cast<float>(vaddvq_s32(isum32<P, F>(d, xb))) * (d.d * h2f(xb.d));
        if constexpr (F::kMin1) s[t] += d.m * h2f(xb.s);
      }
    }
    for (int t = 0; t < NT; ++t) out[t] = s[t];
  } else {
    float s[NT] = {};
    for (int64_t i = 0; i < nb; ++i) {
      Dec256 d;
      F::decode(wb[i], &d);
      for (int t = 0; t < NT; ++t)
        s[t] += block_dot256<P, F>(d, reinterpret_cast<const BlockQ8_K*>(x + t * x_stride)[i]);
    }
    for (int t = 0; t < NT; ++t) out[t] = s[t];
  }
}

// Row r for tokens [t_begin, n_tokens), in tiles of up to 4 tokens.
template <class P, class F>
void gemv_row(const MatmulArgs& a, int64_t r, int t_begin) {
  const int64_t nb = a.k / block_elems<F>();
  const uint8_t* w = static_cast<const uint8_t*>(a.w) + r * weight_row_bytes<F>(a);
  const auto* x = static_cast<const uint8_t*>(a.x);
  float out[4];
  for (int t = t_begin; t < a.n_tokens; t += 4) {
    const int nt = a.n_tokens - t < 4 ? a.n_tokens - t : 4;
    const uint8_t* xt = x + t * a.x_stride;
    switch (nt) {
      case 4:
        row_tile<P, F, 4>(w, xt, a.x_stride, nb, out);
        break;
      case 3:
        row_tile<P, F, 3>(w, xt, a.x_stride, nb, out);
        break;
      case 2:
        row_tile<P, F, 2>(w, xt, a.x_stride, nb, out);
        break;
      default:
        row_tile<P, F, 1>(w, xt, a.x_stride, nb, out);
        break;
    }
    for (int j = 0; j < nt; ++j) a.y[(t + j) * a.y_stride + r] = out[j];
  }
}

template <ArmDotIsa P, class F>
void gemv(const MatmulArgs& a) {
  for (int64_t r = a.row_begin; r < a.row_end; ++r) gemv_row<P, F>(a, r, 0);
}

}  // namespace
}  // namespace nibble::kernels::arm

// The registered GEMV entry points gemv_<weight>_<activation> of every arm integer format
// (NIBBLE_ARM_INT_FORMATS) on policy P, defined in the enclosing namespace
// nibble::kernels::<isa> (declared by kernels/registry_arm.inc).
#define NIBBLE_ARM_GEMV_ENTRY_(name, F) \
  void gemv_##name(const MatmulArgs& a) { arm::gemv<ArmGemvIsa, arm::F>(a); }
#define NIBBLE_ARM_GEMV_ENTRIES(P) \
  using ArmGemvIsa = P;            \
  NIBBLE_ARM_INT_FORMATS(NIBBLE_ARM_GEMV_ENTRY_)
