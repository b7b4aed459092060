// arm64 i8mm (ARMv8.6 SMMLA, vmmlaq_s32) integer matmul kernels: 2 weight rows x 2 tokens per
// tile. GGUF row-major layout (no repacking). Tails: an odd last row and an odd last token go
// through the SDOT loop (kernels/arm/gemv.inc, compiled here with dotprod), and so does a
// 1-token call (decode: SMMLA's second token column would be wasted).
//
// Tile: for each 16-element slice j of a block, the two rows' decoded int8 vectors q0, q1 and
// the two tokens' activation vectors x0, x1 are zipped by 64-bit halves into 2x8 matrices
// A = [q0 lo; q1 lo], B = [x0 lo; x1 lo] (and the same for the high halves); SMMLA adds A * B^T,
// so the 4 int32 lanes hold [r0.t0, r0.t1, r1.t0, r1.t1], each exactly the SDOT sum of that
// (row, token) pair over the 16 elements. Per-16 scales multiply lanes by [s0, s0, s1, s1].
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
// dmin likewise) and summed in f32.
// Reference: kernels/ref dot_row; integer sums exact, results differ only by f32 summation
// order (tests/kernels/conformance_test.cpp: 1e-5 of the row's sum |w| * |x|).
#include <arm_neon.h>

#include <cstring>
#include <type_traits>

#include "kernels/formats/blocks.h"
#include "kernels/kernels.h"

#ifndef NIBBLE_I8MM_PAIRS
#define NIBBLE_I8MM_PAIRS 2
#endif

