// The dotprod (ARMv8.2 SDOT) policy of the arm integer matmul kernels (contract: ArmDotIsa in
// kernels/arm/gemv.h). Included by the dotprod and i8mm folders (both compiled with +dotprod).
#pragma once

#include <arm_neon.h>

namespace nibble::kernels::arm {
namespace {

struct Dotprod {
  // SDOT: 4 products per int32 lane, no int16 intermediate, so exact for any int8 input.
  template <int kMaxAbsQ>
  static int32x4_t dot16(int32x4_t acc, int8x16_t w, int8x16_t x) {
    return vdotq_s32(acc, w, x);
  }
};

}  // namespace
}  // namespace nibble::kernels::arm
