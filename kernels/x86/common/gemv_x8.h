// The 8-row interleaved x86 kernels: Q4_0 x Q8_0, Q8_0 x Q8_0, Q4_K, Q2_K and ternary x Q8_K
// over the load-time layouts "q4_0_x8", "q8_0_x8", "q4_k_x8", "q2_k_x8" and "t2x8"
// (kernels/pack/), templates over an X86IsaX8 policy P (kernels/x86/common/isa.h: x8_mac,
// x8_isum, x8_scale, q8x8_prep, q8x8_mac, kQ8x8Offset, optionally x8_dpbusd); instantiated by
// kernels/x86/{avx2,avxvnni,avx512vnni}/gemv_x8.cpp through NIBBLE_X86_X8_ENTRIES.
//
// Layout: 8 rows interleaved, one row per int32 lane, so 8 rows come out of one register with
// no horizontal sums, and each weight register (4 elements x 8 rows) is unpacked once for up to
// 4 tokens (tile: 8 rows x 4 tokens; n_tokens == 1 is the GEMV path, the same code with NT = 1).
//
// Q4_0 x8: per 32-element block, for each of its 4 32-byte loads: low and high nibbles (q in
// 0..15) times the 4 matching activations broadcast to every lane (vpbroadcastd), by x8_mac
// (AVX2: vpmaddubsw, unsigned q x signed x, summed in int16: |pair| <= 2 x 15 x 128 = 3840, 8
// of them per lane per block <= 30720 < 2^15, no saturation even for x = -128, then vpmaddwd
// to int32 per row; VNNI: vpdpbusd straight into int32, per block |sum q x| <= 32 x 15 x 128 =
// 61440). The weight offset 8 is removed with the activation block sum: sum (q - 8) x = sum q x
// - 8 sum x, precomputed per token and block (int32, |.| <= 8 x 32 x 128). Then float(int32) x
// (d_w x d_x) FMA'd into f32 per row and token.
// Q8_0 x8: per 32-element block 8 loads of 32 bytes (elements 4L..4L+3 of the 8 rows), each
// multiplied with the 4 matching activations broadcast (q8x8_mac; VNNI: vpdpbusd of w + 128,
// minus 128 x the block sum), then f32 as for Q4_0. Per 8 rows and block about 45 vector
// operations with AVX2 (13-14 per row and block in the row-major kernel), 22 with VNNI.
// Tails: row counts that are not a multiple of 8 (padding rows of the layout, or a range
// starting inside a group) are computed into a scratch and only the rows in [row_begin,
// row_end) are written; tokens go in tiles of 4, then 3/2/1. K is taken in chunks of at most
// 1024 blocks (the activation sums live on the stack), partial sums carried across chunks in
// y (a partial group's rows through the scratch, so they get the same floats as in a whole
// group). One token (decode) reads the range's whole groups in pairs, half the range apart, two
// weight streams per pass for Q4_0 and Q8_0 (x8_tokens, decision 56); in AVX-512 VNNI units
// the pairs of Q4_K, Q6_K and t2x8 run 16 rows per zmm (gemv_x8_zmm.h, decision 57).
// Structure: each format F gives block<NT>() (one block of one 8-row group for NT tokens);
// x8_pass runs the block loop over G groups, x8_tokens the row groups, K chunks and tails.
// Reference: ref::dot_row; integer sums are exact, so results differ only by f32 rounding
// (tests: relative 1e-5 of the row's |w|.|x|).
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/dispatch/cpu_features.h"
#include "kernels/formats/blocks.h"
#include "kernels/kernels.h"
#include "kernels/x86/common/driver.h"
#include "kernels/x86/common/isa.h"

namespace nibble::kernels::x86 {
namespace {

constexpr int kX8Rows = 8;
constexpr int kX8Tokens = 4;
constexpr int64_t kX8Chunk = 1024;  // blocks per K chunk

inline __m256i bcast32(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

// factor * (sum of the 32 activations) of `n` blocks.
void block_sums(const BlockQ8_0* x, int64_t n, int32_t factor, int32_t* out) {
  const __m256i ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
  for (int64_t b = 0; b < n; ++b) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs));
    const __m256i s = _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, v), ones16);
    __m128i h = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4e));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xb1));
    out[b] = factor * _mm_cvtsi128_si32(h);
  }
}

// Prefetch: each block asks for the bytes kX8PrefetchAhead past it, one request per 64 bytes
// of block; nothing else (no burst per row group). Measured on the 1B Q4_0 model, 1 thread
// (docs/kernels-x86.md): 4 KiB ahead 0.87-0.93 of the read probe, 2 KiB 0.82-0.86, 2 KiB plus
// the old burst of the whole group two groups ahead 0.71-0.77, none 0.50-0.64.
// The request is an asm statement: GCC 12 at -O2 / -O3 deleted the _mm_prefetch of these
// loops (a constant distance past the block; the binary had none), which is how the 2 KiB
// in-loop prefetch of the previous code never ran.
constexpr size_t kX8PrefetchAhead = 4096;
inline void prefetch_t0(const uint8_t* p) {
  asm volatile("prefetcht0 %0" : : "m"(*reinterpret_cast<const char*>(p)));
}
// Whether format F's blocks ask for their bytes ahead: F::kAmdPrefetch false (Q8_0 x8) turns the
// requests off on AMD CPUs (its hardware prefetchers keep up with that kernel; the requests cost
// 8 % of the 1B Q8_0 1-thread decode on Zen 5 and half of the kernel on Zen 4; decision 55).
// Read once per x8_tokens call, not per block.
template <class F>
bool x8_prefetch() {
  if constexpr (requires { F::kAmdPrefetch; })
    if (!F::kAmdPrefetch && cpu_features().amd) return false;
  return weight_prefetch;
}
inline const uint8_t* prefetched(const uint8_t* blk, size_t bytes, bool on) {
  if (on)
    for (size_t o = 0; o < bytes; o += 64) prefetch_t0(blk + kX8PrefetchAhead + o);
  return blk;
}

