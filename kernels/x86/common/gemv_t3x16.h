// TQ1_0 read in its own base-3 bytes (layout "t3x16", kernels/pack/t3x16.cpp; decision 38),
// AVX-512 VNNI. Resident weights are exactly the file's bytes (the t2x8 layout is 22 % larger).
//
// Decode (1-4 tokens) reads the trits in place. Trit n of a byte q is t_n = floor(3 q_n / 256)
// with q_n = q 3^n mod 256 (GGUF's decoder), so 3 q_n = 256 t_n + q_(n+1) exactly, and per
// column of 16 rows x 4 bytes
//   256 sum_n t_n x_n = 3 sum_n q_n x_n - sum_n q_(n+1) x_n,
// two vpdpbusd (u8 q x s8 x) and one q x 3 (two byte adds) per plane, no trit extraction.
// |lane| per block <= 64 x 4 x 255 x 128 < 2^24, so 3 S1 fits int32 and the shift by 8 is
// exact: the integer is sum c x of the t2x8 kernels (c = t = w + 1), and the f32 step is
// theirs, so results are bit-identical to the t2x8 GEMV (tests/kernels/t3x16_test.cpp).
// More tokens (prefill, speculative verification): row blocks are converted to t2x8 in a
// per-thread scratch (kernels/x86 mask adds, ~0.05 cycles per weight) and handed to the ISA's
// t2x8 GEMM (AMX or VNNI tiles), which is bit-identical to the same GEMV.
#pragma once

// avx512_warnings.h first: its pragmas must precede <immintrin.h>.
#include "kernels/x86/common/avx512_warnings.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/x86/common/gemv_x8.h"
#include "kernels/x86/common/trit512.h"

namespace nibble::kernels::x86 {
namespace {

constexpr int kT3Rows = 16;
constexpr size_t kT3BlockBytes = kT3Rows * 54;  // 864
constexpr int kT3Direct = 4;                    // most tokens read in place

// One 64-byte column (16 rows x 4 bytes), `Planes` trits per byte, activations of plane n at
// xq[t] + off + stride n: s1 += q_n x_n, s2 += q_(n+1) x_n.
template <int NT, int A, int Planes>
inline void t3_column(__m512i q, const int8_t* const (&xq)[NT], int off, int stride,
                      __m512i (&s1)[A][NT], __m512i (&s2)[A][NT]) {
#pragma GCC unroll 5
  for (int n = 0; n < Planes; ++n) {
    const __m512i q1 = times3(q);
#pragma GCC unroll 4
    for (int t = 0; t < NT; ++t) {
      const __m512i x = z_bcast32(xq[t] + off + stride * n);
      s1[n % A][t] = _mm512_dpbusd_epi32(s1[n % A][t], q, x);
      s2[n % A][t] = _mm512_dpbusd_epi32(s2[n % A][t], q1, x);
    }
    q = q1;
  }
}

// Blocks [b0, b1) of one 16-row group for NT tokens: acc += float(sum c x - sum x) x d_w d_x.
template <int NT>
void t3_group(const uint8_t* gw, const BlockQ8_K* const (&x)[NT], const int32_t* const (&xs)[NT],
              int64_t b0, int64_t b1, __m512 (&acc)[NT]) {
  constexpr int A = NT == 1 ? 5 : NT == 2 ? 2 : 1;  // accumulator sets: enough chains per token
  for (int64_t b = b0; b < b1; ++b) {
    const uint8_t* blk = prefetched(gw + b * kT3BlockBytes, kT3BlockBytes, weight_prefetch);
    const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk)));
    const uint8_t* qs = blk + 2 * kT3Rows;
    __m512i s1[A][NT], s2[A][NT];
    for (int i = 0; i < A; ++i)
      for (int t = 0; t < NT; ++t) s1[i][t] = s2[i][t] = _mm512_setzero_si512();
    const int8_t* xq[NT];
    for (int t = 0; t < NT; ++t) xq[t] = x[t][b].qs;
#pragma GCC unroll 8
    for (int c = 0; c < 8; ++c)
      t3_column<NT, A, 5>(_mm512_loadu_si512(qs + 64 * c), xq, 4 * c, 32, s1, s2);
#pragma GCC unroll 4
    for (int c = 0; c < 4; ++c)
      t3_column<NT, A, 5>(_mm512_loadu_si512(qs + 64 * (8 + c)), xq, 160 + 4 * c, 16, s1, s2);
    t3_column<NT, A, 4>(_mm512_loadu_si512(qs + 64 * 12), xq, 240, 4, s1, s2);
    for (int t = 0; t < NT; ++t) {
      __m512i a1 = s1[0][t], a2 = s2[0][t];
      for (int i = 1; i < A; ++i) {
        a1 = _mm512_add_epi32(a1, s1[i][t]);
        a2 = _mm512_add_epi32(a2, s2[i][t]);
      }
      __m512i v = _mm512_srai_epi32(
          _mm512_sub_epi32(_mm512_add_epi32(a1, _mm512_add_epi32(a1, a1)), a2), 8);
      v = _mm512_sub_epi32(v, _mm512_set1_epi32(xs[t][b - b0]));
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(v), _mm512_mul_ps(dw, _mm512_set1_ps(x[t][b].d)),
                               acc[t]);
    }
  }
}

