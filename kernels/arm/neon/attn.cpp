// NEON (arm64 baseline) instantiation of the attention block kernel
// (kernels/simd/attn_impl.h): 4 lanes; hooks are fcvtl / fcvtn for f16 and the exact
// int8 -> f32 widening of q8_0 values (sxtl, sxtl, scvtf).
#include <arm_neon.h>

#include "kernels/simd/attn_impl.h"
#include "kernels/arm/neon/f16_hooks.h"

namespace nibble::kernels::neon {
namespace {

struct AttnHooks : F16Hooks {
  static constexpr int kGroups = 4;  // 4 x 4 accumulators of 4 positions
  static F load_i8(const int8_t* p) {
    int8_t t[8] = {p[0], p[1], p[2], p[3], 0, 0, 0, 0};
    const int16x8_t w = vmovl_s8(vld1_s8(t));
    return F(vcvtq_f32_s32(vmovl_s16(vget_low_s16(w))));
  }
};

}  // namespace

extern const AttnOps kAttnOps = simd::make_attn_ops<AttnHooks>(Isa::neon, "neon");

}  // namespace nibble::kernels::neon