// f32 accumulation of one block's int32 row sums for a token: acc += float(isum - xs) x
// (d_w x d_x), d_w the 8 rows' scales (block_scales).
inline __m256 finish(__m256 acc, __m256i isum, int32_t xs, __m256 dw, float dx) {
  const __m256i v = _mm256_sub_epi32(isum, _mm256_set1_epi32(xs));
  return _mm256_fmadd_ps(_mm256_cvtepi32_ps(v), _mm256_mul_ps(dw, _mm256_set1_ps(dx)), acc);
}
// The same for a k-quant super-block with mins: acc += d_w d_x float(isum) - dmin_w d_x
// float(mins).
inline __m256 finish_k(__m256 acc, __m256i isum, __m256i mins, __m256 dw, __m256 dmw, float dx) {
  const __m256 vdx = _mm256_set1_ps(dx);
  acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_mul_ps(dw, vdx), acc);
  return _mm256_fnmadd_ps(_mm256_cvtepi32_ps(mins), _mm256_mul_ps(dmw, vdx), acc);
}

// The 8 rows' fp16 scales at p as f32.
inline __m256 block_scales(const uint8_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

// One 32-element unit of 8 rows in the q4_0_x8 nibble arrangement (4 loads of 32 bytes at qs)
// against the 32 activations xq[t] of each token: a[t] += x8_mac(...) (Q4_0 blocks, Q4_K
// sub-blocks).
template <class P, int NT>
inline void nibbles_mac(const uint8_t* qs, const int8_t* const (&xq)[NT], __m256i (&a)[NT]) {
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  if constexpr (NT <= 2) {
    // Few tokens: one accumulator per load, summed at the end, so the multiply-accumulates
    // of a block are not one dependent chain (8 x the vpdpbusd latency per block with VNNI).
    // Integer sums, exact in any order (bounds above), so the result is the same.
    __m256i p[4][NT];
#pragma GCC unroll 4
    for (int l = 0; l < 4; ++l) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * l));
      const __m256i lo = _mm256_and_si256(v, m4);
      const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
      for (int t = 0; t < NT; ++t)
        p[l][t] = P::x8_mac(l == 0 ? a[t] : _mm256_setzero_si256(), lo, hi,
                            bcast32(xq[t] + 8 * l), bcast32(xq[t] + 8 * l + 4));
    }
    for (int t = 0; t < NT; ++t)
      a[t] = P::x8_add(P::x8_add(p[0][t], p[1][t]), P::x8_add(p[2][t], p[3][t]));
    return;
  }
#pragma GCC unroll 4
  for (int l = 0; l < 4; ++l) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * l));
    const __m256i lo = _mm256_and_si256(v, m4);
    const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
    for (int t = 0; t < NT; ++t)
      a[t] = P::x8_mac(a[t], lo, hi, bcast32(xq[t] + 8 * l), bcast32(xq[t] + 8 * l + 4));
  }
}

// One 16-element chunk of 8 rows in the 2-bit arrangement (q2_k_x8, t2x8: bit pair k of byte
// (r, i) is element 4k + i): the four 2-bit fields of the 32 bytes at p ...
inline void crumbs(const uint8_t* p, __m256i (&q)[4]) {
  const __m256i m2 = _mm256_set1_epi8(3);
  const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  for (int k = 0; k < 4; ++k) q[k] = _mm256_and_si256(_mm256_srli_epi16(v, 2 * k), m2);
}
// ... against the chunk's 16 activations at x: the x8_mac accumulator of the 16 products.
// (added to acc: with int16 lanes |acc| grows by <= 2 x 2 x 3 x 128 = 1536 per call for
// values 0..3).
template <class P>
inline __m256i crumbs_mac(const __m256i (&q)[4], const int8_t* x,
                          __m256i acc = _mm256_setzero_si256()) {
  const __m256i a = P::x8_mac(acc, q[0], q[1], bcast32(x), bcast32(x + 4));
  return P::x8_mac(a, q[2], q[3], bcast32(x + 8), bcast32(x + 12));
}

// Q4_0 x8: 144-byte blocks, d[8] then qs[4][32] (kernels/pack/q4_0.cpp).
template <X86IsaX8 P>
struct Q4_0x8 {
  using XBlock = BlockQ8_0;
  static constexpr int kQK = QK;
  static constexpr size_t kBlockBytes = kX8Rows * sizeof(BlockQ4_0);  // 144
  static constexpr bool kTwoStreams = true;  // x8_tokens
  static void sums(const BlockQ8_0* x, int64_t n, int32_t* out) {
    block_sums(x, n, 8, out);  // weights q - 8
  }
  template <int NT>
  static void block(const uint8_t* blk, const BlockQ8_0* const* x, const int32_t* const* xs8,
                    int64_t b, int64_t bi, __m256 (&acc)[NT]) {
    __m256i acc_q[NT];
    const int8_t* xq[NT];
    for (int t = 0; t < NT; ++t) acc_q[t] = _mm256_setzero_si256(), xq[t] = x[t][b].qs;
    nibbles_mac<P, NT>(blk + 2 * kX8Rows, xq, acc_q);
    const __m256 dw = block_scales(blk);
    for (int t = 0; t < NT; ++t)
      acc[t] = finish(acc[t], P::x8_isum(acc_q[t]), xs8[t][bi], dw, _cvtsh_ss(x[t][b].d));
  }
};