// NT tokens from t0 over rows [row_begin, row_end): the x8 driver's order (K chunks of
// kX8Chunk blocks; a full group carries its sums across chunks, a partial one adds each chunk's
// sums to y), so the f32 results are those of the t2x8 GEMV.
template <int NT>
void t3_tokens(const MatmulArgs& a, int t0) {
  const int64_t nb = a.k / QK_K;
  const size_t group_bytes = a.w_row_bytes * kT3Rows;
  const BlockQ8_K* x[NT];
  for (int t = 0; t < NT; ++t)
    x[t] = reinterpret_cast<const BlockQ8_K*>(static_cast<const uint8_t*>(a.x) + (t0 + t) * a.x_stride);
  alignas(64) int32_t sums[NT][kX8Chunk];
  const int32_t* xs[NT];
  for (int t = 0; t < NT; ++t) xs[t] = sums[t];
  const int64_t g0 = a.row_begin / kT3Rows, g1 = (a.row_end + kT3Rows - 1) / kT3Rows;
  for (int64_t b0 = 0; b0 < nb; b0 += kX8Chunk) {
    const int64_t b1 = std::min(nb, b0 + kX8Chunk);
    for (int t = 0; t < NT; ++t)
      for (int64_t b = b0; b < b1; ++b) sums[t][b - b0] = q8_k_sum(x[t][b]);
    for (int64_t g = g0; g < g1; ++g) {
      const int64_t r0 = g * kT3Rows;
      const int64_t lo = std::max<int64_t>(0, a.row_begin - r0);
      const int64_t hi = std::min<int64_t>(kT3Rows, a.row_end - r0);
      const bool full = lo == 0 && hi == kT3Rows;
      const auto mask = static_cast<__mmask16>(((1u << hi) - 1) & ~((1u << lo) - 1));
      __m512 acc[NT];
      for (int t = 0; t < NT; ++t)
        acc[t] = b0 > 0 && full ? _mm512_loadu_ps(a.y + (t0 + t) * a.y_stride + r0)
                                : _mm512_setzero_ps();
      t3_group<NT>(static_cast<const uint8_t*>(a.w) + g * group_bytes, x, xs, b0, b1, acc);
      for (int t = 0; t < NT; ++t) {
        float* y = a.y + (t0 + t) * a.y_stride + r0;
        if (!full && b0 > 0) acc[t] = _mm512_add_ps(_mm512_maskz_loadu_ps(mask, y), acc[t]);
        _mm512_mask_storeu_ps(y, mask, acc[t]);
      }
    }
  }
}

// t2x8 trit codes of 16 rows: out += (q >= 86) c + (q >= 171) c per byte, c = 1 << 2k.
inline __m512i t3_add_trit(__m512i out, __m512i q, int k) {
  return add_top_trit(out, q, _mm512_set1_epi8(static_cast<char>(1 << (2 * k))));
}

