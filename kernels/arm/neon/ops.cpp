// NEON (baseline arm64) instantiation of the xsimd row ops (kernels/simd/ops_impl.h: layout,
// accumulation, tails, reference and tolerances are described there): 4 lanes, fcvtl / fcvtn
// for the f16 conversions (round to nearest even, base ARMv8), xtn for the truncating
// int32 -> int8 narrowing of the activation quantizers.
#include <arm_neon.h>

#include "kernels/simd/ops_impl.h"
#include "kernels/arm/neon/f16_hooks.h"

namespace nibble::kernels::neon {
namespace {

struct Hooks : F16Hooks {
  static uint16_t f2h(float f) {
    return vget_lane_u16(vreinterpret_u16_f16(vcvt_f16_f32(vdupq_n_f32(f))), 0);
  }
  static void narrow_i8(const int32_t* s, int8_t* d, int n) {
    for (int i = 0; i < n; i += 16) {
      const int16x8_t lo =
          vcombine_s16(vmovn_s32(vld1q_s32(s + i)), vmovn_s32(vld1q_s32(s + i + 4)));
      const int16x8_t hi =
          vcombine_s16(vmovn_s32(vld1q_s32(s + i + 8)), vmovn_s32(vld1q_s32(s + i + 12)));
      vst1q_s8(d + i, vcombine_s8(vmovn_s16(lo), vmovn_s16(hi)));
    }
  }
};

}  // namespace

extern const RowOps kRowOps = simd::make_row_ops<Hooks>(Isa::neon, "neon");

}  // namespace nibble::kernels::neon
