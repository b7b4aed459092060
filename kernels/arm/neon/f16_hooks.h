// The f16 conversions the NEON row ops (ops.cpp) and attention kernels (attn.cpp) share:
// fcvtl / fcvtn (round to nearest even, base ARMv8).
#pragma once

#include <arm_neon.h>

#include <cstdint>

#include <xsimd/xsimd.hpp>

namespace nibble::kernels::neon {

struct F16Hooks {
  using arch = xsimd::neon64;
  using F = xsimd::batch<float, arch>;
  static F load_h(const uint16_t* p) { return F(vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p)))); }
  static void store_h(uint16_t* p, F v) { vst1_u16(p, vreinterpret_u16_f16(vcvt_f16_f32(v))); }
  static float h2f(uint16_t h) {
    return vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(h))), 0);
  }
};

}  // namespace nibble::kernels::neon