// Q8_0 x8: 272-byte blocks, d[8] then qs[8][32]: qs[L][4r + i] = weight 4L + i of row r
// (kernels/pack/q8_0.cpp). Four int32 chains for one token, two per token for two (the VNNI
// multiply-accumulate is a 4-5 cycle chain).
template <X86IsaX8 P>
struct Q8_0x8 {
  using XBlock = BlockQ8_0;
  static constexpr int kQK = QK;
  static constexpr size_t kBlockBytes = kX8Rows * sizeof(BlockQ8_0);  // 272
  static constexpr bool kAmdPrefetch = false;  // x8_prefetch
  static constexpr bool kTwoStreams = true;  // x8_tokens
  static void sums(const BlockQ8_0* x, int64_t n, int32_t* out) {
    block_sums(x, n, P::kQ8x8Offset, out);
  }
  template <int NT>
  static void block(const uint8_t* blk, const BlockQ8_0* const* x, const int32_t* const* xs8,
                    int64_t b, int64_t bi, __m256 (&acc)[NT]) {
    constexpr int C = NT == 1 ? 4 : NT == 2 ? 2 : 1;
    // Constant indices (static_for): indexed by a loop's l % C, GCC 12 kept this array on the
    // stack and zeroed it per block with `rep stos` in the 16-register units (decision 58).
    __m256i acc_q[C][NT];
    static_for<C>([&](auto c) {
      static_for<NT>([&](auto t) { acc_q[c][t] = _mm256_setzero_si256(); });
    });
    static_for<8>([&](auto l) {
      const typename P::Q8x8W w = P::q8x8_prep(
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 2 * kX8Rows + 32 * l)));
      static_for<NT>([&](auto t) {
        acc_q[l % C][t] = P::q8x8_mac(acc_q[l % C][t], w, bcast32(x[t][b].qs + 4 * l));
      });
    });
    const __m256 dw = block_scales(blk);
    static_for<NT>([&](auto t) {
      __m256i s = acc_q[0][t];
      static_for<C - 1>([&](auto c) { s = _mm256_add_epi32(s, acc_q[c + 1][t]); });
      acc[t] = finish(acc[t], s, xs8[t][bi], dw, _cvtsh_ss(x[t][b].d));
    });
  }
};

// Q4_K x8: 1184-byte super-blocks (kernels/pack/q4_k.cpp): d[8], dmin[8], sc[8][8], mn[4][2][8],
// then per 32-element sub-block j the nibbles as a q4_0_x8 block. Per sub-block and token the
// products accumulate as in Q4_0 (x8_mac: |pairs| <= 2 x 15 x 128, 8 per lane <= 30720 in
// int16, or int32 with VNNI) and are scaled per row by x8_scale (int32: <= 8 x 30720 x 63 per
// super-block). The mins: sum_j mn_j x (sum of sub-block j's activations), pairs of sub-blocks
// per vpmaddwd: the activation pairs (int16 sub-block sums, <= 32 x 127) are prepared once per
// call and K chunk (sums(), 4 int32 per super-block, broadcast from memory), the mins of a pair
// spread to int16 pairs per row by one vpshufb (q4k_mins16). Then d_w d_x float(sums) - dmin_w
// d_x float(mins).
inline __m256i q4k_mins16(const uint8_t* mn) {  // bytes mn[0..7] (sub-block 2p), mn[8..15]
  const __m256i ctl = _mm256_setr_epi8(0, -1, 8, -1, 1, -1, 9, -1, 2, -1, 10, -1, 3, -1, 11, -1,
                                       4, -1, 12, -1, 5, -1, 13, -1, 6, -1, 14, -1, 7, -1, 15, -1);
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(mn));
  return _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(v), ctl);
}

template <X86IsaX8 P>
struct Q4_Kx8 {
  using XBlock = BlockQ8_K;
  static constexpr int kQK = QK_K;
  static constexpr size_t kBlockBytes = kX8Rows * (sizeof(BlockQ4_K) + 4);  // 1184
  static constexpr int kSumsPerBlock = 4;
  // Per super-block the pairs (sum of sub-block 2p, sum of 2p + 1) as int16 halves, p = 0..3.
  static void sums(const BlockQ8_K* x, int64_t n, int32_t* out) {
    for (int64_t b = 0; b < n; ++b)
      for (int p = 0; p < 4; ++p) {
        const int16_t* bs = x[b].bsums + 4 * p;
        const uint32_t lo = static_cast<uint16_t>(bs[0] + bs[1]),
                       hi = static_cast<uint16_t>(bs[2] + bs[3]);
        out[4 * b + p] = static_cast<int32_t>(lo | hi << 16);
      }
  }
  template <int NT>
  static void block(const uint8_t* blk, const BlockQ8_K* const* x, const int32_t* const* xs,
                    int64_t b, int64_t bi, __m256 (&acc)[NT]) {
    const uint8_t* sc = blk + 4 * kX8Rows;
    const uint8_t* mn = sc + 8 * kX8Rows;
    const uint8_t* qs = mn + 8 * kX8Rows;
    __m256i isum[NT], mins[NT];
    for (int t = 0; t < NT; ++t) isum[t] = mins[t] = _mm256_setzero_si256();
#pragma GCC unroll 8
    for (int j = 0; j < 8; ++j) {
      __m256i a[NT];
      const int8_t* xq[NT];
      for (int t = 0; t < NT; ++t) a[t] = _mm256_setzero_si256(), xq[t] = x[t][b].qs + 32 * j;
      nibbles_mac<P, NT>(qs + 128 * j, xq, a);
      const __m128i s8 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(sc + 8 * j));
      for (int t = 0; t < NT; ++t) {
        isum[t] = P::x8_scale(isum[t], a[t], s8);
        isum[t] = in_reg(isum[t]);  // pinned: no reassociation (decision 59)
      }
    }
#pragma GCC unroll 4
    for (int p = 0; p < 4; ++p) {  // mins, two sub-blocks per vpmaddwd
      const __m256i m16 = q4k_mins16(mn + 16 * p);
      for (int t = 0; t < NT; ++t) {
        const __m256i pair = _mm256_set1_epi32(xs[t][4 * bi + p]);
        mins[t] = _mm256_add_epi32(mins[t], _mm256_madd_epi16(m16, pair));
      }
    }
    const __m256 dw = block_scales(blk), dmw = block_scales(blk + 2 * kX8Rows);
    for (int t = 0; t < NT; ++t) acc[t] = finish_k(acc[t], isum[t], mins[t], dw, dmw, x[t][b].d);
  }
};

