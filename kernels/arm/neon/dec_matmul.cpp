// NEON (baseline arm64) instantiation of the generic decode-to-int8 matmul
// (kernels/simd/dec_matmul.h: layout, accumulation and why it cannot overflow, tails, reference
// and tolerance are described there) for Q4_1, Q5_0, Q5_1, IQ4_NL, Q3_K, Q5_K and BF16.
// Registered in registry_arm.inc at a low priority, below any hand-tuned kernel of the format.
//
// int8 x int8 dot: smull + smlal give two products per int16 lane (<= 2 * 128 * 127 < 2^15),
// sadalp widens pairs into int32 lanes; k-quant sub-block sums are scaled with mla by lane.
#include <arm_neon.h>

#include "kernels/simd/dec_matmul.h"

namespace nibble::kernels::neon {
namespace {

// int32x4 partial sums of 16 products.
inline int32x4_t dot16(const int8_t* w, const int8_t* x, int32x4_t acc) {
  const int8x16_t a = vld1q_s8(w), b = vld1q_s8(x);
  int16x8_t p = vmull_s8(vget_low_s8(a), vget_low_s8(b));
  p = vmlal_s8(p, vget_high_s8(a), vget_high_s8(b));
  return vpadalq_s16(acc, p);
}

struct Hooks {
  using arch = xsimd::neon64;
  using F = xsimd::batch<float, arch>;
  static float h2f(uint16_t h) {
    return vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(h))), 0);
  }
  static int32_t dot32(const int8_t* w, const int8_t* x) {
    return vaddvq_s32(dot16(w + 16, x + 16, dot16(w, x, vdupq_n_s32(0))));
  }
  static int32_t dot_scaled(const int8_t* w, const int8_t* x, const int16_t* sc, int sub) {
    int32x4_t acc = vdupq_n_s32(0);
    for (int s = 0; s < QK_K / sub; ++s) {
      int32x4_t p = vdupq_n_s32(0);
      for (int i = 0; i < sub; i += 16) p = dot16(w + s * sub + i, x + s * sub + i, p);
      acc = vmlaq_n_s32(acc, p, sc[s]);
    }
    return vaddvq_s32(acc);
  }
  static void lut16(const int8_t* table, const uint8_t* qs, int8_t* out) {
    const int8x16_t t = vld1q_s8(table);
    const uint8x16_t b = vld1q_u8(qs);
    vst1q_s8(out, vqtbl1q_s8(t, vandq_u8(b, vdupq_n_u8(0xF))));
    vst1q_s8(out + 16, vqtbl1q_s8(t, vshrq_n_u8(b, 4)));
  }
  // Byte j gets byte j / 8 of qh and tests bit j % 8.
  static void bits_to_16(const uint8_t* qh, uint8_t* out) {
    static const uint8_t kBit[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    const uint8x16_t bit = vld1q_u8(kBit), sixteen = vdupq_n_u8(16);
    const uint8x16_t lo = vcombine_u8(vdup_n_u8(qh[0]), vdup_n_u8(qh[1]));
    const uint8x16_t hi = vcombine_u8(vdup_n_u8(qh[2]), vdup_n_u8(qh[3]));
    vst1q_u8(out, vandq_u8(vtstq_u8(lo, bit), sixteen));
    vst1q_u8(out + 16, vandq_u8(vtstq_u8(hi, bit), sixteen));
  }
  static F load_bf16(const uint16_t* p) {
    return F(vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(p), 16)));
  }
};

}  // namespace

NIBBLE_SIMD_DEC_ENTRIES(Hooks)

}  // namespace nibble::kernels::neon
