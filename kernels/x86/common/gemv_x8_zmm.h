// The 512-bit pair form of the one-token x8 pass (gemv_x8.h), for units compiled with AVX-512
// VNNI + BW: two 8-row groups in one zmm, group A (the pass's first stream) in lanes 0-7 and
// group B (the second, half the range further) in lanes 8-15. Each 32-byte load of the 8-row
// layouts becomes one ymm load plus one vinserti64x4 from memory, and every operation after it
// (masks, shifts, vpdpbusd against the same broadcast activations, scales, the f32 finish)
// serves 16 rows instead of 8: about 0.55x the instructions per weight byte.
//
// Why: with one token the Q4_K, Q6_K and ternary (t2x8) passes were bound by instructions, not
// by memory, on a Zen 5 core: from L2 (a 2048 x 256 matrix, 1 thread) they ran at 40, 41 and
// 28 GB/s against a read probe of 34-38 GB/s (Q4_0: 48, Q8_0: 73), so out of memory they
// reached 0.75-0.85 of the probe and a second weight stream did not help (decision 57).
//
// Per lane the integer sums are the ymm kernels' (exact) and the f32 steps are the same
// instructions in the same order (finish, finish_k), so each row's result is the same bits as
// in the 8-row pass (tests: BatchInvariance, the x8 kernel tests).
//
// X8Zmm<F>::block(blk, gs, x, xs, b, bi, acc): block b of the two groups whose bytes start at
// blk and blk + gs, one token; acc += the 16 rows' sums as in F::block<1>.
#pragma once

#include <immintrin.h>

#include <cstring>

namespace nibble::kernels::x86 {
namespace {

// The 16-row primitives, shared with the prefill tiles (GemmZmm, gemm_x8.h) and the t3x16
// GEMV: group A at p, group B at p + gs. (The AMX B-tile packing, gemm_amx.h, still has its
// own amx_pair / amx_scales.)
inline __m512i z_bcast32(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}
// The 32 bytes at p (lanes 0-7) and at p + gs (lanes 8-15).
inline __m512i z_pair(const uint8_t* p, size_t gs) {
  const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  return _mm512_inserti64x4(_mm512_castsi256_si512(lo),
                            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + gs)), 1);
}
// The 8 bytes at p then the 8 at p + gs (the two groups' per-row scale bytes).
inline __m128i z_pair8(const uint8_t* p, size_t gs) {
  return _mm_unpacklo_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)),
                            _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + gs)));
}
// The 16 rows' fp16 scales (8 at p, 8 at p + gs) as f32.
inline __m512 z_scales(const uint8_t* p, size_t gs) {
  const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m256i v = _mm256_inserti128_si256(
      _mm256_castsi128_si256(lo), _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + gs)), 1);
  return _mm512_cvtph_ps(v);
}
// Q4_K: isum + a times the 16 rows' unsigned scale bytes at sc, sc + gs (vpmulld).
inline __m512i z_scale_k(__m512i isum, __m512i a, const uint8_t* sc, size_t gs) {
  return _mm512_add_epi32(isum, _mm512_mullo_epi32(a, _mm512_cvtepu8_epi32(z_pair8(sc, gs))));
}
// Q4_K mins of sub-blocks 2p, 2p + 1 (bytes at mn, mn + 8 of each group) as int16 pairs per row.
inline __m512i z_mins16(const uint8_t* mn, size_t gs) {
  const auto pairs = [](const uint8_t* m) {
    return _mm_unpacklo_epi8(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(m)),
                             _mm_loadl_epi64(reinterpret_cast<const __m128i*>(m + 8)));
  };
  return _mm512_cvtepu8_epi16(
      _mm256_inserti128_si256(_mm256_castsi128_si256(pairs(mn)), pairs(mn + gs), 1));
}
// The 8 floats at y0 (lanes 0-7) and at y1 (8-15); the store back (y1 null: low half only).
inline __m512 z_loadf(const float* y0, const float* y1) {
  return _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_loadu_ps(y0)), _mm256_loadu_ps(y1), 1);
}
inline void z_storef(float* y0, float* y1, __m512 v) {
  _mm256_storeu_ps(y0, _mm512_castps512_ps256(v));
  if (y1) _mm256_storeu_ps(y1, _mm512_extractf32x8_ps(v, 1));
}
// finish and finish_k (gemv_x8.h) on 16 lanes.
inline __m512 z_finish(__m512 acc, __m512i isum, int32_t xs, __m512 dw, float dx) {
  const __m512i v = _mm512_sub_epi32(isum, _mm512_set1_epi32(xs));
  return _mm512_fmadd_ps(_mm512_cvtepi32_ps(v), _mm512_mul_ps(dw, _mm512_set1_ps(dx)), acc);
}
inline __m512 z_finish_k(__m512 acc, __m512i isum, __m512i mins, __m512 dw, __m512 dmw, float dx) {
  const __m512 vdx = _mm512_set1_ps(dx);
  acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_mul_ps(dw, vdx), acc);
  return _mm512_fnmadd_ps(_mm512_cvtepi32_ps(mins), _mm512_mul_ps(dmw, vdx), acc);
}

