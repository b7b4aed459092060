// 256-bit row-major kernels, part 3: the ternary formats TQ2_0 and TQ1_0 x Q8_K (templates
// over an ISA policy P, kernels/x86/common/isa.h). Both are unpacked to
// unsigned trits t in 0..2 (weight = t - 1); the offset is taken out through the Q8_K block
// sums: sum((t - 1) * x) = sum(t * x) - sum(bsums).
//
// TQ2_0: t = 2-bit fields of qs (element 128j + 32l + m = bits 2l of qs[32j + m]).
// TQ1_0: a byte holds 5 (qs) or 4 (qh) trits as a base-3 fraction: trit n of byte p is
//   floor(3 * (p * 3^n mod 256) / 256). p * 3^n mod 256 is computed by repeated wrapping byte
//   adds (q + q + q), and floor(3q / 256) = [q >= 86] + [q >= 171] (3*85 = 255, 3*170 = 510,
//   3*171 = 513) by saturating subtracts: min(q -sat 85, 1) + min(q -sat 170, 1).
//   Element order (GGUF): qs[0..31] trit n -> 32n + m; qs[32..47] trit n -> 160 + 16n + m;
//   qh[0..3] trit n -> 240 + 4n + j. Eight 32-byte vectors per block:
//   5 planes of qs[0..31]; [plane 0 | plane 1] and [plane 2 | plane 3] of qs[32..47];
//   [plane 4 of qs[32..47] | the 16 qh trits].
// Bounds: products t * x <= 2 * 127; AVX2 accumulates vpmaddubsw pairs in int16 lanes over the
// 8 vectors of one block: <= 8 * 2 * 2 * 127 = 4064 < 32767; VNNI accumulates in int32.
#pragma once

#include "kernels/x86/common/driver.h"

namespace nibble::kernels::x86 {
namespace {

// Sum of the C dp_small chains of token t (each finished to int32 first: AVX2 keeps int16).
template <class P, int C, int NT>
inline __m256i small_total(const __m256i (&v)[C][NT], int t) {
  __m256i s = P::dp_small_done(v[0][t]);
  for (int c = 1; c < C; ++c) s = _mm256_add_epi32(s, P::dp_small_done(v[c][t]));
  return s;
}

template <X86Isa P>
struct TQ2_0x256 {
  using Isa = P;
  template <int NT>
  static void dot(const uint8_t* wp, const uint8_t* x, size_t xs, int64_t k, float* y, size_t ys) {
    const auto* w = reinterpret_cast<const BlockTQ2_0*>(wp);
    const __m256i three = _mm256_set1_epi8(3), ones16 = _mm256_set1_epi16(1);
    __m256 acc[NT];
    for (auto& v : acc) v = _mm256_setzero_ps();
    for (int64_t i = 0; i < k / QK_K; ++i) {
      constexpr int C = NT <= 2 ? P::kChains : 1;
      __m256i isum[C][NT];
      for (auto& c : isum)
        for (auto& v : c) v = _mm256_setzero_si256();
#pragma GCC unroll 2
      for (int j = 0; j < 2; ++j) {
        const __m256i b = load256(w[i].qs + 32 * j);
#pragma GCC unroll 4
        for (int l = 0; l < 4; ++l) {
          const __m256i q = _mm256_and_si256(_mm256_srli_epi16(b, 2 * l), three);
#pragma GCC unroll 4
          for (int t = 0; t < NT; ++t) {
            const int8_t* qx = xblock<BlockQ8_K>(x, xs, t, i)->qs + 128 * j + 32 * l;
            isum[l % C][t] = P::dp_small(isum[l % C][t], q, load256(qx));
          }
        }
      }
      const float d = f16(w[i].d);
#pragma GCC unroll 4
      for (int t = 0; t < NT; ++t) {
        const BlockQ8_K* xb = xblock<BlockQ8_K>(x, xs, t, i);
        acc[t] = finish_q8k(acc[t], xb, d,
                            _mm256_sub_epi32(small_total<P>(isum, t), bsums_dot(xb, ones16)));
      }
    }
    for (int t = 0; t < NT; ++t) y[t * ys] = hsum(acc[t]);
  }
};

// floor(3q / 256) per byte: 0, 1 or 2.
inline __m256i top_trit(__m256i q) {
  const __m256i one = _mm256_set1_epi8(1);
  const __m256i a = _mm256_min_epu8(_mm256_subs_epu8(q, _mm256_set1_epi8(85)), one);
  const __m256i b =
      _mm256_min_epu8(_mm256_subs_epu8(q, _mm256_set1_epi8(static_cast<char>(170))), one);
  return _mm256_add_epi8(a, b);
}

// The 8 trit vectors of one TQ1_0 block (see the file comment for the order).
inline void tq1_unpack(const BlockTQ1_0& b, __m256i out[8]) {
  __m256i a = load256(b.qs);
  for (int n = 0; n < 5; ++n) {
    out[n] = top_trit(a);
    a = times3(a);
  }
  const __m128i s = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qs + 32));
  __m256i p = _mm256_set_m128i(times3(s), s);  // planes 0, 1
  out[5] = top_trit(p);
  p = times3(times3(p));  // planes 2, 3
  out[6] = top_trit(p);
  uint32_t h4;
  std::memcpy(&h4, b.qh, 4);
  __m128i h = _mm_set1_epi32(static_cast<int>(h4));  // dword n gets trit plane n
  __m128i h1 = times3(h), h2 = times3(h1), h3 = times3(h2);
  h = _mm_blend_epi32(h, h1, 0x2);
  h = _mm_blend_epi32(h, h2, 0x4);
  h = _mm_blend_epi32(h, h3, 0x8);
  const __m128i s4 = times3(times3(_mm256_castsi256_si128(p)));  // plane 4
  out[7] = top_trit(_mm256_set_m128i(h, s4));
}

template <X86Isa P>
struct TQ1_0x256 {
  using Isa = P;
  static constexpr int kTokenBlock = 4;  // measured faster than 3 (its unpack is the cost)
  template <int NT>
  static void dot(const uint8_t* wp, const uint8_t* x, size_t xs, int64_t k, float* y, size_t ys) {
    const auto* w = reinterpret_cast<const BlockTQ1_0*>(wp);
    const __m256i ones16 = _mm256_set1_epi16(1);
    __m256 acc[NT];
    for (auto& v : acc) v = _mm256_setzero_ps();
    for (int64_t i = 0; i < k / QK_K; ++i) {
      __m256i q[8];
      tq1_unpack(w[i], q);
      constexpr int C = NT <= 2 ? P::kChains : 1;
      __m256i isum[C][NT];
      for (auto& c : isum)
        for (auto& v : c) v = _mm256_setzero_si256();
#pragma GCC unroll 8
      for (int j = 0; j < 8; ++j) {
#pragma GCC unroll 4
        for (int t = 0; t < NT; ++t)
          isum[j % C][t] = P::dp_small(isum[j % C][t], q[j],
                                       load256(xblock<BlockQ8_K>(x, xs, t, i)->qs + 32 * j));
      }
      const float d = f16(w[i].d);
#pragma GCC unroll 4
      for (int t = 0; t < NT; ++t) {
        const BlockQ8_K* xb = xblock<BlockQ8_K>(x, xs, t, i);
        acc[t] = finish_q8k(acc[t], xb, d,
                            _mm256_sub_epi32(small_total<P>(isum, t), bsums_dot(xb, ones16)));
      }
    }
    for (int t = 0; t < NT; ++t) y[t * ys] = hsum(acc[t]);
  }
};

}  // namespace
}  // namespace nibble::kernels::x86