// One t3x16 block -> the two t2x8 blocks (528 bytes each) of its rows 0-7 and 8-15.
inline void t3_to_t2(const uint8_t* blk, uint8_t* lo, uint8_t* hi) {
  std::memcpy(lo, blk, 16);
  std::memcpy(hi, blk + 16, 16);
  const uint8_t* qs = blk + 2 * kT3Rows;
  auto emit = [&](int s, __m512i v) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(lo + 16 + 32 * s), _mm512_castsi512_si256(v));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(hi + 16 + 32 * s), _mm512_extracti64x4_epi64(v, 1));
  };
  // Chunk s holds elements 16s + 4k + i in bit pair k: s < 10 is plane s / 2 of columns
  // 4 (s % 2) + k, 10 <= s < 15 plane s - 10 of columns 8 + k, s = 15 the qh planes k.
  for (int h = 0; h < 3; ++h) {
    __m512i q[4];
    for (int k = 0; k < 4; ++k) q[k] = _mm512_loadu_si512(qs + 64 * (4 * h + k));
    for (int n = 0; n < 5; ++n) {
      __m512i out = _mm512_setzero_si512();
      for (int k = 0; k < 4; ++k) {
        out = t3_add_trit(out, q[k], k);
        q[k] = times3(q[k]);
      }
      emit(h < 2 ? 2 * n + h : 10 + n, out);
    }
  }
  __m512i q = _mm512_loadu_si512(qs + 64 * 12), out = _mm512_setzero_si512();
  for (int k = 0; k < 4; ++k) {
    out = t3_add_trit(out, q, k);
    q = times3(q);
  }
  emit(15, out);
}

// More than kT3Direct tokens: rows in blocks of up to 256 (scratch <= ~512 KiB, in L2),
// converted to t2x8 and passed to T2 (a t2x8 kernel of the same ISA).
template <MatmulFn T2>
void t3_via_t2(const MatmulArgs& a) {
  const int64_t nb = a.k / QK_K;
  const size_t t2_group = static_cast<size_t>(nb) * 528;
  const int64_t rows_fit = static_cast<int64_t>((size_t{512} << 10) / (t2_group / 8));
  const int64_t block = std::clamp<int64_t>(rows_fit / kT3Rows * kT3Rows, kT3Rows, 256);
  thread_local std::vector<uint8_t> scratch;
  if (scratch.size() < static_cast<size_t>(block / 8) * t2_group)
    scratch.resize(static_cast<size_t>(block / 8) * t2_group);
  const auto* w = static_cast<const uint8_t*>(a.w);
  const size_t group_bytes = a.w_row_bytes * kT3Rows;
  for (int64_t rb = a.row_begin; rb < a.row_end;) {
    const int64_t g0 = rb / kT3Rows, re = std::min(a.row_end, g0 * kT3Rows + block);
    const int64_t g1 = (re + kT3Rows - 1) / kT3Rows;
    for (int64_t g = g0; g < g1; ++g) {
      uint8_t* lo = scratch.data() + static_cast<size_t>(2 * (g - g0)) * t2_group;
      for (int64_t b = 0; b < nb; ++b)
        t3_to_t2(w + g * group_bytes + b * kT3BlockBytes, lo + b * 528, lo + t2_group + b * 528);
    }
    MatmulArgs s = a;
    s.w = scratch.data();
    s.w_row_bytes = static_cast<size_t>(nb) * 66;
    s.row_begin = rb - g0 * kT3Rows;
    s.row_end = re - g0 * kT3Rows;
    s.y = a.y + g0 * kT3Rows;
    T2(s);
    rb = re;
  }
}

template <MatmulFn T2>
void matmul_t3x16(const MatmulArgs& a) {
  switch (a.n_tokens) {
    case 1: return t3_tokens<1>(a, 0);
    case 2: return t3_tokens<2>(a, 0);
    case 3: return t3_tokens<3>(a, 0);
    case 4: return t3_tokens<4>(a, 0);
    default: return t3_via_t2<T2>(a);
  }
}

}  // namespace
}  // namespace nibble::kernels::x86
