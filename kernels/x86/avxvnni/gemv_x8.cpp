// AVX-VNNI Q4_0 x Q8_0 and Q8_0 x Q8_0 matmuls over the load-time layouts "q4_0_x8" / "q8_0_x8":
// the AVX2 kernels of kernels/x86/avx2/gemv_x8.cpp (which describes the layout, blocking and
// tails) with vpdpbusd (u8 x s8, 4 products summed into each int32 lane, no int16 step and no
// saturation) in place of vpmaddubsw + vpaddw + vpmaddwd. One int32 lane = one row: per block
// |sum q x| <= 32 x 15 x 128 = 61440, minus 8 x (sum x), exact; then f32 as in the AVX2 kernel.
// Reference: ref::dot_row (Q4_0); integer sums exact (tests: relative 1e-5 of |w|.|x|).
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/formats/blocks.h"
#include "kernels/kernels.h"

namespace nibble::kernels::avxvnni {
#include "kernels/x86/common/gemv_x8_vnni.inc"

#include "kernels/x86/common/gemv_x8.inc"

}  // namespace nibble::kernels::avxvnni
