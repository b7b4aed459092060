// The row-major (GGUF layout) matmul drivers of the x86 kernels and the helpers the kernel
// headers share. Templates over a kernel type F (gemv256_*.h, gemv512_*.h), which names its
// ISA policy as F::Isa (kernels/x86/common/isa.h); instantiated by each ISA folder's gemv.cpp.
// Internal linkage throughout (see isa.h).
//
// Token blocking (prefill): rows are the outer loop; for one weight row, the tokens are taken
// in tiles of up to Isa::kTokenBlock (8 for the 512-bit kernels that set kWideTokenBlock, and
// for Q8_0/Q4_0 where the ISA sets kWide256: AVX-512 code has 32 vector registers; measured
// 11-34% and 6-12% faster prefill than 4), and a format's kernel `F::dot<NT>` unpacks each
// weight block once and multiplies it with NT activation rows before moving on. The weight row
// stays in L1 across its token tiles and the activations (n_tokens rows) in L1/L2, so weights
// are read from memory once per call instead of once per token. NT = 1 is the GEMV (decode)
// path.
//
// F::dot<NT>(w_row, x, x_stride, k, y, y_stride) writes y[t * y_stride] for t in [0, NT), with
// x the first of NT activation rows x_stride bytes apart.
#pragma once

#include <immintrin.h>

#include <cstring>
#include <type_traits>
#include <utility>

#include "kernels/formats/blocks.h"
#include "kernels/kernels.h"
#include "kernels/x86/common/isa.h"

