// arm64 i8mm (ARMv8.6 SMMLA, vmmlaq_s32) integer matmul kernels for n_tokens >= 2 (prefill).
// GGUF row-major layout (no repacking). Tiles of up to 8 rows x 8 tokens (4 row pairs x
// 4 token pairs); an odd last row and an odd last token go through the SDOT loop
// (kernels/arm/gemv.h on the Dotprod policy: this folder is compiled with dotprod), and so does a
// 1-token call (decode: SMMLA's second token column would be wasted).
//
// SMMLA adds A * B^T for 2x8 int8 matrices A, B into a 2x2 int32 result. For each 16-element
// slice j of a block, a row pair's decoded vectors q0, q1 are zipped by 64-bit halves into
// A_lo = [q0 lo; q1 lo] and A_hi = [q0 hi; q1 hi], a token pair's activations likewise into
// B_lo, B_hi, and A_lo * B_lo^T + A_hi * B_hi^T gives the 4 lanes [r0.t0, r0.t1, r1.t0, r1.t1],
// each exactly the SDOT sum of that (row, token) over the 16 elements. Per block, the token
// pairs' activations are zipped once for all row pairs of the tile, and each row pair is
// decoded and zipped once for all its token pairs. Per-16 scales multiply the lanes by
// [s_r0, s_r0, s_r1, s_r1].
// Accumulation bounds are those of the dotprod kernels, lane by lane (|x| <= 128):
//   Q8_0 x Q8_0   32 * 128 * 128 = 2^19 per block, then f32.
//   Q4_0 x Q8_0   32 * 8 * 128 per block, then f32; likewise Q5_0 (|q| <= 16), IQ4_NL (127),
//                 and Q4_1 / Q5_1 x Q8_1 (q <= 15 / 31; m_w * s_x added in f32).
//   Q4_K x Q8_K   per 16: 16 * 15 * 128 = 30720, x scale <= 63, x 16 = 31.0e6 < 2^31;
//                 mins 16 * 63 * 2048 = 2.1e6.
//   Q6_K x Q8_K   per 16: 16 * 32 * 128 = 65536, x |scale| <= 128, x 16 = 134e6 < 2^31.
//   Q5_K x Q8_K   per 16: 16 * 31 * 128 = 63488, x scale <= 63, x 16 = 64.0e6 < 2^31.
//   Q2_K x Q8_K   per 16: 16 * 3 * 128, x scale <= 15, x 16 = 1.5e6; mins 16 * 15 * 2048.
//   Q3_K x Q8_K   per 16: 16 * 4 * 128, x |scale| <= 32, x 16 = 4.2e6.
//   TQ2_0 x Q8_K  256 * 2 * 128 = 65536;  TQ1_0 x Q8_K  256 * 1 * 128 = 32768.
// Float: per block, lanes scaled by [d_r0 d_t0, d_r0 d_t1, d_r1 d_t0, d_r1 d_t1] (mins by
// dmin likewise) and summed in f32, one float32x4 per (row pair, token pair) of the tile.
// Reference: kernels/ref dot_row; integer sums exact, results differ only by f32 summation
// order (tests/kernels/conformance_test.cpp: 1e-5 of the row's sum |w| * |x|).
#include <arm_neon.h>

#include <algorithm>
#include <type_traits>

#include "kernels/arm/dotprod/isa.h"
#include "kernels/arm/gemv.h"

