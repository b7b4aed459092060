// arm64 NEON (ASIMD, every arm64 CPU) matmul kernels. GGUF row-major layout (no repacking);
// each decoded weight block feeds up to 4 tokens (kernels/arm/gemv.h), any row range, any
// token count.
//
// Integer formats: weights decoded to signed int8 exactly as the reference's IntBlock::q
// (kernels/arm/decode.h), multiplied with the int8 activations by the Neon policy's SMULL +
// SADALP (kernels/arm/neon/isa.h: no int16 overflow for any int8 input).
// Accumulation bounds (|x| <= 128; int32 per (row, token)):
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
// Float formats (F32, F16 weights x F32 activations): 16 lanes per step in 4 independent f32
// FMA accumulators (F16 widened by FCVTL, exact), then 4-lane steps, then a scalar tail.
// Reference: kernels/ref dot_row; integer sums exact, results differ only by f32 summation
// order (tests/kernels/conformance_test.cpp: 1e-5 of the row's sum |w| * |x|).
#include <arm_neon.h>

#include "kernels/arm/gemv.h"
#include "kernels/arm/neon/isa.h"

namespace nibble::kernels::neon {
namespace {

using arm::h2f;

inline float32x4_t load_f16x4(const uint16_t* p) {
  return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p)));
}

// W row of f32 (F32 weights) or f16 (F16 weights) dotted with an f32 activation row.
template <bool kHalf>
float dot_float(const void* wp, const float* x, int64_t k) {
  const auto* wf = static_cast<const float*>(wp);
  const auto* wh = static_cast<const uint16_t*>(wp);
  auto load = [&](int64_t i) { return kHalf ? load_f16x4(wh + i) : vld1q_f32(wf + i); };
  float32x4_t a0 = vdupq_n_f32(0), a1 = a0, a2 = a0, a3 = a0;
  int64_t i = 0;
  for (; i + 16 <= k; i += 16) {
    a0 = vfmaq_f32(a0, load(i), vld1q_f32(x + i));
    a1 = vfmaq_f32(a1, load(i + 4), vld1q_f32(x + i + 4));
    a2 = vfmaq_f32(a2, load(i + 8), vld1q_f32(x + i + 8));
    a3 = vfmaq_f32(a3, load(i + 12), vld1q_f32(x + i + 12));
  }
  for (; i + 4 <= k; i += 4) a0 = vfmaq_f32(a0, load(i), vld1q_f32(x + i));
  float s = vaddvq_f32(vaddq_f32(vaddq_f32(a0, a1), vaddq_f32(a2, a3)));
  for (; i < k; ++i) s += (kHalf ? h2f(wh[i]) : wf[i]) * x[i];
  return s;
}

template <bool kHalf>
void gemv_float(const MatmulArgs& a) {
  const size_t rb = a.w_row_bytes ? a.w_row_bytes : static_cast<size_t>(a.k) * (kHalf ? 2 : 4);
  for (int t = 0; t < a.n_tokens; ++t) {
    const auto* x =
        reinterpret_cast<const float*>(static_cast<const uint8_t*>(a.x) + t * a.x_stride);
    for (int64_t r = a.row_begin; r < a.row_end; ++r)
      a.y[t * a.y_stride + r] = dot_float<kHalf>(static_cast<const uint8_t*>(a.w) + r * rb, x, a.k);
  }
}

}  // namespace

NIBBLE_ARM_GEMV_ENTRIES(arm::Neon)
void gemv_f16_f32(const MatmulArgs& a) { gemv_float<true>(a); }
void gemv_f32_f32(const MatmulArgs& a) { gemv_float<false>(a); }

}  // namespace nibble::kernels::neon
