// AVX-VNNI Q4_0 x Q8_0 matmul over the load-time layout "q4_0_x8" (kernels/pack/q4_0.cpp):
// the AVX2 kernel of kernels/x86/avx2/gemv_x8.cpp (which describes the layout, blocking and
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
namespace {

// vpdpbusd straight into int32 per row.
inline __m256i x8_mac(__m256i acc, __m256i lo, __m256i hi, __m256i x_lo, __m256i x_hi) {
  return _mm256_dpbusd_avx_epi32(_mm256_dpbusd_avx_epi32(acc, lo, x_lo), hi, x_hi);
}
inline __m256i x8_isum(__m256i acc) { return acc; }

}  // namespace

#include "kernels/x86/common/gemv_x8.inc"

}  // namespace nibble::kernels::avxvnni