namespace nibble::kernels::i8mm {
namespace {

using arm::block_elems, arm::Dec32, arm::h2f, arm::mins_dot, arm::weight_row_bytes;
using Tail = arm::Dotprod;  // the SDOT loop for 1-token calls, an odd last row or token

// Tile: up to kRowPairs row pairs x kTokPairs token pairs (8 rows x 8 tokens).
constexpr int kRowPairs = 4, kTokPairs = 4;

// [a * c, a * d, b * c, b * d]
inline float32x4_t outer2(float a, float b, float c, float d) {
  const float v[4] = {a * c, a * d, b * c, b * d};
  return vld1q_f32(v);
}

// Rows r0 .. r0 + 2 * n_rp - 1 x tokens t0 .. t0 + 2 * TP - 1. Per block, the TP token pairs'
// activations are zipped once (zx) and serve every row pair; each row pair is decoded and
// zipped once and serves every token pair.
template <class F, int TP>
void tile(const MatmulArgs& a, int64_t r0, int n_rp, int t0) {
  using Act = typename F::Act;
  constexpr bool k32 = std::is_same_v<typename F::Dec, Dec32>;
  constexpr int kSlices = k32 ? 2 : 16;
  const int64_t nb = a.k / block_elems<F>();
  const size_t rb = weight_row_bytes<F>(a);
  const auto* w = static_cast<const uint8_t*>(a.w);
  const Act* x[2 * TP];
  for (int t = 0; t < 2 * TP; ++t)
    x[t] = reinterpret_cast<const Act*>(static_cast<const uint8_t*>(a.x) + (t0 + t) * a.x_stride);
  float32x4_t sum[kRowPairs][TP];
  for (int rp = 0; rp < kRowPairs; ++rp)
    for (int p = 0; p < TP; ++p) sum[rp][p] = vdupq_n_f32(0);
  for (int64_t i = 0; i < nb; ++i) {
    int8x16_t zx[TP][2 * kSlices];  // token pair p, slice j: [x0 lo | x1 lo], [x0 hi | x1 hi]
    for (int p = 0; p < TP; ++p) {
      for (int j = 0; j < kSlices; ++j) {
        const int64x2_t b0 = vreinterpretq_s64_s8(vld1q_s8(x[2 * p][i].qs + 16 * j));
        const int64x2_t b1 = vreinterpretq_s64_s8(vld1q_s8(x[2 * p + 1][i].qs + 16 * j));
        zx[p][2 * j] = vreinterpretq_s8_s64(vzip1q_s64(b0, b1));
        zx[p][2 * j + 1] = vreinterpretq_s8_s64(vzip2q_s64(b0, b1));
      }
    }
    for (int rp = 0; rp < n_rp; ++rp) {
      const auto* w0 = reinterpret_cast<const typename F::Block*>(w + (r0 + 2 * rp) * rb);
      const auto* w1 = reinterpret_cast<const typename F::Block*>(w + (r0 + 2 * rp + 1) * rb);
      typename F::Dec d0, d1;
      F::decode(w0[i], &d0);
      F::decode(w1[i], &d1);
      int32x4_t acc[TP];
      for (int p = 0; p < TP; ++p) acc[p] = vdupq_n_s32(0);
      // Slices sharing one scale (per-32 scales: 2) are summed before the scale multiply.
      constexpr int kGroup = F::kScaled && F::kSub32 ? 2 : 1;
      for (int g = 0; g < kSlices; g += kGroup) {
        int32x4_t m[TP];
        for (int p = 0; p < TP; ++p) m[p] = F::kScaled ? vdupq_n_s32(0) : acc[p];
        for (int j = g; j < g + kGroup; ++j) {
          const int64x2_t q0 = vreinterpretq_s64_s8(d0.q[j]), q1 = vreinterpretq_s64_s8(d1.q[j]);
          const int8x16_t a_lo = vreinterpretq_s8_s64(vzip1q_s64(q0, q1));
          const int8x16_t a_hi = vreinterpretq_s8_s64(vzip2q_s64(q0, q1));
          for (int p = 0; p < TP; ++p) {
            m[p] = vmmlaq_s32(m[p], a_lo, zx[p][2 * j]);
            m[p] = vmmlaq_s32(m[p], a_hi, zx[p][2 * j + 1]);
          }
        }
        if constexpr (F::kScaled) {
          const int32x4_t sc = vcombine_s32(vdup_n_s32(d0.sc[g]), vdup_n_s32(d1.sc[g]));
          for (int p = 0; p < TP; ++p) acc[p] = vmlaq_s32(acc[p], m[p], sc);
        } else {
          for (int p = 0; p < TP; ++p) acc[p] = m[p];
        }
      }
      for (int p = 0; p < TP; ++p) {
        const Act& xa = x[2 * p][i];
        const Act& xb = x[2 * p + 1][i];
        if constexpr (k32) {
          sum[rp][p] = vmlaq_f32(sum[rp][p], vcvtq_f32_s32(acc[p]),
                                 outer2(d0.d, d1.d, h2f(xa.d), h2f(xb.d)));
          if constexpr (F::kMin1)
            sum[rp][p] = vaddq_f32(sum[rp][p], outer2(d0.m, d1.m, h2f(xa.s), h2f(xb.s)));
        } else {
          float32x4_t r = vmulq_f32(vcvtq_f32_s32(acc[p]), outer2(d0.d, d1.d, xa.d, xb.d));
          if constexpr (F::kMins) {
            const int32_t m[4] = {mins_dot(d0, xa), mins_dot(d0, xb), mins_dot(d1, xa),
                                  mins_dot(d1, xb)};
            r = vmlsq_f32(r, vcvtq_f32_s32(vld1q_s32(m)), outer2(d0.dmin, d1.dmin, xa.d, xb.d));
          }
          sum[rp][p] = vaddq_f32(sum[rp][p], r);
        }
      }
    }
  }
  for (int rp = 0; rp < n_rp; ++rp) {
    for (int p = 0; p < TP; ++p) {
      float out[4];
      vst1q_f32(out, sum[rp][p]);
      const int64_t r = r0 + 2 * rp;
      const int t = t0 + 2 * p;
      a.y[t * a.y_stride + r] = out[0];
      a.y[(t + 1) * a.y_stride + r] = out[1];
      a.y[t * a.y_stride + r + 1] = out[2];
      a.y[(t + 1) * a.y_stride + r + 1] = out[3];
    }
  }
}

template <class F>
void gemm(const MatmulArgs& a) {
  if (a.n_tokens < 2) return arm::gemv<Tail, F>(a);
  const int t_even = a.n_tokens & ~1;
  const int64_t r_even = a.row_begin + ((a.row_end - a.row_begin) & ~int64_t{1});
  for (int64_t r0 = a.row_begin; r0 < r_even; r0 += 2 * kRowPairs) {
    const int n_rp = static_cast<int>(std::min<int64_t>(kRowPairs, (r_even - r0) / 2));
    for (int t0 = 0; t0 < t_even;) {
      switch (std::min(kTokPairs, (t_even - t0) / 2)) {
        case 4:
          tile<F, 4>(a, r0, n_rp, t0), t0 += 8;
          break;
        case 3:
          tile<F, 3>(a, r0, n_rp, t0), t0 += 6;
          break;
        case 2:
          tile<F, 2>(a, r0, n_rp, t0), t0 += 4;
          break;
        default:
          tile<F, 1>(a, r0, n_rp, t0), t0 += 2;
          break;
      }
    }
    if (t_even < a.n_tokens)  // odd last token
      for (int64_t r = r0; r < r0 + 2 * n_rp; ++r) arm::gemv_row<Tail, F>(a, r, t_even);
  }
  if (r_even < a.row_end) arm::gemv_row<Tail, F>(a, r_even, 0);  // odd last row
}

}  // namespace

#define NIBBLE_I8MM_ENTRY(name, F) \
  void gemm_##name##_8x8(const MatmulArgs& a) { gemm<arm::F>(a); }
NIBBLE_ARM_INT_FORMATS(NIBBLE_I8MM_ENTRY)
#undef NIBBLE_I8MM_ENTRY

}  // namespace nibble::kernels::i8mm
