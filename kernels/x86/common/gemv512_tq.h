// 512-bit row-major kernels, part 3 (X86Isa512 policies): TQ2_0 and TQ1_0 x Q8_K (trit
// decoding and bounds: gemv256_tq.h).
// TQ2_0: the 32 qs bytes of a half broadcast; bit pairs (0, 1) and (2, 3) per zmm.
// TQ1_0: four zmm per block: [plane 0 | plane 1] and [plane 2 | plane 3] of qs[0..31],
//   [plane 4 of qs[0..31] | planes 0, 1 of qs[32..47]], [planes 2, 3 of qs[32..47] |
//   plane 4 of qs[32..47], qh trits]; the trit test by unsigned byte compares into masks.
// AVX-512 without VNNI accumulates vpmaddubsw pairs in int16 over the 4 zmm of a block: each
// int16 lane <= 4 * 2 * 2 * 127 = 2032.
#pragma once

#include "kernels/x86/common/gemv512_base.h"
#include "kernels/x86/common/trit512.h"

namespace nibble::kernels::x86 {
namespace {

template <X86Isa512 P>
struct TQ2_0x512 {
  using Isa = P;
  static constexpr bool kWideTokenBlock = true;
  template <int NT>
  static void dot(const uint8_t* wp, const uint8_t* x, size_t xs, int64_t k, float* y, size_t ys) {
    const auto* w = reinterpret_cast<const BlockTQ2_0*>(wp);
    const __m512i three = _mm512_set1_epi8(3);
    const __m512i sh01 = shift_pair(0, 2), sh23 = shift_pair(4, 6);
    const __m256i ones16 = _mm256_set1_epi16(1);
    __m256 acc[NT];
    for (auto& v : acc) v = _mm256_setzero_ps();
    for (int64_t i = 0; i < k / QK_K; ++i) {
      constexpr int C = NT <= 4 ? P::kChains : 1;
      __m512i isum[C][NT];
      for (auto& c : isum)
        for (auto& v : c) v = _mm512_setzero_si512();
#pragma GCC unroll 2
      for (int j = 0; j < 2; ++j) {
        const __m512i b = _mm512_broadcast_i64x4(load256(w[i].qs + 32 * j));
        const __m512i q[2] = {_mm512_and_si512(_mm512_srlv_epi16(b, sh01), three),
                              _mm512_and_si512(_mm512_srlv_epi16(b, sh23), three)};
#pragma GCC unroll 2
        for (int p = 0; p < 2; ++p) {
#pragma GCC unroll 8
          for (int t = 0; t < NT; ++t) {
            const int8_t* qx = xblock<BlockQ8_K>(x, xs, t, i)->qs + 128 * j + 64 * p;
            isum[p % C][t] = P::dpz_small(isum[p % C][t], q[p], load512(qx));
          }
        }
      }
      const float d = f16(w[i].d);
#pragma GCC unroll 8
      for (int t = 0; t < NT; ++t) {
        const BlockQ8_K* xb = xblock<BlockQ8_K>(x, xs, t, i);
        const __m256i xsum = bsums_dot(xb, ones16);
        acc[t] =
            finish_q8k(acc[t], xb, d, _mm256_sub_epi32(fold256(small_total<P>(isum, t)), xsum));
      }
    }
    for (int t = 0; t < NT; ++t) y[t * ys] = hsum(acc[t]);
  }
};

// floor(3q / 256) per byte: [q >= 86] + [q >= 171] (trit512.h).
inline __m512i top_trit(__m512i q) {
  const __m512i one = _mm512_set1_epi8(1);
  const __m512i t1 = _mm512_maskz_mov_epi8(trit_ge1(q), one);
  return _mm512_mask_add_epi8(t1, trit_ge2(q), t1, one);
}

inline void tq1_unpack512(const BlockTQ1_0& b, __m512i out[4]) {
  const __m256i a = load256(b.qs);
  const __m512i a01 = join256(a, times3(a));
  const __m512i a23 = times3(times3(a01));
  const __m256i a4 = times3(times3(_mm512_castsi512_si256(a23)));
  const __m128i s = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qs + 32));
  const __m256i s01 = _mm256_set_m128i(times3(s), s);
  const __m256i s23 = times3(times3(s01));
  const __m128i s4 = times3(times3(_mm256_castsi256_si128(s23)));
  uint32_t h4;
  std::memcpy(&h4, b.qh, 4);
  __m128i h = _mm_set1_epi32(static_cast<int>(h4));  // dword n gets trit plane n
  const __m128i h1 = times3(h), h2 = times3(h1), h3 = times3(h2);
  h = _mm_blend_epi32(h, h1, 0x2);
  h = _mm_blend_epi32(h, h2, 0x4);
  h = _mm_blend_epi32(h, h3, 0x8);
  out[0] = top_trit(a01);
  out[1] = top_trit(a23);
  out[2] = top_trit(join256(a4, s01));
  out[3] = top_trit(join256(s23, _mm256_set_m128i(h, s4)));
}

template <X86Isa512 P>
struct TQ1_0x512 {
  using Isa = P;
  static constexpr bool kWideTokenBlock = true;
  template <int NT>
  static void dot(const uint8_t* wp, const uint8_t* x, size_t xs, int64_t k, float* y, size_t ys) {
    const auto* w = reinterpret_cast<const BlockTQ1_0*>(wp);
    const __m256i ones16 = _mm256_set1_epi16(1);
    __m256 acc[NT];
    for (auto& v : acc) v = _mm256_setzero_ps();
    for (int64_t i = 0; i < k / QK_K; ++i) {
      __m512i q[4];
      tq1_unpack512(w[i], q);
      constexpr int C = NT <= 4 ? P::kChains : 1;
      __m512i isum[C][NT];
      for (auto& c : isum)
        for (auto& v : c) v = _mm512_setzero_si512();
#pragma GCC unroll 8
      for (int j = 0; j < 4; ++j) {
#pragma GCC unroll 8
        for (int t = 0; t < NT; ++t)
          isum[j % C][t] = P::dpz_small(isum[j % C][t], q[j],
                                        load512(xblock<BlockQ8_K>(x, xs, t, i)->qs + 64 * j));
      }
      const float d = f16(w[i].d);
#pragma GCC unroll 8
      for (int t = 0; t < NT; ++t) {
        const BlockQ8_K* xb = xblock<BlockQ8_K>(x, xs, t, i);
        const __m256i xsum = bsums_dot(xb, ones16);
        acc[t] =
            finish_q8k(acc[t], xb, d, _mm256_sub_epi32(fold256(small_total<P>(isum, t)), xsum));
      }
    }
    for (int t = 0; t < NT; ++t) y[t * ys] = hsum(acc[t]);
  }
};

}  // namespace
}  // namespace nibble::kernels::x86