// Q2_K x8: 672-byte super-blocks (kernels/pack/q2_k.cpp): d[8], dmin[8], sc[16][8] (GGUF's
// scale | min << 4 bytes), then one 32-byte load per 16-element sub-block s: bit pair k of
// byte (r, i) is element 16s + 4k + i of row r. Per sub-block and token two x8_mac calls (k = 0,
// 1 and 2, 3: |pairs| <= 2 x 3 x 128, 4 per lane <= 3072) and x8_scale by the low nibbles
// (int32 per super-block <= 16 x 3072 x 15); the mins as for Q4_K from the high nibbles and
// the Q8_K bsums (one per sub-block).
template <X86IsaX8 P>
struct Q2_Kx8 {
  using XBlock = BlockQ8_K;
  static constexpr int kQK = QK_K;
  static constexpr size_t kBlockBytes = kX8Rows * sizeof(BlockQ2_K);  // 672
  static void sums(const BlockQ8_K*, int64_t, int32_t*) {}
  template <int NT>
  static void block(const uint8_t* blk, const BlockQ8_K* const* x, const int32_t* const*,
                    int64_t b, int64_t, __m256 (&acc)[NT]) {
    const __m128i m4 = _mm_set1_epi8(0x0F);
    const uint8_t* sc = blk + 4 * kX8Rows;
    const uint8_t* qs = sc + 16 * kX8Rows;
    __m256i isum[NT], mins[NT];
    for (int t = 0; t < NT; ++t) isum[t] = mins[t] = _mm256_setzero_si256();
#pragma GCC unroll 16
    for (int s = 0; s < 16; ++s) {
      __m256i q[4];
      crumbs(qs + 32 * s, q);
      const __m128i s8 =
          _mm_and_si128(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(sc + 8 * s)), m4);
      for (int t = 0; t < NT; ++t) {
        isum[t] = P::x8_scale(isum[t], crumbs_mac<P>(q, x[t][b].qs + 16 * s), s8);
        isum[t] = in_reg(isum[t]);  // pinned: no reassociation (decision 59)
      }
    }
#pragma GCC unroll 8
    for (int p = 0; p < 8; ++p) {  // mins, two sub-blocks per vpmaddwd
      const __m128i lo = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(sc + 16 * p));
      const __m128i hi = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(sc + 16 * p + 8));
      const __m256i m16 = _mm256_srli_epi16(_mm256_cvtepu8_epi16(_mm_unpacklo_epi8(lo, hi)), 4);
      for (int t = 0; t < NT; ++t) {
        int32_t pair;
        std::memcpy(&pair, x[t][b].bsums + 2 * p, 4);
        mins[t] = _mm256_add_epi32(mins[t], _mm256_madd_epi16(m16, _mm256_set1_epi32(pair)));
      }
    }
    const __m256 dw = block_scales(blk), dmw = block_scales(blk + 2 * kX8Rows);
    for (int t = 0; t < NT; ++t) acc[t] = finish_k(acc[t], isum[t], mins[t], dw, dmw, x[t][b].d);
  }
};

// Q6_K x8: 1680-byte super-blocks (kernels/pack/q6_k.cpp): d[8], sc[16][8] (int8), then per
// 16-element group g three 32-byte planes A, B, C (96 bytes): u = q + 32 in 0..63 (weight u -
// 32) of vectors 0, 1, 2 (elements 16g + 4v + i of row r at byte 4r + i) in their low 6 bits,
// vector 3's u in their top 2 bits (A: bits 0-1, B: 2-3, C: 4-5). Unpack: 3 ANDs, and 3 shifts,
// 3 ANDs and 2 ORs for vector 3 (11 operations per 4 vectors; the nibble + 2-bit-plane layout
// before took 17). Per group and token: x8_mac of vectors 0, 1 and of 2, 3 (AVX2 int16:
// |pairs| <= 2 x 63 x 128, two per x8_mac <= 32256, so each x8_mac result is scaled on its
// own; VNNI: all four in int32, then scaled once), times the rows' signed group scales into
// int32 (|.| <= 16 x 63 x 128 x 128 per group, 16 groups < 2^29). The offset 32: 32 x sum_g
// sc_g x bsum_g (vpmaddwd of scale pairs against bsum pairs). Then float(isum - 32 x offs) x
// d_w d_x. Integer sums equal for both policies.
template <X86IsaX8 P>
inline __m256i q6_scale(__m256i isum, __m256i a, __m128i sc8) {
  if constexpr (X86IsaX8Dpbusd<P>) {
    return _mm256_add_epi32(isum, _mm256_mullo_epi32(a, _mm256_cvtepi8_epi32(sc8)));
  } else {
    return _mm256_add_epi32(isum,
                            _mm256_madd_epi16(a, _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(sc8, sc8))));
  }
}