// Formats with a pair form specialise this (gemv_x8.h asks for X8Zmm<F>::kOn).
template <class F>
struct X8Zmm {};

// Q4_K: nibbles_mac (four accumulators, summed), x8_scale by vpmulld (z_scale_k), the mins by
// vpmaddwd (z_mins16, GemmZmm's), as Q4_Kx8 with VNNI.
template <X86IsaX8 P>
struct X8Zmm<Q4_Kx8<P>> {
  static constexpr bool kOn = true;
  static void block(const uint8_t* ba, size_t gs, const BlockQ8_K* x, const int32_t* xs,
                    int64_t b, int64_t bi, __m512& acc) {
    constexpr int kSc = 4 * kX8Rows, kMn = kSc + 8 * kX8Rows, kQs = kMn + 8 * kX8Rows;
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    __m512i isum = _mm512_setzero_si512(), mins = _mm512_setzero_si512();
#pragma GCC unroll 8
    for (int j = 0; j < 8; ++j) {
      const int8_t* xq = x[b].qs + 32 * j;
      __m512i p[4];
#pragma GCC unroll 4
      for (int l = 0; l < 4; ++l) {
        const int o = kQs + 128 * j + 32 * l;
        const __m512i v = z_pair(ba + o, gs);
        const __m512i lo = _mm512_and_si512(v, m4);
        const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
        p[l] = _mm512_dpbusd_epi32(
            _mm512_dpbusd_epi32(_mm512_setzero_si512(), lo, z_bcast32(xq + 8 * l)), hi,
            z_bcast32(xq + 8 * l + 4));
      }
      const __m512i a =
          _mm512_add_epi32(_mm512_add_epi32(p[0], p[1]), _mm512_add_epi32(p[2], p[3]));
      isum = z_scale_k(isum, a, ba + kSc + 8 * j, gs);
    }
#pragma GCC unroll 4
    for (int p = 0; p < 4; ++p) {  // mins, two sub-blocks per vpmaddwd
      const __m512i m16 = z_mins16(ba + kMn + 16 * p, gs);
      mins = _mm512_add_epi32(mins, _mm512_madd_epi16(m16, _mm512_set1_epi32(xs[4 * bi + p])));
    }
    acc = z_finish_k(acc, isum, mins, z_scales(ba, gs),
                     z_scales(ba + 2 * kX8Rows, gs), x[b].d);
  }
};

