// 256-bit row-major kernels, part 1: Q8_0 x Q8_0, Q4_0 x Q8_0, F16 x F32, F32 x F32 (the
// integer ones templates over an ISA policy P, kernels/x86/common/isa.h; every x86 ISA runs
// them: EVEX-encoded in the AVX-512 folders). P::dp is exact with no saturation as long as each
// pair of u*s fits int16 (the bounds below).
//
// Q8_0 / Q4_0: signed x signed through sign folding: |w| (u8, <= 128) times x with w's sign
// (|x| <= 127: the Q8 activation quantizer never produces -128). int16 pairs <= 2*128*127 =
// 32512 < 32767 (no vpmaddubsw saturation); int32 lanes per block <= 4*128*127; per-block sums
// go to f32 at once (times d_w*d_x), so nothing accumulates in integers across blocks.
// Float formats: 8-wide FMA over the row (F16 via vcvtph2ps), scalar tail for k % 8.
#pragma once

#include "kernels/x86/common/driver.h"

namespace nibble::kernels::x86 {
namespace {

// Rows of 32-element blocks with signed weights (unpack(i, &d_w) -> the 32 int8 weights of
// block i) times Q8_0 activations; dx: the activation scales in f32 (kScales, see driver.h).
// Blocks go in groups of 4: g = d0 s0 + d1 s1 and h = d2 s2 + d3 s3 (a multiply and an FMA
// each), then acc += g + h. One FMA chain per token bounded a decode GEMV at one block per FMA
// latency (4 cycles), below a Zen 4 core's memory bandwidth; the grouping leaves one add per 4
// blocks on the loop-carried chain and gives every token the same operation order whatever the
// token count, so a prompt evaluated in chunks equals one evaluated at once (docs/kernels-x86.md).
template <class P, int NT, bool kScales, typename Unpack>
inline void q8_blocks(Unpack unpack, int64_t nb, const uint8_t* x, size_t xs, const float* dx,
                      float* y, size_t ys) {
  __m256 acc[NT];
  for (auto& v : acc) v = _mm256_setzero_ps();
  // Unpacks block i once and calls f(t, d, s) for every token: d = d_w d_x, s = the block's
  // int32 dot product as f32.
  auto block = [&](int64_t i, auto&& f) {
    float dw;
    const __m256i qw = unpack(i, &dw);
    const __m256i aw = _mm256_sign_epi8(qw, qw);
    const __m256 dwv = _mm256_set1_ps(dw);
#pragma GCC unroll 8
    for (int t = 0; t < NT; ++t) {
      const BlockQ8_0* xb = xblock<BlockQ8_0>(x, xs, t, i);
      const __m256i sx = _mm256_sign_epi8(load256(xb->qs), qw);
      __m256 d;
      if constexpr (kScales) {
        d = _mm256_mul_ps(dwv, _mm256_broadcast_ss(dx + t * nb + i));
      } else {
        d = _mm256_set1_ps(dw * f16(xb->d));
      }
      f(t, d, _mm256_cvtepi32_ps(P::dp(_mm256_setzero_si256(), aw, sx)));
    }
  };
  int64_t i = 0;
  for (; i + 4 <= nb; i += 4) {
    __m256 g[NT], h[NT];
    block(i, [&](int t, __m256 d, __m256 s) { g[t] = _mm256_mul_ps(d, s); });
    block(i + 1, [&](int t, __m256 d, __m256 s) { g[t] = _mm256_fmadd_ps(d, s, g[t]); });
    block(i + 2, [&](int t, __m256 d, __m256 s) { h[t] = _mm256_mul_ps(d, s); });
    block(i + 3, [&](int t, __m256 d, __m256 s) { h[t] = _mm256_fmadd_ps(d, s, h[t]); });
#pragma GCC unroll 8
    for (int t = 0; t < NT; ++t) acc[t] = _mm256_add_ps(acc[t], _mm256_add_ps(g[t], h[t]));
  }
  for (; i < nb; ++i)
    block(i, [&](int t, __m256 d, __m256 s) { acc[t] = _mm256_fmadd_ps(d, s, acc[t]); });
  for (int t = 0; t < NT; ++t) y[t * ys] = hsum(acc[t]);
}

template <X86Isa P>
struct Q8_0x256 {
  using Isa = P;
  template <int NT, bool kScales>
  static void dot(const uint8_t* wp, const uint8_t* x, size_t xs, int64_t k, float* y, size_t ys,
                  const float* dx) {
    const auto* w = reinterpret_cast<const BlockQ8_0*>(wp);
    q8_blocks<P, NT, kScales>(
        [w](int64_t i, float* d) {
          prefetch_ahead<sizeof(BlockQ8_0)>(w + i);
          *d = f16(w[i].d);
          return load256(w[i].qs);
        },
        k / QK, x, xs, dx, y, ys);
  }
};

template <X86Isa P>
struct Q4_0x256 {
  using Isa = P;
  template <int NT, bool kScales>
  static void dot(const uint8_t* wp, const uint8_t* x, size_t xs, int64_t k, float* y, size_t ys,
                  const float* dx) {
    const auto* w = reinterpret_cast<const BlockQ4_0*>(wp);
    q8_blocks<P, NT, kScales>(
        [w](int64_t i, float* d) {
          prefetch_ahead<sizeof(BlockQ4_0)>(w + i);
          *d = f16(w[i].d);
          const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w[i].qs));
          const __m256i both = _mm256_set_m128i(_mm_srli_epi16(b, 4), b);
          return _mm256_sub_epi8(_mm256_and_si256(both, _mm256_set1_epi8(0xF)),
                                 _mm256_set1_epi8(8));  // -8..7
        },
        k / QK, x, xs, dx, y, ys);
  }
};