// u of the 4 vectors of a group from its planes at p.
inline void q6_unpack(const uint8_t* p, __m256i (&u)[4]) {
  const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
  const __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 64));
  const __m256i m6 = _mm256_set1_epi8(0x3F);
  u[0] = _mm256_and_si256(a, m6);
  u[1] = _mm256_and_si256(b, m6);
  u[2] = _mm256_and_si256(c, m6);
  // 16-bit shifts: the bits they move in from the next byte are masked off.
  const __m256i t0 = _mm256_and_si256(_mm256_srli_epi16(a, 6), _mm256_set1_epi8(0x03));
  const __m256i t1 = _mm256_and_si256(_mm256_srli_epi16(b, 4), _mm256_set1_epi8(0x0C));
  const __m256i t2 = _mm256_and_si256(_mm256_srli_epi16(c, 2), _mm256_set1_epi8(0x30));
  u[3] = _mm256_or_si256(_mm256_or_si256(t0, t1), t2);
}

template <X86IsaX8 P>
struct Q6_Kx8 {
  using XBlock = BlockQ8_K;
  static constexpr bool kFiveTokenPass = true;  // matmul_x8_tokens
  static constexpr int kQK = QK_K;
  static constexpr size_t kBlockBytes = kX8Rows * sizeof(BlockQ6_K);  // 1680
  static void sums(const BlockQ8_K*, int64_t, int32_t*) {}
  // Group at p (96 bytes) against the 16 activations at xq[t]: isum[t] += scale x sum u x.
  template <int NT>
  static void group16(const uint8_t* p, const int8_t* const (&xq)[NT], __m128i sc8,
                      __m256i (&isum)[NT]) {
    __m256i u[4];
    q6_unpack(p, u);
    for (int t = 0; t < NT; ++t) {
      const int8_t* x = xq[t];
      const __m256i z = _mm256_setzero_si256();
      if constexpr (X86IsaX8Dpbusd<P>) {
        const __m256i a = P::x8_mac(z, u[0], u[1], bcast32(x), bcast32(x + 4));
        isum[t] = q6_scale<P>(isum[t], P::x8_mac(a, u[2], u[3], bcast32(x + 8), bcast32(x + 12)),
                              sc8);
      } else {  // int16: scale each x8_mac result on its own
        isum[t] = q6_scale<P>(isum[t], P::x8_mac(z, u[0], u[1], bcast32(x), bcast32(x + 4)), sc8);
        isum[t] =
            q6_scale<P>(isum[t], P::x8_mac(z, u[2], u[3], bcast32(x + 8), bcast32(x + 12)), sc8);
      }
      // Pinned: GCC's reassociation otherwise sums a block's 16-32 scaled products at its end
      // and spills them (objdump: AVX2 and AVX-VNNI), as in the t2x8 loop (decision 59).
      isum[t] = in_reg(isum[t]);
    }
  }
  template <int NT>
  static void block(const uint8_t* blk, const BlockQ8_K* const* x, const int32_t* const*,
                    int64_t b, int64_t, __m256 (&acc)[NT]) {
    const uint8_t* sc = blk + 2 * kX8Rows;
    const uint8_t* sub = sc + 16 * kX8Rows;
    __m256i isum[NT], offs[NT];
    for (int t = 0; t < NT; ++t) isum[t] = offs[t] = _mm256_setzero_si256();
#pragma GCC unroll 8
    for (int j = 0; j < 8; ++j) {
      const int8_t* xq0[NT];
      const int8_t* xq1[NT];
      for (int t = 0; t < NT; ++t) xq0[t] = x[t][b].qs + 32 * j, xq1[t] = xq0[t] + 16;
      const __m128i s0 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(sc + 16 * j));
      const __m128i s1 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(sc + 16 * j + 8));
      group16<NT>(sub + 192 * j, xq0, s0, isum);
      group16<NT>(sub + 192 * j + 96, xq1, s1, isum);
      const __m256i s16 = _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(s0, s1));
      for (int t = 0; t < NT; ++t) {  // offset: scales of groups 2j, 2j + 1 x their bsums
        int32_t pair;
        std::memcpy(&pair, x[t][b].bsums + 2 * j, 4);
        offs[t] = _mm256_add_epi32(offs[t], _mm256_madd_epi16(s16, _mm256_set1_epi32(pair)));
      }
    }
    const __m256 dw = block_scales(blk);
    for (int t = 0; t < NT; ++t)
      acc[t] = finish(acc[t], _mm256_sub_epi32(isum[t], _mm256_slli_epi32(offs[t], 5)), 0, dw,
                      x[t][b].d);
  }
};

