// The attention hooks (kernels/simd/attn_impl.h) of the two arm64 tables: neon (baseline) and
// dotprod, which differ only in the q8_0 K dot product (decision 61). In an anonymous
// namespace: each table's folder compiles its own copy with its own flags.
#pragma once

#include <arm_neon.h>

#include <cstdint>

#include "kernels/arm/neon/f16_hooks.h"

namespace nibble::kernels::arm {
namespace {

template <bool kDot>
struct AttnNeonHooks : neon::F16Hooks {
  static constexpr int kGroups = 4;  // 4 x 4 accumulators of 4 positions
  static constexpr int kQ8Groups = 2;  // q8_0 K: 4 x 2 dot products and f32 sums
  using I = int32x4_t;
  // q8_0 K: per lane the exact dot product of 4 int8: sdot (dotprod), or smull, smull2, addp
  // (pairs at most 2 x 128 x 127 in int16) and sadalp into the int32 sums.
  static I q8_start(int32_t) { return vdupq_n_s32(0); }
  static I q8_load(const uint8_t* p) {
    return vreinterpretq_s32_s8(vld1q_s8(reinterpret_cast<const int8_t*>(p)));
  }
  static I q8_dot(I acc, I k, int32_t q4) {
    const int8x16_t kk = vreinterpretq_s8_s32(k), qv = vreinterpretq_s8_s32(vdupq_n_s32(q4));
#if defined(__ARM_FEATURE_DOTPROD)
    if constexpr (kDot) return vdotq_s32(acc, kk, qv);
#endif
    const int16x8_t lo = vmull_s8(vget_low_s8(kk), vget_low_s8(qv));
    const int16x8_t hi = vmull_high_s8(kk, qv);
    return vpadalq_s16(acc, vpaddq_s16(lo, hi));
  }
  static F q8_f32(I x) { return F(vcvtq_f32_s32(x)); }
  static F load_i8(const int8_t* p) {
    int8_t t[8] = {p[0], p[1], p[2], p[3], 0, 0, 0, 0};
    const int16x8_t w = vmovl_s8(vld1_s8(t));
    return F(vcvtq_f32_s32(vmovl_s16(vget_low_s16(w))));
  }
};

}  // namespace
}  // namespace nibble::kernels::arm
