// 256-bit row-major kernels, part 2: the k-quants Q2_K, Q4_K, Q6_K x Q8_K (GGUF layout,
// 256-element super-blocks; templates over an ISA policy P, kernels/x86/common/isa.h). Weights are
// unpacked to unsigned bytes (u8 operand of vpmaddubsw), the activations are the signed operand;
// the sub-block scales multiply the int16 pairs (dp_scaled: vpmaddwd, or vpdpwssd with VNNI) and
// the per-block mins / offsets go through the Q8_K block sums (bsums, sums of 16 activations). Per
// token and block: one int32 vector of scaled sums, converted to f32 and accumulated with d_w * d_x
// (and dmin_w * d_x for the mins).
//
// Bounds (int16 pairs must stay <= 32767, int32 lanes < 2^31):
//   Q2_K: q 0..3, sc 0..15: pairs <= 2*3*127 = 762; lanes <= 8 * 762 * 15 = 91440.
//   Q4_K: q 0..15, sc 0..63: pairs <= 2*15*127 = 3810; lanes <= 8 * 3810 * 63 = 1.9e6.
//   Q6_K: q 0..63 (offset 32 taken out as 32 * sum(sc * bsums)), |sc| <= 128: pairs <= 16002;
//         lanes <= 8 * 16002 * 128 = 1.6e7; the offset term <= 32 * 2 * 128 * 2032 = 1.7e7.
// Mins (Q2_K, Q4_K): vpmaddwd of bsums (|.| <= 2032) with the mins (<= 63): tiny.
#pragma once

#include "kernels/x86/common/driver.h"

namespace nibble::kernels::x86 {
namespace {

template <X86Isa P>
struct Q4_Kx256 {
  using Isa = P;
  template <int NT>
  static void dot(const uint8_t* wp, const uint8_t* x, size_t xs, int64_t k, float* y, size_t ys) {
    const auto* w = reinterpret_cast<const BlockQ4_K*>(wp);
    const __m256i low = _mm256_set1_epi8(0xF);
    __m256 acc[NT];
    for (auto& v : acc) v = _mm256_setzero_ps();
    for (int64_t i = 0; i < k / QK_K; ++i) {
      prefetch_ahead<sizeof(BlockQ4_K)>(w + i);
      const __m128i s8 = q4k_scales(w[i].scales);  // sc0..7 | mn0..7
      const __m128i sc16 = _mm_cvtepu8_epi16(s8), mn = _mm_cvtepu8_epi16(_mm_srli_si128(s8, 8));
      // sc_j in both int16 halves of dword j % 4 of both lanes (vpshufd by an immediate
      // broadcasts it: no shuffle-control loads).
      const __m256i sc_a = _mm256_broadcastsi128_si256(_mm_unpacklo_epi16(sc16, sc16));
      const __m256i sc_b = _mm256_broadcastsi128_si256(_mm_unpackhi_epi16(sc16, sc16));
      const __m256i mn2 = _mm256_set_m128i(_mm_unpackhi_epi16(mn, mn), _mm_unpacklo_epi16(mn, mn));
      const float d = f16(w[i].d), dmin = f16(w[i].dmin);
      constexpr int C = NT <= 2 ? P::kChains : 1;
      __m256i isum[C][NT];
      for (auto& c : isum)
        for (auto& v : c) v = _mm256_setzero_si256();
      static_for<4>([&](auto ci) {
        constexpr int c = decltype(ci)::value;
        const __m256i b = in_reg(load256(w[i].qs + 32 * c));
        const __m256i lo = _mm256_and_si256(b, low);
        const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(b, 4), low);
        const __m256i scs = c < 2 ? sc_a : sc_b;
        const __m256i s_lo = _mm256_shuffle_epi32(scs, (2 * c % 4) * 0x55);
        const __m256i s_hi = _mm256_shuffle_epi32(scs, ((2 * c + 1) % 4) * 0x55);
#pragma GCC unroll 4
        for (int t = 0; t < NT; ++t) {
          const int8_t* q = xblock<BlockQ8_K>(x, xs, t, i)->qs + 64 * c;
          isum[c % C][t] = P::dp_scaled(isum[c % C][t], lo, load256(q), s_lo);
          isum[c % C][t] = P::dp_scaled(isum[c % C][t], hi, load256(q + 32), s_hi);
        }
      });
#pragma GCC unroll 4
      for (int t = 0; t < NT; ++t) {
        const BlockQ8_K* xb = xblock<BlockQ8_K>(x, xs, t, i);
        const __m256i mins = bsums_dot(xb, mn2);
        acc[t] = finish_q8k_mins(acc[t], xb, d, isum_total(isum, t), dmin, mins);
      }
    }
    for (int t = 0; t < NT; ++t) y[t * ys] = hsum(acc[t]);
  }
};

template <X86Isa P>
struct Q6_Kx256 {
  using Isa = P;
  template <int NT>
  static void dot(const uint8_t* wp, const uint8_t* x, size_t xs, int64_t k, float* y, size_t ys) {
    const auto* w = reinterpret_cast<const BlockQ6_K*>(wp);
    const __m256i low = _mm256_set1_epi8(0xF), three = _mm256_set1_epi8(3);
    __m256 acc[NT];
    for (auto& v : acc) v = _mm256_setzero_ps();
    for (int64_t i = 0; i < k / QK_K; ++i) {
      prefetch_ahead<sizeof(BlockQ6_K)>(w + i);
      const __m128i sc8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w[i].scales));
      const __m256i sc16 = _mm256_cvtepi8_epi16(sc8);
      const float d = f16(w[i].d);
      constexpr int C = NT <= 2 ? P::kChains : 1;
      __m256i isum[C][NT];
      for (auto& c : isum)
        for (auto& v : c) v = _mm256_setzero_si256();
#pragma GCC unroll 2
      for (int h = 0; h < 2; ++h) {
        const __m256i sch = pair_scales(_mm_cvtepi8_epi16(h ? _mm_srli_si128(sc8, 8) : sc8));
        const uint8_t* ql = w[i].ql + 64 * h;
        const __m256i l0 = load256(ql), l1 = load256(ql + 32);
        const __m256i qh = load256(w[i].qh + 32 * h);
        __m256i q[4];
        q[0] = _mm256_or_si256(_mm256_and_si256(l0, low),
                               _mm256_slli_epi16(_mm256_and_si256(qh, three), 4));
        q[1] = _mm256_or_si256(
            _mm256_and_si256(l1, low),
            _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), three), 4));
        q[2] = _mm256_or_si256(
            _mm256_and_si256(_mm256_srli_epi16(l0, 4), low),
            _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), three), 4));
        q[3] = _mm256_or_si256(
            _mm256_and_si256(_mm256_srli_epi16(l1, 4), low),
            _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), three), 4));
        static_for<4>([&](auto ji) {
          constexpr int j = decltype(ji)::value;
          const __m256i s = _mm256_shuffle_epi32(sch, j * 0x55);
#pragma GCC unroll 4
          for (int t = 0; t < NT; ++t) {
            const int8_t* qx = xblock<BlockQ8_K>(x, xs, t, i)->qs + 128 * h + 32 * j;
            isum[j % C][t] = P::dp_scaled(isum[j % C][t], q[j], load256(qx), s);
          }
        });
      }
