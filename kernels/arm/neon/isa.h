// The NEON (ASIMD, every arm64 CPU) policy of the arm integer matmul kernels (contract:
// ArmDotIsa in kernels/arm/gemv.h).
#pragma once

#include <arm_neon.h>

namespace nibble::kernels::arm {
namespace {

struct Neon {
  // SMULL (int8 x int8 -> int16, |p| <= 128 * 128 = 2^14, cannot overflow) widened pairwise into
  // int32 by SADALP. Formats with |q| <= 127 (all but Q8_0) first add two products in int16
  // (SMLAL2: |p1 + p2| <= 2 * 127 * 128 = 32512 < 2^15); Q8_0, whose quants may be -128, widens
  // every product.
  template <int kMaxAbsQ>
  static int32x4_t dot16(int32x4_t acc, int8x16_t w, int8x16_t x) {
    if constexpr (2 * kMaxAbsQ * 128 <= 32767) {
      int16x8_t p = vmull_s8(vget_low_s8(w), vget_low_s8(x));
      p = vmlal_high_s8(p, w, x);
      return vpadalq_s16(acc, p);
    } else {
      acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(w), vget_low_s8(x)));
      return vpadalq_s16(acc, vmull_high_s8(w, x));
    }
  }
};

}  // namespace
}  // namespace nibble::kernels::arm
