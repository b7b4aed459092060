// 512-bit row-major kernels, part 1: helpers, F16 x F32, F32 x F32 (the avx512 and avx512vnni
// folders; the integer kernels of parts 2 and 3 take an X86Isa512 policy, whose dpz_scaled,
// dpz_small, dpz_small_done are the 512-bit forms of dp_scaled, dp_small, dp_small_done:
// kernels/x86/common/isa.h).
//
// No 512-bit Q8_0 / Q4_0 here: a version with two 32-element blocks per zmm (per-block scales
// as [d_i x 8 | d_i+1 x 8], sign folding by vpmovb2m + masked vpsubb) measured 14 GB/s against
// 19.6 GB/s for the 256-bit kernel (GEMV, 896 x 512, this machine), and slower in prefill too:
// the per-block scale vectors and the 256-bit halves of the activations (34-byte blocks) cost
// port-5 shuffles that the wider multiply does not pay back. The avx512 folders run the
// 256-bit kernels for those formats (docs/kernels-x86.md).
// Float formats: 16-wide FMA, the k % 16 tail by masked loads (no scalar tail).
#pragma once

#include "kernels/x86/common/driver.h"

namespace nibble::kernels::x86 {
namespace {

inline __m512i load512(const void* p) { return _mm512_loadu_si512(p); }
inline __m512i join256(__m256i lo, __m256i hi) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}
// int32 lanes of a zmm folded to 8 (lane j + lane j + 8).
inline __m256i fold256(__m512i v) {
  return _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
}
template <int C, int NT>
inline __m512i isum_total(const __m512i (&v)[C][NT], int t) {
  __m512i s = v[0][t];
  for (int c = 1; c < C; ++c) s = _mm512_add_epi32(s, v[c][t]);
  return s;
}
// The same for dp_small chains (each finished to int32 first: AVX2/AVX-512 keep int16 lanes).
template <class P, int C, int NT>
inline __m512i small_total(const __m512i (&v)[C][NT], int t) {
  __m512i s = P::dpz_small_done(v[0][t]);
  for (int c = 1; c < C; ++c) s = _mm512_add_epi32(s, P::dpz_small_done(v[c][t]));
  return s;
}
// vpermw index that transposes 16 int16 scales s0..s15 (sub-blocks of 16 elements) so that
// dword m of 128-bit lane L holds s_4m+L in both halves: vpshufd by the immediate m * 0x55 then
// gives lane L the scale of sub-block 4m + L (the 64 elements 64m .. 64m + 63 of a zmm).
struct Zmm16Tables {
  alignas(64) int16_t transpose[32];
  alignas(64) int16_t lane[16][32];  // lane_index
};
inline constexpr Zmm16Tables kZmm16 = [] {
  Zmm16Tables t{};
  for (int l = 0; l < 4; ++l)
    for (int m = 0; m < 4; ++m)
      for (int k = 0; k < 2; ++k) t.transpose[8 * l + 2 * m + k] = static_cast<int16_t>(4 * m + l);
  for (int a = 0; a < 16; ++a)
    for (int i = 0; i < 32; ++i) t.lane[a][i] = static_cast<int16_t>(a + i / 8);
  return t;
}();
// vpermw index: every int16 of 128-bit lane L (0..3) picks element a + L (Q2_K: one vpermw
// per zmm measured faster there than lane_scales + vpshufd).
inline __m512i lane_index(int a) { return load512(kZmm16.lane[a]); }
inline __m512i lane_scales(__m512i scz) {
  return _mm512_permutexvar_epi16(load512(kZmm16.transpose), scz);
}
// vpsrlvw counts: `lo` for the low 256 bits, `hi` for the high 256 bits.
inline __m512i shift_pair(int lo, int hi) {
  return join256(_mm256_set1_epi16(static_cast<int16_t>(lo)),
                 _mm256_set1_epi16(static_cast<int16_t>(hi)));
}

// F32 / F16: `Load` turns 16 weights at w + i (mask: the valid ones) into f32.
template <int NT, typename T, typename Load>
inline void float_dot(const T* w, const uint8_t* x, size_t xs, int64_t k, float* y, size_t ys,
                      Load load) {
  const float* xt[NT];
  for (int t = 0; t < NT; ++t) xt[t] = reinterpret_cast<const float*>(x + t * xs);
  __m512 acc[NT], acc2[NT];
  for (int t = 0; t < NT; ++t) acc[t] = acc2[t] = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= k; i += 32) {  // two chains hide the FMA latency
    const __m512 w0 = load(w + i, __mmask16(0xFFFF)), w1 = load(w + i + 16, __mmask16(0xFFFF));
#pragma GCC unroll 4
    for (int t = 0; t < NT; ++t) {
      acc[t] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(xt[t] + i), acc[t]);
      acc2[t] = _mm512_fmadd_ps(w1, _mm512_loadu_ps(xt[t] + i + 16), acc2[t]);
    }
  }
  for (; i < k; i += 16) {
    const __mmask16 m = k - i >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (k - i)) - 1);
    const __m512 w0 = load(w + i, m);
#pragma GCC unroll 4
    for (int t = 0; t < NT; ++t)
      acc[t] = _mm512_fmadd_ps(w0, _mm512_maskz_loadu_ps(m, xt[t] + i), acc[t]);
  }
  for (int t = 0; t < NT; ++t) y[t * ys] = _mm512_reduce_add_ps(_mm512_add_ps(acc[t], acc2[t]));
}

struct F32x512 {  // ISA-independent (AVX-512F + F16C)
  static constexpr int kTokenBlock = 4;
  template <int NT>
  static void dot(const uint8_t* wp, const uint8_t* x, size_t xs, int64_t k, float* y, size_t ys) {
    float_dot<NT>(reinterpret_cast<const float*>(wp), x, xs, k, y, ys,
                  [](const float* p, __mmask16 m) { return _mm512_maskz_loadu_ps(m, p); });
  }
};

struct F16x512 {  // ISA-independent (AVX-512F + F16C)
  static constexpr int kTokenBlock = 4;
  template <int NT>
  static void dot(const uint8_t* wp, const uint8_t* x, size_t xs, int64_t k, float* y, size_t ys) {
    float_dot<NT>(reinterpret_cast<const uint16_t*>(wp), x, xs, k, y, ys,
                  [](const uint16_t* p, __mmask16 m) {
                    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
                  });
  }
};

}  // namespace
}  // namespace nibble::kernels::x86
