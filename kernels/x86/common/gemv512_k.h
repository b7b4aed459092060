// 512-bit row-major kernels, part 2: Q2_K, Q4_K, Q6_K x Q8_K (X86Isa512 policies). Same
// arithmetic as gemv256_k.h, with 64 elements per vector; every int32 lane receives 4 scaled int16
// pairs per block (the 256-bit kernels: 8), so the bounds stated there hold with room to spare:
//   Q4_K: one zmm = [low nibbles | high nibbles] of 32 qs bytes = sub-blocks 2c, 2c + 1.
//   Q6_K: [q0 | q1] and [q2 | q3] of each 128-element half from one 64-byte ql load and the
//         32 qh bytes broadcast (vpsrlvw shifts the two halves differently).
//   Q2_K: the 32 qs bytes of a half broadcast, bit pairs (0, 1) and (2, 3) per zmm.
// Q6_K / Q2_K scales: 128-bit lane L of the zmm is one 16-element sub-block; one vpermw per
// block transposes the int16 scales (lane_scales) and a vpshufd by immediate picks each zmm's.
// Q4_K scales: chunk c's two sub-block scales by one vpshufd of a per-block arrangement (no
// shuffle-control loads: load bandwidth is what these loops run out of first). The block's int32
// sums are folded to 8 lanes (fold256) and finished as in 256 bits (bsums terms, f32 accumulation).
#pragma once

#include "kernels/x86/common/gemv512_base.h"

namespace nibble::kernels::x86 {
namespace {

template <X86Isa512 P>
struct Q4_Kx512 {
  using Isa = P;
  static constexpr bool kWideTokenBlock = true;
  template <int NT>
  static void dot(const uint8_t* wp, const uint8_t* x, size_t xs, int64_t k, float* y, size_t ys) {
    const auto* w = reinterpret_cast<const BlockQ4_K*>(wp);
    const __m512i low = _mm512_set1_epi8(0xF);
    __m256 acc[NT];
    for (auto& v : acc) v = _mm256_setzero_ps();
    for (int64_t i = 0; i < k / QK_K; ++i) {
      prefetch_ahead<sizeof(BlockQ4_K)>(w + i);
      const __m128i s8 = q4k_scales(w[i].scales);  // sc0..7 | mn0..7
      const __m128i sc16 = _mm_cvtepu8_epi16(s8), mn = _mm_cvtepu8_epi16(_mm_srli_si128(s8, 8));
      // Dword p of every 128-bit lane: sc_2p (pair-duplicated int16) in the low 256 bits, sc_2p+1
      // in the high 256 bits (pair_scales' two lanes, each broadcast); vpshufd by the immediate
      // c * 0x55 gives chunk c's two scales.
      const __m256i ps = pair_scales(sc16);
      const __m512i sc =
          join256(_mm256_permute2x128_si256(ps, ps, 0x00), _mm256_permute2x128_si256(ps, ps, 0x11));
      const __m256i mn2 = _mm256_set_m128i(_mm_unpackhi_epi16(mn, mn), _mm_unpacklo_epi16(mn, mn));
      const float d = f16(w[i].d), dmin = f16(w[i].dmin);
      constexpr int C = NT <= 4 ? P::kChains : 1;
      __m512i isum[C][NT];
      for (auto& c : isum)
        for (auto& v : c) v = _mm512_setzero_si512();
      static_for<4>([&](auto ci) {
        constexpr int c = decltype(ci)::value;
        const __m256i b = in_reg(load256(w[i].qs + 32 * c));
        const __m512i q = _mm512_and_si512(join256(b, _mm256_srli_epi16(b, 4)), low);
        const __m512i s = _mm512_shuffle_epi32(sc, static_cast<_MM_PERM_ENUM>(c * 0x55));
#pragma GCC unroll 8
        for (int t = 0; t < NT; ++t)
          isum[c % C][t] = P::dpz_scaled(isum[c % C][t], q,
                                         load512(xblock<BlockQ8_K>(x, xs, t, i)->qs + 64 * c), s);
      });
#pragma GCC unroll 8
      for (int t = 0; t < NT; ++t) {
        const BlockQ8_K* xb = xblock<BlockQ8_K>(x, xs, t, i);
        const __m256i mins = bsums_dot(xb, mn2);
        acc[t] = finish_q8k_mins(acc[t], xb, d, fold256(isum_total(isum, t)), dmin, mins);
      }
    }
    for (int t = 0; t < NT; ++t) y[t * ys] = hsum(acc[t]);
  }
};

template <X86Isa512 P>
struct Q6_Kx512 {
  using Isa = P;
  static constexpr bool kWideTokenBlock = true;
  template <int NT>
  static void dot(const uint8_t* wp, const uint8_t* x, size_t xs, int64_t k, float* y, size_t ys) {
    const auto* w = reinterpret_cast<const BlockQ6_K*>(wp);
    const __m512i low = _mm512_set1_epi8(0xF), three = _mm512_set1_epi8(3);
    const __m512i sh01 = shift_pair(0, 2), sh23 = shift_pair(4, 6);
    __m256 acc[NT];
    for (auto& v : acc) v = _mm256_setzero_ps();
    for (int64_t i = 0; i < k / QK_K; ++i) {
      prefetch_ahead<sizeof(BlockQ6_K)>(w + i);
      const __m256i sc16 =
          _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w[i].scales)));
      const __m512i scz = _mm512_castsi256_si512(sc16);
      const float d = f16(w[i].d);
      constexpr int C = NT <= 4 ? P::kChains : 1;
      __m512i isum[C][NT];
      for (auto& c : isum)
        for (auto& v : c) v = _mm512_setzero_si512();
      const __m512i sct = lane_scales(scz);
      static_for<2>([&](auto hi) {
        constexpr int h = decltype(hi)::value;
        const __m512i l = load512(w[i].ql + 64 * h);
        const __m512i qh = _mm512_broadcast_i64x4(load256(w[i].qh + 32 * h));
        __m512i q[2];
        q[0] = _mm512_or_si512(
            _mm512_and_si512(l, low),
            _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(qh, sh01), three), 4));
        q[1] = _mm512_or_si512(
            _mm512_and_si512(_mm512_srli_epi16(l, 4), low),
            _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(qh, sh23), three), 4));
        static_for<2>([&](auto pi) {
          constexpr int p = decltype(pi)::value;
          const __m512i s =
              _mm512_shuffle_epi32(sct, static_cast<_MM_PERM_ENUM>((2 * h + p) * 0x55));
#pragma GCC unroll 8
          for (int t = 0; t < NT; ++t) {
            const int8_t* qx = xblock<BlockQ8_K>(x, xs, t, i)->qs + 128 * h + 64 * p;
            isum[p % C][t] = P::dpz_scaled(isum[p % C][t], q[p], load512(qx), s);
          }
        });
      });