namespace nibble::kernels::x86 {
namespace {

// Token tile of kernel F: its own kTokenBlock if it has one, else its ISA's.
template <class F>
constexpr int token_block() {
  if constexpr (requires { F::kTokenBlock; }) {
    return F::kTokenBlock;
  } else {
    return F::Isa::kTokenBlock;
  }
}

// Software prefetch of the next weight row, one request per cache line, issued before the
// current row is computed. The rows are contiguous, but the kernels consume them slower than
// the hardware prefetcher ramps up on a decode GEMV; asking for the next row ahead keeps more
// lines in flight (measured on Sapphire Rapids, docs/kernels-x86.md).
// Both are off where weight_prefetch (kernels.h) says so.
inline void prefetch_row(const uint8_t* p, size_t bytes) {
  if (!weight_prefetch) return;
  for (size_t o = 0; o < bytes; o += 64)
    _mm_prefetch(reinterpret_cast<const char*>(p + o), _MM_HINT_T0);
}

// In-loop software prefetch: the kernels' block loops also ask for the bytes kPrefetchAhead
// past the block they are reading (one request per 64 bytes of block; consecutive blocks make
// that every line). This keeps long rows streaming, where the row-ahead prefetch above comes
// too early and in one burst (8192x2048 Q8_0: 6.2 -> 8.9 GB/s, docs/kernels-x86.md).
inline constexpr size_t kPrefetchAhead = 2048;
template <size_t kBytes>
inline void prefetch_ahead(const void* block) {
  if (!weight_prefetch) return;
  for (size_t o = 0; o < kBytes; o += 64)
    _mm_prefetch(static_cast<const char*>(block) + kPrefetchAhead + o, _MM_HINT_T0);
}

template <class F>
void run_matmul(const MatmulArgs& a) {
  constexpr int kBlock = token_block<F>();
  const auto* xb = static_cast<const uint8_t*>(a.x);
  const auto* wb = static_cast<const uint8_t*>(a.w);
  for (int64_t r = a.row_begin; r < a.row_end; ++r) {
    const uint8_t* w = wb + r * a.w_row_bytes;
    if (r + 2 < a.row_end) prefetch_row(w + 2 * a.w_row_bytes, a.w_row_bytes);
    float* y = a.y + r;
    int t = 0;
    if constexpr (requires { F::kWideTokenBlock; }) {  // 8 tokens (32 vector registers)
      for (; t + 8 <= a.n_tokens; t += 8)
        F::template dot<8>(w, xb + t * a.x_stride, a.x_stride, a.k, y + t * a.y_stride, a.y_stride);
    }
    for (; t + kBlock <= a.n_tokens; t += kBlock)
      F::template dot<kBlock>(w, xb + t * a.x_stride, a.x_stride, a.k, y + t * a.y_stride,
                              a.y_stride);
    const uint8_t* x = xb + t * a.x_stride;
    float* yt = y + t * a.y_stride;
    switch (a.n_tokens - t) {
      case 3:
        F::template dot<3>(w, x, a.x_stride, a.k, yt, a.y_stride);
        break;
      case 2:
        F::template dot<2>(w, x, a.x_stride, a.k, yt, a.y_stride);
        break;
      case 1:
        F::template dot<1>(w, x, a.x_stride, a.k, yt, a.y_stride);
        break;
      default:
        break;
    }
  }
}

// The GEMV (one token) through one kernel, more tokens through another (e.g. 256 / 512 bits).
template <class Gemv, class MultiToken>
void run_gemv_or_multi(const MatmulArgs& a) {
  if (a.n_tokens == 1) {
    run_matmul<Gemv>(a);
  } else {
    run_matmul<MultiToken>(a);
  }
}

// The activation block `i` of token `t` (x rows are x_stride bytes apart).
template <typename B>
inline const B* xblock(const uint8_t* x, size_t x_stride, int t, int64_t i) {
  return reinterpret_cast<const B*>(x + t * x_stride) + i;
}

inline float f16(uint16_t h) { return _cvtsh_ss(h); }

// --- 256-bit helpers (every x86 ISA here has AVX2) ----------------------------------------

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline __m256i load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// vpshufb control that broadcasts int16 lane `a` (of each 128-bit half) over the low half and
// int16 lane `b` over the high half (a, b in 0..7), read from a constant table: built with
// _mm_set1_epi16, GCC rematerialized it inside the Q2_K loop (mov/vmovd/vpshufd/vinserti128 per
// use). For Q2_K the table load measured faster than vpshufd of pair_scales (one shuffle more per
// half; llvm-mca znver3 18.1 vs 20.2 cycles per block, and slower in cache on Zen 4).
struct Pick16Table {
  alignas(64) uint8_t v[8][8][32];
};
inline constexpr Pick16Table kPick16 = [] {
  Pick16Table t{};
  for (int a = 0; a < 8; ++a)
    for (int b = 0; b < 8; ++b)
      for (int i = 0; i < 32; ++i)
        t.v[a][b][i] = static_cast<uint8_t>(2 * (i < 16 ? a : b) + (i & 1));
  return t;
}();
inline __m256i pick16(int a, int b) { return load256(kPick16.v[a][b]); }

// f(std::integral_constant<int, I>{}) for I = 0 .. N-1 (unrolled; the index is a constant
// expression, for intrinsics that take immediates).
template <int N, class F>
inline void static_for(F&& f) {
  [&]<int... I>(std::integer_sequence<int, I...>) { (f(std::integral_constant<int, I>{}), ...); }
  (std::make_integer_sequence<int, N>{});
}

// Makes v opaque to the compiler at this point (an empty asm that may change it). Two uses:
// keeping a loaded weight vector in a register (GCC otherwise re-reads it from memory for each
// of its uses, load folding, which costs load bandwidth, the limit of the k-quant loops), and
// pinning a running sum after each step of a chain (GCC's reassociation otherwise moves the
// adds to the end, keeps every product live and spills them: decision 59).
template <typename V>
inline V in_reg(V v) {
  asm("" : "+v"(v));
  return v;
}

// Eight int16 scales s0..s7 (sub-blocks of 16 elements) arranged for vpshufd: dword p of the low
// 128-bit lane holds s_2p in both int16 halves, of the high lane s_2p+1; vpshufd by the immediate
// j * 0x55 then gives sub-block 2j's scale over the low lane and 2j+1's over the high lane.
inline __m256i pair_scales(__m128i s16) {
  const __m128 e = _mm_castsi128_ps(_mm_unpacklo_epi16(s16, s16));  // s0..s3
  const __m128 o = _mm_castsi128_ps(_mm_unpackhi_epi16(s16, s16));  // s4..s7
  return _mm256_set_m128i(_mm_castps_si128(_mm_shuffle_ps(e, o, 0xdd)),
                          _mm_castps_si128(_mm_shuffle_ps(e, o, 0x88)));
}

// Sum of the C independent int32 accumulator chains of token t. The kernels use C = kChains
// (an ISA policy constant: 2 with VNNI, whose multiply-accumulates are a 5-cycle chain) for one or
// two tokens (four in 512 bits), 1 beyond, where the tokens already give independent chains.
template <int C, int NT>
inline __m256i isum_total(const __m256i (&v)[C][NT], int t) {
  __m256i s = v[0][t];
  for (int c = 1; c < C; ++c) s = _mm256_add_epi32(s, v[c][t]);
  return s;
}

// The per-token end of a Q8_K super-block in the k-quant and ternary kernels: acc + d_w d_x x
// float(isum), isum the block's int32 sums (8 lanes), and for Q2_K / Q4_K minus dmin_w d_x x
// float(mins), the mins against the Q8_K block sums (bsums_dot).
inline __m256 finish_q8k(__m256 acc, const BlockQ8_K* xb, float d, __m256i isum) {
  return _mm256_fmadd_ps(_mm256_set1_ps(d * xb->d), _mm256_cvtepi32_ps(isum), acc);
}
inline __m256 finish_q8k_mins(__m256 acc, const BlockQ8_K* xb, float d, __m256i isum, float dmin,
                              __m256i mins) {
  acc = _mm256_fmadd_ps(_mm256_set1_ps(d * xb->d), _mm256_cvtepi32_ps(isum), acc);
  return _mm256_fnmadd_ps(_mm256_set1_ps(dmin * xb->d), _mm256_cvtepi32_ps(mins), acc);
}
// The Q8_K block sums (16 int16, sums of 16 activations each) times w16, pairwise into int32:
// Q6_K's offset term (w16 = the scales), the ternary offset (w16 = 1).
inline __m256i bsums_dot(const BlockQ8_K* xb, __m256i w16) {
  return _mm256_madd_epi16(load256(xb->bsums), w16);
}

inline constexpr uint32_t kMask6 = 0x3f3f3f3f, kMask4 = 0x0f0f0f0f, kMask2 = 0x03030303;

// Q4_K / Q5_K 12-byte scales -> 16 bytes: sc[0..7], mn[0..7] (the GGUF get_scale_min_k4).
inline __m128i q4k_scales(const uint8_t* s) {
  uint32_t u[4];
  std::memcpy(u, s, 12);
  u[3] = ((u[2] >> 4) & kMask4) | (((u[1] >> 6) & kMask2) << 4);
  const uint32_t mins_lo = u[1] & kMask6;
  u[1] = (u[2] & kMask4) | (((u[0] >> 6) & kMask2) << 4);
  u[2] = mins_lo;
  u[0] &= kMask6;
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(u));
}

// q * 3 mod 256 per byte.
inline __m256i times3(__m256i q) { return _mm256_add_epi8(q, _mm256_add_epi8(q, q)); }
inline __m128i times3(__m128i q) { return _mm_add_epi8(q, _mm_add_epi8(q, q)); }

// Formats with Q8_0 activations (fp16 scale per 32 elements): the activation scales are
// converted to f32 once per (row chunk, token block) into a stack array, instead of once per
// row and block. Decode takes the whole row range as one chunk; prefill takes chunks of
// kRowChunk rows (the chunk's weights stay in L1/L2 across the token blocks).
// F::dot<NT, kScales>(w_row, x, x_stride, k, y, y_stride, dx): dx[t * nb + i] is the f32 scale
// of token t's block i when kScales, else unused (k above kMaxScaleBlocks blocks).
inline constexpr int64_t kRowChunk = 32;
inline constexpr int64_t kMaxScaleBlocks = 1024;  // k <= 32768 uses the scale array

template <class F, int NT>
void q8_0_rows(const MatmulArgs& a, int64_t r0, int64_t r1, int t) {
  const uint8_t* x = static_cast<const uint8_t*>(a.x) + t * a.x_stride;
  const auto* wb = static_cast<const uint8_t*>(a.w);
  float* y = a.y + t * a.y_stride;
  const int64_t nb = a.k / QK;
  if (nb <= kMaxScaleBlocks) {
    float dx[NT * kMaxScaleBlocks];
    for (int u = 0; u < NT; ++u)
      for (int64_t i = 0; i < nb; ++i)
        dx[u * nb + i] = f16(xblock<BlockQ8_0>(x, a.x_stride, u, i)->d);
    for (int64_t r = r0; r < r1; ++r) {
      if (r + 2 < r1) prefetch_row(wb + (r + 2) * a.w_row_bytes, a.w_row_bytes);
      F::template dot<NT, true>(wb + r * a.w_row_bytes, x, a.x_stride, a.k, y + r, a.y_stride, dx);
    }
  } else {
    for (int64_t r = r0; r < r1; ++r)
      F::template dot<NT, false>(wb + r * a.w_row_bytes, x, a.x_stride, a.k, y + r, a.y_stride,
                                 nullptr);
  }
}

template <class F>
void run_matmul_q8_0(const MatmulArgs& a) {
  constexpr int kTokenBlock = F::Isa::kTokenBlock;
  const int64_t chunk = a.n_tokens <= kTokenBlock ? a.row_end - a.row_begin : kRowChunk;
  for (int64_t r0 = a.row_begin; r0 < a.row_end; r0 += chunk) {
    const int64_t r1 = r0 + chunk < a.row_end ? r0 + chunk : a.row_end;
    int t = 0;
    if constexpr (F::Isa::kWide256)  // 8 tokens where the 256-bit code has 32 registers (EVEX)
      for (; t + 8 <= a.n_tokens; t += 8) q8_0_rows<F, 8>(a, r0, r1, t);
    for (; t + kTokenBlock <= a.n_tokens; t += kTokenBlock) q8_0_rows<F, kTokenBlock>(a, r0, r1, t);
    switch (a.n_tokens - t) {
      case 3:
        q8_0_rows<F, 3>(a, r0, r1, t);
        break;
      case 2:
        q8_0_rows<F, 2>(a, r0, r1, t);
        break;
      case 1:
        q8_0_rows<F, 1>(a, r0, r1, t);
        break;
      default:
        break;
    }
  }
}

}  // namespace
}  // namespace nibble::kernels::x86