// Ternary x8 (TQ2_0, TQ1_0 in the layout "t2x8", kernels/pack/ternary.cpp): 528-byte blocks,
// d[8], then one 32-byte load per 16-element chunk s: bit pair k of byte (r, i) is the code
// c = w + 1 (0..3) of element 16s + 4k + i of row r. Per chunk and token two x8_mac calls
// (|pairs| <= 2 x 3 x 128, 4 per lane <= 3072), widened every 8 chunks (x8_isum); no sub-block
// scales. sum w x = sum c x - sum x (the Q8_K bsums), then float x d_w d_x.
template <X86IsaX8 P>
struct T2x8 {
  using XBlock = BlockQ8_K;
  static constexpr int kQK = QK_K;
  static constexpr size_t kBlockBytes = kX8Rows * 2 + QK_K / 4 * kX8Rows;  // 528
  static void sums(const BlockQ8_K* x, int64_t n, int32_t* out) {
    for (int64_t b = 0; b < n; ++b) out[b] = q8_k_sum(x[b]);
  }
  template <int NT>
  static void block(const uint8_t* blk, const BlockQ8_K* const* x, const int32_t* const* xs,
                    int64_t b, int64_t bi, __m256 (&acc)[NT]) {
    const uint8_t* qs = blk + 2 * kX8Rows;
    const __m256 dw = block_scales(blk);
    if constexpr (X86IsaX8Dpbusd<P> && NT <= 2) {
      // VNNI, one or two tokens: the codes are not shifted down; bit pair k is multiplied in
      // place (c x 4^k, u8 <= 192) into its own accumulator, divided by 4^k exactly at the
      // end of the block (every product is a multiple of 4^k): 4 ANDs per chunk instead of 3
      // shifts and 4 ANDs. |lane| <= 16 x 4 x 192 x 128 < 2^21.
      // One token: even and odd chunks in separate accumulators (8 chains, not 4 chains of
      // 16 dependent vpdpbusd per block), added before the shifts (exact).
      // Constant indices throughout (static_for): indexed by s % S in a loop, GCC 12 kept
      // ak2 on the stack (decision 58).
      constexpr int S = NT == 1 ? 2 : 1;
      __m256i ak2[S][4][NT];
      static_for<S>([&](auto i) {
        static_for<4>([&](auto k) {
          static_for<NT>([&](auto t) { ak2[i][k][t] = _mm256_setzero_si256(); });
        });
      });
      static_for<16>([&](auto s) {
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * s));
        static_for<4>([&](auto k) {
          const __m256i wk =
              _mm256_and_si256(v, _mm256_set1_epi8(static_cast<char>(3 << (2 * k))));
          static_for<NT>([&](auto t) {
            ak2[s % S][k][t] =
                P::x8_dpbusd(ak2[s % S][k][t], wk, bcast32(x[t][b].qs + 16 * s + 4 * k));
          });
        });
      });
      static_for<NT>([&](auto t) {
        __m256i ak[4];
        static_for<4>([&](auto k) {
          ak[k] = S == 1 ? ak2[0][k][t] : _mm256_add_epi32(ak2[0][k][t], ak2[S - 1][k][t]);
        });
        __m256i v = _mm256_add_epi32(ak[0], _mm256_srai_epi32(ak[1], 2));
        v = _mm256_add_epi32(
            v, _mm256_add_epi32(_mm256_srai_epi32(ak[2], 4), _mm256_srai_epi32(ak[3], 6)));
        acc[t] = finish(acc[t], v, xs[t][bi], dw, x[t][b].d);
      });
      return;
    }
    if constexpr (!X86IsaX8Dpbusd<P> && NT <= 2) {
      // Without vpdpbusd, one or two tokens: bit pairs 0 and 1 of each nibble are masked in
      // place (c and 4c), the high nibble after one 16-bit shift by 4 (its masks keep bits
      // 0-3, so what the shift moves in from the next byte is dropped): 1 shift and 4 ANDs per
      // chunk instead of 3 and 4. The 4c products go to their own int16 accumulator (pairs
      // <= 2 x 12 x 128 = 3072, two per chunk: widened every 4 chunks, <= 24576), the c ones
      // as before (<= 1536 per chunk, widened every 8); the int32 sum of the 4c products is a
      // multiple of 4 and comes down exactly by an arithmetic shift. Same integer sums.
      const __m256i m3 = _mm256_set1_epi8(3), mc = _mm256_set1_epi8(0x0C);
      __m256i s1[NT], s4[NT], a1[NT], a4[NT];
      static_for<NT>([&](auto t) {
        s1[t] = s4[t] = a1[t] = a4[t] = _mm256_setzero_si256();
      });
      static_for<16>([&](auto s) {
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * s));
        const __m256i h = _mm256_srli_epi16(v, 4);
        const __m256i q0 = _mm256_and_si256(v, m3), q1 = _mm256_and_si256(v, mc);
        const __m256i q2 = _mm256_and_si256(h, m3), q3 = _mm256_and_si256(h, mc);
        static_for<NT>([&](auto t) {
          const int8_t* xq = x[t][b].qs + 16 * s;
          a1[t] = P::x8_mac(a1[t], q0, q2, bcast32(xq), bcast32(xq + 8));
          a4[t] = P::x8_mac(a4[t], q1, q3, bcast32(xq + 4), bcast32(xq + 12));
          a1[t] = in_reg(a1[t]);  // pinned: no reassociation (decision 59)
          a4[t] = in_reg(a4[t]);
          if constexpr (s % 4 == 3) {
            s4[t] = _mm256_add_epi32(s4[t], P::x8_isum(a4[t]));
            a4[t] = _mm256_setzero_si256();
          }
          if constexpr (s % 8 == 7) {
            s1[t] = _mm256_add_epi32(s1[t], P::x8_isum(a1[t]));
            a1[t] = _mm256_setzero_si256();
          }
        });
      });
      static_for<NT>([&](auto t) {
        const __m256i isum = _mm256_add_epi32(s1[t], _mm256_srai_epi32(s4[t], 2));
        acc[t] = finish(acc[t], isum, xs[t][bi], dw, x[t][b].d);
      });
      return;
    }
    // Without vpdpbusd, three or four tokens (the form above keeps four accumulators per
    // token; it was measured for one token only): the x8_mac accumulator (int16 lanes) runs over 8 chunks (<= 8 x 3072
    // = 24576 per lane) before it is widened, two halves per block.
    // (static_for: constant indices, so the per-token arrays stay in registers.)
    __m256i isum[NT];
    static_for<NT>([&](auto t) { isum[t] = _mm256_setzero_si256(); });
    static_for<2>([&](auto h) {
      __m256i a[NT];
      static_for<NT>([&](auto t) { a[t] = _mm256_setzero_si256(); });
      static_for<8>([&](auto i) {
        constexpr int s = 8 * h + i;
        __m256i q[4];
        crumbs(qs + 32 * s, q);
        static_for<NT>([&](auto t) {
          a[t] = crumbs_mac<P>(q, x[t][b].qs + 16 * s, a[t]);
          a[t] = in_reg(a[t]);  // pinned: no reassociation (decision 59)
        });
      });
      static_for<NT>([&](auto t) { isum[t] = _mm256_add_epi32(isum[t], P::x8_isum(a[t])); });
    });
    static_for<NT>([&](auto t) { acc[t] = finish(acc[t], isum[t], xs[t][bi], dw, x[t][b].d); });
  }
};

