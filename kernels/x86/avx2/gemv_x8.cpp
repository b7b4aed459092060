// AVX2 Q4_0 x Q8_0 matmul over the load-time layout "q4_0_x8" (kernels/pack/q4_0.cpp): 8 rows
// interleaved, one row per int32 lane, so 8 rows come out of one register with no horizontal
// sums, and each weight register (4 elements x 8 rows) is unpacked once for up to 4 tokens.
//
// Per 32-element block, for each of its 4 32-byte loads: low and high nibbles (q in 0..15)
// times the 4 matching activations broadcast to every lane (vpbroadcastd), by vpmaddubsw
// (unsigned q x signed x), summed in int16: |pair| <= 2 x 15 x 128 = 3840, 8 of them per lane
// per block <= 30720 < 2^15 (no saturation, even for x = -128); vpmaddwd to int32 per row. The
// weight offset 8 is removed with the activation block sum: sum (q - 8) x = sum q x - 8 sum x,
// precomputed per token and block (int32, |.| <= 8 x 32 x 128). Then float(int32) x (d_w x d_x)
// FMA'd into f32 per row and token.
// Tails: row counts that are not a multiple of 8 (padding rows of the layout, or a range
// starting inside a group) are computed into a scratch and only the rows in [row_begin,
// row_end) are written; tokens go in blocks of 4, then 3/2/1. K is taken in chunks of at most
// 1024 blocks (the activation sums live on the stack), partial sums accumulated in y.
// Reference: ref::dot_row (Q4_0); integer sums are exact, so results differ only by f32
// rounding (tests: relative 1e-5 of the row's |w|.|x|).
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/formats/blocks.h"
#include "kernels/kernels.h"

namespace nibble::kernels::avx2 {
namespace {

// int16 pair sums (vpmaddubsw, |.| <= 30720 per block, see above), widened per block.
inline __m256i x8_mac(__m256i acc, __m256i lo, __m256i hi, __m256i x_lo, __m256i x_hi) {
  return _mm256_add_epi16(
      acc, _mm256_add_epi16(_mm256_maddubs_epi16(lo, x_lo), _mm256_maddubs_epi16(hi, x_hi)));
}
inline __m256i x8_isum(__m256i acc) { return _mm256_madd_epi16(acc, _mm256_set1_epi16(1)); }

}  // namespace

#include "kernels/x86/common/gemv_x8.inc"

}  // namespace nibble::kernels::avx2
