// AVX2 Q4_0 x Q8_0 and Q8_0 x Q8_0 matmuls over the load-time layouts "q4_0_x8" and "q8_0_x8"
// (kernels/pack/q4_0.cpp, q8_0.cpp): 8 rows interleaved, one row per int32 lane, so 8 rows come
// out of one register with no horizontal sums, and each weight register (4 elements x 8 rows)
// is unpacked once for up to 4 tokens. The kernels are in kernels/x86/common/gemv_x8.inc.
//
// Q8_0 x8: per 32-element block 8 loads of 32 bytes (elements 4L..4L+3 of the 8 rows), each
// multiplied with the 4 matching activations broadcast (the hooks below; VNNI: vpdpbusd of
// w + 128, minus 128 x the block sum), then f32 as for Q4_0. Per 8 rows and block about 45
// vector operations here (13-14 per row and block in the plain kernel), 22 with VNNI.
//
// Q4_0 x8:
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
// Q4_K: the int16 pairs times the row's scale (both halves of the row's lane) by vpmaddwd.
inline __m256i x8_scale(__m256i isum, __m256i acc, __m128i sc) {
  return _mm256_add_epi32(isum, _mm256_madd_epi16(acc, _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(sc, sc))));
}

// Q8_0 x8: signed x signed by sign folding, as the plain Q8_0 kernel: |w| (u8, <= 128) times x
// with w's sign (|x| <= 127: the Q8 activation quantizer never produces -128), int16 pairs
// <= 2 x 128 x 127 = 32512 (no vpmaddubsw saturation), vpmaddwd to int32 at once (two pairs
// could overflow int16). No weight offset.
struct Q8x8W {
  __m256i abs, sign;
};
inline constexpr bool kX8Vnni = false;
inline constexpr int32_t kQ8x8Offset = 0;
inline Q8x8W q8x8_prep(__m256i w) { return {_mm256_sign_epi8(w, w), w}; }
inline Q8x8W q8x8_u8(__m256i u) { return {u, u}; }  // unused: kX8Vnni is false
inline __m256i q8x8_mac(__m256i acc, const Q8x8W& w, __m256i x) {
  const __m256i p = _mm256_maddubs_epi16(w.abs, _mm256_sign_epi8(x, w.sign));
  return _mm256_add_epi32(acc, _mm256_madd_epi16(p, _mm256_set1_epi16(1)));
}

}  // namespace

#include "kernels/x86/common/gemv_x8.inc"

}  // namespace nibble::kernels::avx2