#pragma GCC unroll 4
      for (int t = 0; t < NT; ++t) {
        const BlockQ8_K* xb = xblock<BlockQ8_K>(x, xs, t, i);
        const __m256i off = _mm256_slli_epi32(bsums_dot(xb, sc16), 5);
        acc[t] = finish_q8k(acc[t], xb, d, _mm256_sub_epi32(isum_total(isum, t), off));
      }
    }
    for (int t = 0; t < NT; ++t) y[t * ys] = hsum(acc[t]);
  }
};

template <X86Isa P>
struct Q2_Kx256 {
  using Isa = P;
  template <int NT>
  static void dot(const uint8_t* wp, const uint8_t* x, size_t xs, int64_t k, float* y, size_t ys) {
    const auto* w = reinterpret_cast<const BlockQ2_K*>(wp);
    const __m128i low4 = _mm_set1_epi8(0xF);
    const __m256i three = _mm256_set1_epi8(3);
    __m256 acc[NT];
    for (auto& v : acc) v = _mm256_setzero_ps();
    for (int64_t i = 0; i < k / QK_K; ++i) {
      prefetch_ahead<sizeof(BlockQ2_K)>(w + i);
      const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w[i].scales));
      const __m128i sc8 = _mm_and_si128(raw, low4);
      const __m256i mn16 = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(raw, 4), low4));
      const float d = f16(w[i].d), dmin = f16(w[i].dmin);
      constexpr int C = NT <= 2 ? P::kChains : 1;
      __m256i isum[C][NT];
      for (auto& c : isum)
        for (auto& v : c) v = _mm256_setzero_si256();
#pragma GCC unroll 2
      for (int h = 0; h < 2; ++h) {
        const __m256i sch =
            _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(h ? _mm_srli_si128(sc8, 8) : sc8));
        const __m256i b = load256(w[i].qs + 32 * h);
#pragma GCC unroll 4
        for (int j = 0; j < 4; ++j) {
          // elements 128h + 32j + l are bits 2j..2j+1 of qs[32h + l]: sub-blocks 8h+2j, +1
          const __m256i q = _mm256_and_si256(_mm256_srli_epi16(b, 2 * j), three);
          const __m256i s = _mm256_shuffle_epi8(sch, pick16(2 * j, 2 * j + 1));
#pragma GCC unroll 4
          for (int t = 0; t < NT; ++t) {
            const int8_t* qx = xblock<BlockQ8_K>(x, xs, t, i)->qs + 128 * h + 32 * j;
            isum[j % C][t] = P::dp_scaled(isum[j % C][t], q, load256(qx), s);
          }
        }
      }
#pragma GCC unroll 4
      for (int t = 0; t < NT; ++t) {
        const BlockQ8_K* xb = xblock<BlockQ8_K>(x, xs, t, i);
        const __m256i mins = bsums_dot(xb, mn16);
        acc[t] = finish_q8k_mins(acc[t], xb, d, isum_total(isum, t), dmin, mins);
      }
    }
    for (int t = 0; t < NT; ++t) y[t * ys] = hsum(acc[t]);
  }
};

}  // namespace
}  // namespace nibble::kernels::x86