#pragma GCC unroll 8
      for (int t = 0; t < NT; ++t) {
        const BlockQ8_K* xb = xblock<BlockQ8_K>(x, xs, t, i);
        const __m256i off = _mm256_slli_epi32(bsums_dot(xb, sc16), 5);
        acc[t] = finish_q8k(acc[t], xb, d, _mm256_sub_epi32(fold256(isum_total(isum, t)), off));
      }
    }
    for (int t = 0; t < NT; ++t) y[t * ys] = hsum(acc[t]);
  }
};

template <X86Isa512 P>
struct Q2_Kx512 {
  using Isa = P;
  static constexpr bool kWideTokenBlock = true;
  template <int NT>
  static void dot(const uint8_t* wp, const uint8_t* x, size_t xs, int64_t k, float* y, size_t ys) {
    const auto* w = reinterpret_cast<const BlockQ2_K*>(wp);
    const __m128i low4 = _mm_set1_epi8(0xF);
    const __m512i three = _mm512_set1_epi8(3);
    const __m512i sh01 = shift_pair(0, 2), sh23 = shift_pair(4, 6);
    __m256 acc[NT];
    for (auto& v : acc) v = _mm256_setzero_ps();
    for (int64_t i = 0; i < k / QK_K; ++i) {
      prefetch_ahead<sizeof(BlockQ2_K)>(w + i);
      const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w[i].scales));
      const __m512i scz = _mm512_castsi256_si512(_mm256_cvtepu8_epi16(_mm_and_si128(raw, low4)));
      const __m256i mn16 = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(raw, 4), low4));
      const float d = f16(w[i].d), dmin = f16(w[i].dmin);
      constexpr int C = NT <= 4 ? P::kChains : 1;
      __m512i isum[C][NT];
      for (auto& c : isum)
        for (auto& v : c) v = _mm512_setzero_si512();
#pragma GCC unroll 2
      for (int h = 0; h < 2; ++h) {
        const __m512i b = _mm512_broadcast_i64x4(load256(w[i].qs + 32 * h));
        const __m512i q[2] = {_mm512_and_si512(_mm512_srlv_epi16(b, sh01), three),
                              _mm512_and_si512(_mm512_srlv_epi16(b, sh23), three)};
#pragma GCC unroll 2
        for (int p = 0; p < 2; ++p) {
          const __m512i s = _mm512_permutexvar_epi16(lane_index(8 * h + 4 * p), scz);
#pragma GCC unroll 8
          for (int t = 0; t < NT; ++t) {
            const int8_t* qx = xblock<BlockQ8_K>(x, xs, t, i)->qs + 128 * h + 64 * p;
            isum[p % C][t] = P::dpz_scaled(isum[p % C][t], q[p], load512(qx), s);
          }
        }
      }
#pragma GCC unroll 8
      for (int t = 0; t < NT; ++t) {
        const BlockQ8_K* xb = xblock<BlockQ8_K>(x, xs, t, i);
        const __m256i mins = bsums_dot(xb, mn16);
        acc[t] = finish_q8k_mins(acc[t], xb, d, fold256(isum_total(isum, t)), dmin, mins);
      }
    }
    for (int t = 0; t < NT; ++t) y[t * ys] = hsum(acc[t]);
  }
};

}  // namespace
}  // namespace nibble::kernels::x86