// int32 activation sums per block that F::sums writes (F::kSumsPerBlock, default 1).
template <class F>
constexpr int x8_sums_per_block() {
  if constexpr (requires { F::kSumsPerBlock; }) return F::kSumsPerBlock;
  return 1;
}

// Whether format F's one-token pass reads two weight streams (F::kTwoStreams; x8_tokens).
template <class F>
constexpr bool x8_two_streams() {
  if constexpr (requires { F::kTwoStreams; }) return F::kTwoStreams;
  return false;
}

}  // namespace
}  // namespace nibble::kernels::x86

// The 512-bit pair forms (X8Zmm<F>), in units compiled for AVX-512 VNNI only.
#if defined(__AVX512VNNI__) && defined(__AVX512BW__)
#include "kernels/x86/common/gemv_x8_zmm.h"
#endif

namespace nibble::kernels::x86 {
namespace {

// Whether format F's one-token pairs run 16 rows a zmm (gemv_x8_zmm.h; AVX-512 VNNI units).
template <class F>
constexpr bool x8_zmm() {
#if defined(__AVX512VNNI__) && defined(__AVX512BW__)
  if constexpr (requires { X8Zmm<F>::kOn; }) return X8Zmm<F>::kOn;
#endif
  return false;
}

// G row groups at gw, gw + gstride, ... over blocks [b0, b1) for NT tokens: acc[i] of group i.
// The groups take turns block by block, so the weights stream from G places at once.
template <class F, int NT, int G>
inline void x8_pass(const uint8_t* gw, size_t gstride, const typename F::XBlock* const* x,
                    const int32_t* const* xs, int64_t b0, int64_t b1, bool pf,
                    __m256 (&acc)[G][NT]) {
  for (int64_t b = b0; b < b1; ++b)
    for (int i = 0; i < G; ++i)
      F::template block<NT>(prefetched(gw + i * gstride + b * F::kBlockBytes, F::kBlockBytes, pf),
                            x, xs, b, b - b0, acc[i]);
}

// NT tokens from t0 over rows [row_begin, row_end) of the 8-row layout of format F.
// One token (decode) takes the range's whole row groups in pairs, group i of the first half
// with group i of the second, so one pass reads two weight streams half the range apart
// (each stays sequential) and each activation block once for 16 rows. On Zen 5 one stream left
// a core's bandwidth unused, more so as k grew: 1 thread, 8192 x 2048 Q4_0, 0.68x the read
// probe with one stream, ~1.0x with two; four streams were slower again (decision 56). Each
// row's arithmetic is unchanged, so results are the same bits.
template <class F, int NT>
void x8_tokens(const MatmulArgs& a, int t0) {
  using XB = typename F::XBlock;
  const int64_t nb = a.k / F::kQK;
  const size_t group_bytes = a.w_row_bytes * kX8Rows;
  const auto* w = static_cast<const uint8_t*>(a.w);
  const bool pf = x8_prefetch<F>();
  const XB* x[NT];
  for (int t = 0; t < NT; ++t)
    x[t] = reinterpret_cast<const XB*>(static_cast<const uint8_t*>(a.x) + (t0 + t) * a.x_stride);
  alignas(32) int32_t sums[NT][kX8Chunk];
  const int32_t* xs8[NT];
  for (int t = 0; t < NT; ++t) xs8[t] = sums[t];
  const int64_t g0 = a.row_begin / kX8Rows, g1 = (a.row_end + kX8Rows - 1) / kX8Rows;
  // Whole groups [f0, f0 + 2 h) go in pairs (one token only).
  const int64_t f0 = (a.row_begin + kX8Rows - 1) / kX8Rows, f1 = a.row_end / kX8Rows;
  constexpr bool kPairs = NT == 1 && (x8_two_streams<F>() || x8_zmm<F>());
  const int64_t h = kPairs && f1 > f0 ? (f1 - f0) / 2 : 0;
  constexpr int64_t chunk = kX8Chunk / x8_sums_per_block<F>();
  for (int64_t b0 = 0; b0 < nb; b0 += chunk) {
    const int64_t b1 = std::min(nb, b0 + chunk);
    for (int t = 0; t < NT; ++t) F::sums(x[t] + b0, b1 - b0, sums[t]);
    for (int64_t i = 0; i < h; ++i) {
      float* y0 = a.y + t0 * a.y_stride + (f0 + i) * kX8Rows;
      float* y1 = y0 + h * kX8Rows;
#if defined(__AVX512VNNI__) && defined(__AVX512BW__)
      if constexpr (x8_zmm<F>()) {  // 16 rows a zmm: group i in lanes 0-7, i + h in 8-15
        const uint8_t* ga = w + (f0 + i) * group_bytes;
        const size_t gs = h * group_bytes;
        __m512 acc = b0 > 0 ? z_loadf(y0, y1) : _mm512_setzero_ps();
        for (int64_t b = b0; b < b1; ++b) {
          const uint8_t* blk = prefetched(ga + b * F::kBlockBytes, F::kBlockBytes, pf);
          prefetched(blk + gs, F::kBlockBytes, pf);
          X8Zmm<F>::block(blk, gs, x[0], xs8[0], b, b - b0, acc);
        }
        z_storef(y0, y1, acc);
        continue;
      }
#endif
      __m256 acc[2][NT];
      acc[0][0] = b0 > 0 ? _mm256_loadu_ps(y0) : _mm256_setzero_ps();
      acc[1][0] = b0 > 0 ? _mm256_loadu_ps(y1) : _mm256_setzero_ps();
      x8_pass<F, NT, 2>(w + (f0 + i) * group_bytes, h * group_bytes, x, xs8, b0, b1, pf, acc);
      _mm256_storeu_ps(y0, acc[0][0]);
      _mm256_storeu_ps(y1, acc[1][0]);
    }
    for (int64_t g = g0; g < g1; ++g) {
      if (g >= f0 && g < f0 + 2 * h) continue;
      const int64_t r0 = g * kX8Rows;
      const bool full = r0 >= a.row_begin && r0 + kX8Rows <= a.row_end;
      // A partial group (a range starting or ending inside it) goes through a scratch of 8
      // rows, carried across K chunks as a whole group is, so its rows get the same floats.
      alignas(32) float part[NT][kX8Rows];
      __m256 acc[1][NT];
      for (int t = 0; t < NT; ++t) {
        float* y = a.y + (t0 + t) * a.y_stride + r0;
        if (!full)
          for (int r = 0; r < kX8Rows; ++r) {
            const int64_t row = r0 + r;
            part[t][r] = b0 > 0 && row >= a.row_begin && row < a.row_end ? y[r] : 0.0f;
          }
        acc[0][t] = b0 == 0 ? _mm256_setzero_ps()
                    : full  ? _mm256_loadu_ps(y)
                            : _mm256_load_ps(part[t]);
      }
      x8_pass<F, NT, 1>(w + g * group_bytes, 0, x, xs8, b0, b1, pf, acc);
      for (int t = 0; t < NT; ++t) {
        float* y = a.y + (t0 + t) * a.y_stride + r0;
        if (full) {
          _mm256_storeu_ps(y, acc[0][t]);
          continue;
        }
        _mm256_store_ps(part[t], acc[0][t]);
        for (int r = 0; r < kX8Rows; ++r) {
          const int64_t row = r0 + r;
          if (row >= a.row_begin && row < a.row_end) y[r] = part[t][r];
        }
      }
    }
  }
}

// More than kX8Tokens tokens (the 2-3 passes of x8_tokens over the rows: the Q6_K output head
// of a speculative verification pass, 9-16 tokens x every vocabulary row) go in row blocks of
// kX8RowBlock rows, every token pass per block, so the passes after the first read the block's
// weights from L2 instead of memory (results unchanged: each row's sums do not depend on the
// row range).
constexpr int64_t kX8RowBlock = 64;

template <class F>
void matmul_x8_tokens(const MatmulArgs& a);

template <class F>
void matmul_x8(const MatmulArgs& a) {
  if (a.n_tokens <= kX8Tokens) return matmul_x8_tokens<F>(a);
  MatmulArgs s = a;
  for (int64_t r = a.row_begin; r < a.row_end;) {
    s.row_begin = r;
    s.row_end = std::min(a.row_end, (r / kX8RowBlock + 1) * kX8RowBlock);
    matmul_x8_tokens<F>(s);
    r = s.row_end;
  }
}

template <class F>
void matmul_x8_tokens(const MatmulArgs& a) {
  int t = 0;
#if defined(__AVX512F__)
  // Formats with kFiveTokenPass (Q6_K: the output head of a verification pass) take 5 tokens a
  // pass while more than 4 are left, except 8 (4 + 4): 9 tokens in 5 + 4, two unpacks of each
  // block instead of three (4 + 4 + 1). Only where the 32 vector registers of AVX-512 hold the
  // fifth token's accumulator and operands (each token's arithmetic is unchanged).
  if constexpr (requires { F::kFiveTokenPass; })
    for (; a.n_tokens - t > kX8Tokens && a.n_tokens - t != 2 * kX8Tokens; t += 5)
      x8_tokens<F, 5>(a, t);
#endif
  for (; t + kX8Tokens <= a.n_tokens; t += kX8Tokens) x8_tokens<F, kX8Tokens>(a, t);
  switch (a.n_tokens - t) {
    case 3:
      x8_tokens<F, 3>(a, t);
      break;
    case 2:
      x8_tokens<F, 2>(a, t);
      break;
    case 1:
      x8_tokens<F, 1>(a, t);
      break;
    default:
      break;
  }
}

}  // namespace
}  // namespace nibble::kernels::x86