struct F32x256 {                         // ISA-independent (AVX2 + FMA)
  static constexpr int kTokenBlock = 4;  // measured faster than the ISA's 3
  template <int NT>
  static void dot(const uint8_t* wp, const uint8_t* x, size_t xs, int64_t k, float* y, size_t ys) {
    const auto* w = reinterpret_cast<const float*>(wp);
    const float* xt[NT];
    for (int t = 0; t < NT; ++t) xt[t] = reinterpret_cast<const float*>(x + t * xs);
    __m256 acc[NT], acc2[NT];
    for (int t = 0; t < NT; ++t) acc[t] = acc2[t] = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= k; i += 16) {  // two chains hide the FMA latency
      const __m256 w0 = _mm256_loadu_ps(w + i), w1 = _mm256_loadu_ps(w + i + 8);
#pragma GCC unroll 8
      for (int t = 0; t < NT; ++t) {
        acc[t] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(xt[t] + i), acc[t]);
        acc2[t] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(xt[t] + i + 8), acc2[t]);
      }
    }
    for (; i + 8 <= k; i += 8) {
      const __m256 w0 = _mm256_loadu_ps(w + i);
      for (int t = 0; t < NT; ++t) acc[t] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(xt[t] + i), acc[t]);
    }
    for (int t = 0; t < NT; ++t) {
      float s = hsum(_mm256_add_ps(acc[t], acc2[t]));
      for (int64_t j = i; j < k; ++j) s += w[j] * xt[t][j];
      y[t * ys] = s;
    }
  }
};

struct F16x256 {                         // ISA-independent (AVX2 + FMA + F16C)
  static constexpr int kTokenBlock = 4;  // measured faster than the ISA's 3
  template <int NT>
  static void dot(const uint8_t* wp, const uint8_t* x, size_t xs, int64_t k, float* y, size_t ys) {
    const auto* w = reinterpret_cast<const uint16_t*>(wp);
    const float* xt[NT];
    for (int t = 0; t < NT; ++t) xt[t] = reinterpret_cast<const float*>(x + t * xs);
    __m256 acc[NT], acc2[NT];
    for (int t = 0; t < NT; ++t) acc[t] = acc2[t] = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= k; i += 16) {
      const __m256 w0 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + i)));
      const __m256 w1 =
          _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + i + 8)));
#pragma GCC unroll 8
      for (int t = 0; t < NT; ++t) {
        acc[t] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(xt[t] + i), acc[t]);
        acc2[t] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(xt[t] + i + 8), acc2[t]);
      }
    }
    for (; i + 8 <= k; i += 8) {
      const __m256 w0 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + i)));
      for (int t = 0; t < NT; ++t) acc[t] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(xt[t] + i), acc[t]);
    }
    for (int t = 0; t < NT; ++t) {
      float s = hsum(_mm256_add_ps(acc[t], acc2[t]));
      for (int64_t j = i; j < k; ++j) s += f16(w[j]) * xt[t][j];
      y[t * ys] = s;
    }
  }
};

}  // namespace
}  // namespace nibble::kernels::x86