// Q6_K: q6_unpack on 16 rows, vectors 0-3 by vpdpbusd into one int32 sum per group, times
// the signed group scales (vpmulld), the offset 32 x sum sc x bsum by vpmaddwd, as Q6_Kx8 with
// VNNI.
template <X86IsaX8 P>
struct X8Zmm<Q6_Kx8<P>> {
  static constexpr bool kOn = true;
  static void block(const uint8_t* ba, size_t gs, const BlockQ8_K* x, const int32_t*,
                    int64_t b, int64_t, __m512& acc) {
    constexpr int kSc = 2 * kX8Rows, kSub = kSc + 16 * kX8Rows;
    const __m512i m6 = _mm512_set1_epi8(0x3F);
    __m512i isum = _mm512_setzero_si512(), offs = _mm512_setzero_si512();
#pragma GCC unroll 16
    for (int g = 0; g < 16; ++g) {
      const int o = kSub + 96 * g;
      const __m512i va = z_pair(ba + o, gs), vb = z_pair(ba + o + 32, gs),
                    vc = z_pair(ba + o + 64, gs);
      const __m512i t0 = _mm512_and_si512(_mm512_srli_epi16(va, 6), _mm512_set1_epi8(0x03));
      const __m512i t1 = _mm512_and_si512(_mm512_srli_epi16(vb, 4), _mm512_set1_epi8(0x0C));
      const __m512i t2 = _mm512_and_si512(_mm512_srli_epi16(vc, 2), _mm512_set1_epi8(0x30));
      const __m512i u3 = _mm512_or_si512(_mm512_or_si512(t0, t1), t2);
      const int8_t* xq = x[b].qs + 16 * g;
      __m512i a =
          _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_and_si512(va, m6), z_bcast32(xq));
      a = _mm512_dpbusd_epi32(a, _mm512_and_si512(vb, m6), z_bcast32(xq + 4));
      a = _mm512_dpbusd_epi32(a, _mm512_and_si512(vc, m6), z_bcast32(xq + 8));
      a = _mm512_dpbusd_epi32(a, u3, z_bcast32(xq + 12));
      const __m128i s8 = z_pair8(ba + kSc + 8 * g, gs);
      isum = _mm512_add_epi32(isum, _mm512_mullo_epi32(a, _mm512_cvtepi8_epi32(s8)));
    }
#pragma GCC unroll 8
    for (int j = 0; j < 8; ++j) {  // offset: scales of groups 2j, 2j + 1 x their bsums
      const __m128i s0 = z_pair8(ba + kSc + 16 * j, gs);
      const __m128i s1 = z_pair8(ba + kSc + 16 * j + 8, gs);
      // Row r's pair (sc_2j, sc_2j+1) as int16: A's rows from the low halves, B's from the high.
      const __m256i s16a = _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(s0, s1));
      const __m256i s16b = _mm256_cvtepi8_epi16(_mm_unpackhi_epi8(s0, s1));
      const __m512i s16 = _mm512_inserti64x4(_mm512_castsi256_si512(s16a), s16b, 1);
      int32_t pair;
      std::memcpy(&pair, x[b].bsums + 2 * j, 4);
      offs = _mm512_add_epi32(offs, _mm512_madd_epi16(s16, _mm512_set1_epi32(pair)));
    }
    acc = z_finish(acc, _mm512_sub_epi32(isum, _mm512_slli_epi32(offs, 5)), 0, z_scales(ba, gs),
                   x[b].d);
  }
};

// Ternary (t2x8): bit pair k multiplied in place (c x 4^k) into its own accumulator, even and
// odd chunks apart, divided by 4^k at the end of the block, as T2x8 with VNNI and one token.
template <X86IsaX8 P>
struct X8Zmm<T2x8<P>> {
  static constexpr bool kOn = true;
  static void block(const uint8_t* ba, size_t gs, const BlockQ8_K* x, const int32_t* xs,
                    int64_t b, int64_t bi, __m512& acc) {
    // Even chunks into e, odd into o (GCC kept a 2-D array indexed by s % 2 on the stack).
    const __m512i z = _mm512_setzero_si512();
    __m512i e[4] = {z, z, z, z}, o[4] = {z, z, z, z};
    const auto chunk = [&](int s, __m512i(&a)[4]) {
      const int off = 2 * kX8Rows + 32 * s;
      const __m512i v = z_pair(ba + off, gs);
#pragma GCC unroll 4
      for (int k = 0; k < 4; ++k) {
        const __m512i wk = _mm512_and_si512(v, _mm512_set1_epi8(static_cast<char>(3 << (2 * k))));
        a[k] = _mm512_dpbusd_epi32(a[k], wk, z_bcast32(x[b].qs + 16 * s + 4 * k));
      }
    };
#pragma GCC unroll 8
    for (int s = 0; s < 16; s += 2) chunk(s, e), chunk(s + 1, o);
    __m512i ak[4];
    for (int k = 0; k < 4; ++k) ak[k] = _mm512_add_epi32(e[k], o[k]);
    __m512i v = _mm512_add_epi32(ak[0], _mm512_srai_epi32(ak[1], 2));
    v = _mm512_add_epi32(
        v, _mm512_add_epi32(_mm512_srai_epi32(ak[2], 4), _mm512_srai_epi32(ak[3], 6)));
    acc = z_finish(acc, v, xs[bi], z_scales(ba, gs), x[b].d);
  }
};

}  // namespace
}  // namespace nibble::kernels::x86