// The registered 8-row interleaved entry points on policy P, defined in the enclosing namespace
// nibble::kernels::<isa> (declared by kernels/registry_x86.inc). TQ2_0 and TQ1_0 share the
// layout t2x8 (TQ1_0's base-3 trits are unpacked at load time).
#define NIBBLE_X86_X8_ENTRIES(P)                                                     \
  void gemv_q4_0_q8_0_8x(const MatmulArgs& a) { x86::matmul_x8<x86::Q4_0x8<P>>(a); } \
  void gemv_q8_0_q8_0_8x(const MatmulArgs& a) { x86::matmul_x8<x86::Q8_0x8<P>>(a); } \
  void gemv_q4_k_q8_k_8x(const MatmulArgs& a) { x86::matmul_x8<x86::Q4_Kx8<P>>(a); } \
  void gemv_q2_k_q8_k_8x(const MatmulArgs& a) { x86::matmul_x8<x86::Q2_Kx8<P>>(a); } \
  void gemv_q6_k_q8_k_8x(const MatmulArgs& a) { x86::matmul_x8<x86::Q6_Kx8<P>>(a); } \
  void gemv_tq2_0_q8_k_8x(const MatmulArgs& a) { x86::matmul_x8<x86::T2x8<P>>(a); }  \
  void gemv_tq1_0_q8_k_8x(const MatmulArgs& a) { x86::matmul_x8<x86::T2x8<P>>(a); }