namespace nibble::kernels::i8mm {
namespace {

template <int kMaxAbsQ>
inline int32x4_t dot16(int32x4_t acc, int8x16_t w, int8x16_t x) {
  return vdotq_s32(acc, w, x);
}

#include "kernels/arm/decode.inc"
#include "kernels/arm/gemv.inc"

// Token pairs per tile: 2 rows x 2 * kPairs tokens (each decoded row pair feeds them all).
constexpr int kPairs = NIBBLE_I8MM_PAIRS;

// [a * c, a * d, b * c, b * d]
inline float32x4_t outer2(float a, float b, float c, float d) {
  const float v[4] = {a * c, a * d, b * c, b * d};
  return vld1q_f32(v);
}

// Rows w0, w1 x 2P tokens (pairs p: tokens x + 2p * x_stride and the next): out[4p..4p+3] =
// [r0.t0, r0.t1, r1.t0, r1.t1] of pair p. Each decoded and zipped row pair feeds all P pairs.
template <class F, int P>
void tile2xP(const uint8_t* w0p, const uint8_t* w1p, const uint8_t* xp, size_t x_stride, int64_t nb,
             float* out) {
  using Act = typename F::Act;
  const auto* w0 = reinterpret_cast<const typename F::Block*>(w0p);
  const auto* w1 = reinterpret_cast<const typename F::Block*>(w1p);
  const Act* x[2 * P];
  for (int t = 0; t < 2 * P; ++t) x[t] = reinterpret_cast<const Act*>(xp + t * x_stride);
  float32x4_t sum[P];
  for (int p = 0; p < P; ++p) sum[p] = vdupq_n_f32(0);
  for (int64_t i = 0; i < nb; ++i) {
    typename F::Dec d0, d1;
    F::decode(w0[i], &d0);
    F::decode(w1[i], &d1);
    constexpr int kSlices = std::is_same_v<typename F::Dec, Dec32> ? 2 : 16;
    int32x4_t acc[P];
    for (int p = 0; p < P; ++p) acc[p] = vdupq_n_s32(0);
    for (int j = 0; j < kSlices; ++j) {
      const int64x2_t q0 = vreinterpretq_s64_s8(d0.q[j]), q1 = vreinterpretq_s64_s8(d1.q[j]);
      const int8x16_t a_lo = vreinterpretq_s8_s64(vzip1q_s64(q0, q1));
      const int8x16_t a_hi = vreinterpretq_s8_s64(vzip2q_s64(q0, q1));
      for (int p = 0; p < P; ++p) {
        const int64x2_t b0 = vreinterpretq_s64_s8(vld1q_s8(x[2 * p][i].qs + 16 * j));
        const int64x2_t b1 = vreinterpretq_s64_s8(vld1q_s8(x[2 * p + 1][i].qs + 16 * j));
        if constexpr (F::kScaled) {
          int32x4_t m = vmmlaq_s32(vdupq_n_s32(0), a_lo, vreinterpretq_s8_s64(vzip1q_s64(b0, b1)));
          m = vmmlaq_s32(m, a_hi, vreinterpretq_s8_s64(vzip2q_s64(b0, b1)));
          const int32x4_t sc = vcombine_s32(vdup_n_s32(d0.sc[j]), vdup_n_s32(d1.sc[j]));
          acc[p] = vmlaq_s32(acc[p], m, sc);
        } else {
          acc[p] = vmmlaq_s32(acc[p], a_lo, vreinterpretq_s8_s64(vzip1q_s64(b0, b1)));
          acc[p] = vmmlaq_s32(acc[p], a_hi, vreinterpretq_s8_s64(vzip2q_s64(b0, b1)));
        }
      }
    }
    for (int p = 0; p < P; ++p) {
      const Act& xa = x[2 * p][i];
      const Act& xb = x[2 * p + 1][i];
      if constexpr (std::is_same_v<typename F::Dec, Dec32>) {
        sum[p] = vmlaq_f32(sum[p], vcvtq_f32_s32(acc[p]), outer2(d0.d, d1.d, h2f(xa.d), h2f(xb.d)));
        if constexpr (F::kMin1)
          sum[p] = vaddq_f32(sum[p], outer2(d0.m, d1.m, h2f(xa.s), h2f(xb.s)));
      } else {
        float32x4_t r = vmulq_f32(vcvtq_f32_s32(acc[p]), outer2(d0.d, d1.d, xa.d, xb.d));
        if constexpr (F::kMins) {
          const int32_t m[4] = {mins_dot(d0, xa), mins_dot(d0, xb), mins_dot(d1, xa),
                                mins_dot(d1, xb)};
          r = vmlsq_f32(r, vcvtq_f32_s32(vld1q_s32(m)), outer2(d0.dmin, d1.dmin, xa.d, xb.d));
        }
        sum[p] = vaddq_f32(sum[p], r);
      }
    }
  }
  for (int p = 0; p < P; ++p) vst1q_f32(out + 4 * p, sum[p]);
}

template <class F>
void gemm(const MatmulArgs& a) {
  if (a.n_tokens < 2) return gemv<F>(a);
  const int64_t nb = a.k / block_elems<F>();
  const size_t rb = weight_row_bytes<F>(a);
  const auto* w = static_cast<const uint8_t*>(a.w);
  const auto* x = static_cast<const uint8_t*>(a.x);
  const int t_even = a.n_tokens & ~1;
  int64_t r = a.row_begin;
  for (; r + 2 <= a.row_end; r += 2) {
    for (int t = 0; t < t_even;) {
      const int pairs = t_even - t >= 2 * kPairs ? kPairs : 1;
      float out[4 * kPairs];
      const uint8_t* xt = x + t * a.x_stride;
      if (pairs == kPairs) {
        tile2xP<F, kPairs>(w + r * rb, w + (r + 1) * rb, xt, a.x_stride, nb, out);
      } else {
        tile2xP<F, 1>(w + r * rb, w + (r + 1) * rb, xt, a.x_stride, nb, out);
      }
      for (int p = 0; p < pairs; ++p, t += 2) {
        a.y[t * a.y_stride + r] = out[4 * p];
        a.y[(t + 1) * a.y_stride + r] = out[4 * p + 1];
        a.y[t * a.y_stride + r + 1] = out[4 * p + 2];
        a.y[(t + 1) * a.y_stride + r + 1] = out[4 * p + 3];
      }
    }
    if (t_even < a.n_tokens) {  // odd last token
      gemv_row<F>(a, r, t_even);
      gemv_row<F>(a, r + 1, t_even);
    }
  }
  if (r < a.row_end) gemv_row<F>(a, r, 0);  // odd last row
}

}  // namespace

void gemm_q8_0_q8_0_2x2(const MatmulArgs& a) { gemm<FmtQ8_0>(a); }
void gemm_q4_0_q8_0_2x2(const MatmulArgs& a) { gemm<FmtQ4_0>(a); }
void gemm_q4_1_q8_1_2x2(const MatmulArgs& a) { gemm<FmtQ4_1>(a); }
void gemm_q5_0_q8_0_2x2(const MatmulArgs& a) { gemm<FmtQ5_0>(a); }
void gemm_q5_1_q8_1_2x2(const MatmulArgs& a) { gemm<FmtQ5_1>(a); }
void gemm_iq4_nl_q8_0_2x2(const MatmulArgs& a) { gemm<FmtIQ4_NL>(a); }
void gemm_q2_k_q8_k_2x2(const MatmulArgs& a) { gemm<FmtQ2_K>(a); }
void gemm_q3_k_q8_k_2x2(const MatmulArgs& a) { gemm<FmtQ3_K>(a); }
void gemm_q4_k_q8_k_2x2(const MatmulArgs& a) { gemm<FmtQ4_K>(a); }
void gemm_q5_k_q8_k_2x2(const MatmulArgs& a) { gemm<FmtQ5_K>(a); }
void gemm_q6_k_q8_k_2x2(const MatmulArgs& a) { gemm<FmtQ6_K>(a); }
void gemm_tq1_0_q8_k_2x2(const MatmulArgs& a) { gemm<FmtTQ1_0>(a); }
void gemm_tq2_0_q8_k_2x2(const MatmulArgs& a) { gemm<FmtTQ2_0>(a); }

}  // namespace nibble::kernels::i8mm
