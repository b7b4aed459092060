// NEON (arm64 baseline) instantiation of the attention block kernel
// (kernels/simd/attn_impl.h): 4 lanes; hooks are fcvtl / fcvtn for f16 and the exact
// int8 -> f32 widening of q8_0 rows (sxtl, sxtl, scvtf) and a 4 x 4 transpose.
#include <arm_neon.h>

#include "kernels/simd/attn_impl.h"
#include "kernels/arm/neon/f16_hooks.h"

namespace nibble::kernels::neon {
namespace {

struct AttnHooks : F16Hooks {
  static constexpr int kGroups = 4;  // 4 x 4 accumulators of 4 positions
  [[gnu::always_inline]] static void transpose(F* r) {  // 4 x 4: trn1/trn2 on row pairs, then 64-bit halves
    const float32x4x2_t a = vtrnq_f32(r[0], r[1]), b = vtrnq_f32(r[2], r[3]);
    r[0] = F(vcombine_f32(vget_low_f32(a.val[0]), vget_low_f32(b.val[0])));
    r[1] = F(vcombine_f32(vget_low_f32(a.val[1]), vget_low_f32(b.val[1])));
    r[2] = F(vcombine_f32(vget_high_f32(a.val[0]), vget_high_f32(b.val[0])));
    r[3] = F(vcombine_f32(vget_high_f32(a.val[1]), vget_high_f32(b.val[1])));
  }
  static F load_i8(const int8_t* p) {
    int8_t t[8] = {p[0], p[1], p[2], p[3], 0, 0, 0, 0};
    const int16x8_t w = vmovl_s8(vld1_s8(t));
    return F(vcvtq_f32_s32(vmovl_s16(vget_low_s16(w))));
  }
};

}  // namespace

extern const AttnOps kAttnOps = simd::make_attn_ops<AttnHooks>(Isa::neon, "neon");

}  // namespace nibble::kernels::neon
