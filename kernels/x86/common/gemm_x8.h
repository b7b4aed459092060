// Prefill GEMM on the 8-row interleaved layouts (q4_0_x8, q8_0_x8, q4_k_x8: kernels/pack/):
// register-blocked micro-kernels of (rows per vector) x (token tile) int32 accumulators, one
// template over a lane policy L (the vector width and its integer dot products):
//   GemmZmm     AVX-512 VNNI: 16 rows per zmm (two consecutive x8 groups, one row per int32
//               lane), vpdpbusd with the activations as broadcast memory operands; tile 16 rows
//               x 8 tokens (Q4_0, Q8_0) or 16 x 6 (Q4_K): 8 (6) int32 + 8 (6) f32 accumulators.
//   GemmYmm<P>  256 bits on an X86IsaX8 policy P (kernels/x86/common/isa.h): AVX2 (vpmaddubsw
//               / vpmaddwd) or AVX-VNNI (vpdpbusd); 8 rows x 4 tokens (16 vector registers),
//               Q4_0 8 x 8 (the compiler keeps part of the f32 accumulators on the stack:
//               their one load and store per block and token cost no vector ALU port).
// The integer dot products are the x8 kernels' own (gemv_x8.h) with the same bounds; what the
// GEMM adds is the tile (each weight vector unpacked once for the tile's tokens, each broadcast
// activation used by a whole row vector), the loop order (a token group's activation sums and
// scales prepared once and kept on the stack, the weights of one row tile kept in L1/L2 across
// the group's token tiles), and a cheaper per-block f32 step.
//
// Bit-identical to the x8 GEMV (the 1-token path) and to itself for any token count or row
// range: per (row, token) the integer block sums are exact, and the f32 step is the GEMV's,
// acc = fma(float(isum - xs), d_w x d_x, acc), block after block. float(isum - xs) is formed
// without vcvtdq2ps (port 0 at 512 bits, where vpdpbusd runs): the accumulator starts at
// 0x4B400000 - xs (the bit pattern of 1.5 x 2^23, minus xs), so after the integer sums its
// bits are the float 1.5 x 2^23 + (isum - xs) exactly (|isum - xs| < 2^22: Q4_0 <= 32 x 15 x
// 127 + 8 x 32 x 127, Q8_0 with the +128 offset <= 32 x 128 x 127), and one subtraction of
// 1.5 x 2^23 gives float(isum - xs) exactly. Q4_K's super-block sums can pass 2^22 and keep
// the conversion (once per super-block). Row groups only partly inside [row_begin, row_end)
// are left to the x8 GEMV code (matmul_x8 on those rows), whose results the tiles reproduce.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/x86/common/gemv_x8.h"

namespace nibble::kernels::x86 {
namespace {

constexpr int32_t kMagicBits = 0x4B400000;  // 1.5 x 2^23 as f32 bits
constexpr float kMagic = 12582912.0f;
constexpr int kGemmGroupTokens = 16;  // tokens whose activation data is prepared at once

// Weight prefetch of the tiles: the first token tile of a row tile asks, block by block, for
// the same blocks of the next row tile (pf: its weights, null for none; gs as in L::load), one
// request per 64 bytes. The hardware prefetcher alone left the tiles waiting on each row
// tile's first reads (docs/kernels-x86.md). Off where weight_prefetch (kernels.h) says so.
template <size_t kBytes>
inline void gemm_prefetch(const uint8_t* pf, size_t gs, int64_t b) {
  if (!pf) return;
  for (size_t o = 0; o < kBytes; o += 64) prefetch_t0(pf + b * kBytes + o);
  if (gs)
    for (size_t o = 0; o < kBytes; o += 64) prefetch_t0(pf + gs + b * kBytes + o);
}

// --- lane policies -------------------------------------------------------------------------------

template <X86IsaX8 P>
struct GemmYmm {
  using I = __m256i;
  using F = __m256;
  using Isa = P;
  static constexpr int kGroups = 1;
  static constexpr int kTokens = 4;
  static constexpr int kTokensQ4 = 8;  // Q4_0 (f32 accumulators partly on the stack: header)
  static constexpr int kTokensK = 3;   // Q4_K (one more live vector per token)
  // Ternary (GemmT2, gemm_x8_tq.h): 4 with vpdpbusd (two accumulator sets). AVX2 (int16 sums)
  // runs GemmT2Wide, its own driver, and does not use this value.
  static constexpr int kTokensT = X86IsaX8Dpbusd<P> ? 4 : 16;
  static I load(const uint8_t* p, size_t) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  }
  static F scales(const uint8_t* p, size_t) { return block_scales(p); }
  static I mask(int8_t m) { return _mm256_set1_epi8(m); }
  static I band(I a, I b) { return _mm256_and_si256(a, b); }
  static I srli16(I a, int n) { return _mm256_srli_epi16(a, n); }
  // Q4_0 nibbles: P's int16 (AVX2) or int32 (VNNI) accumulator, widened and biased at the end.
  static I nib_init(int32_t) { return _mm256_setzero_si256(); }
  // The empty asm pins each step's sum: without it GCC's reassociation turns a token's 8 int16
  // adds into one sum at the end of the block, all of the tile's vpmaddubsw results live at
  // once, and the tile spills (objdump: f32 accumulators and products on the stack).
  static I nib_mac(I acc, I lo, I hi, const int8_t* x) {
    I r = P::x8_mac(acc, lo, hi, bcast32(x), bcast32(x + 4));
    asm("" : "+x"(r));
    return r;
  }
  static I nib_done(I acc, int32_t bias) {
    return _mm256_add_epi32(P::x8_isum(acc), _mm256_set1_epi32(bias));
  }
  // Q8_0: int32 accumulators in both forms.
  static constexpr int32_t kQ8Offset = P::kQ8x8Offset;
  using Q8W = typename P::Q8x8W;
  static I q8_init(int32_t bias) { return _mm256_set1_epi32(bias); }
  static Q8W q8_prep(I w) { return P::q8x8_prep(w); }
  static I q8_mac(I acc, const Q8W& w, const int8_t* x) { return P::q8x8_mac(acc, w, bcast32(x)); }
  // Q4_K: the sub-block's x8_mac accumulator times the rows' 8 scale bytes at sc.
  static I k_scale(I isum, I a, const uint8_t* sc, size_t) {
    return P::x8_scale(isum, a, _mm_loadl_epi64(reinterpret_cast<const __m128i*>(sc)));
  }
  // Q4_K mins of sub-blocks 2p, 2p + 1 (bytes at mn, mn + 8) as int16 pairs per row.
  static I k_mins16(const uint8_t* mn, size_t) {
    return _mm256_cvtepu8_epi16(
        _mm_unpacklo_epi8(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(mn)),
                          _mm_loadl_epi64(reinterpret_cast<const __m128i*>(mn + 8))));
  }
  static I madd_pair(I m16, int32_t pair) {
    return _mm256_madd_epi16(m16, _mm256_set1_epi32(pair));
  }
  static I zero() { return _mm256_setzero_si256(); }
  static I add(I a, I b) { return _mm256_add_epi32(a, b); }
  static F fzero() { return _mm256_setzero_ps(); }
  static F loadf(const float* y0, const float*) { return _mm256_loadu_ps(y0); }
  static void storef(float* y0, float*, F v) { _mm256_storeu_ps(y0, v); }
  static F finish_magic(F acc, I v, F dw, float dx) {
    const __m256 f = _mm256_sub_ps(_mm256_castsi256_ps(v), _mm256_set1_ps(kMagic));
    return _mm256_fmadd_ps(f, _mm256_mul_ps(dw, _mm256_set1_ps(dx)), acc);
  }
  static F finish_k(F acc, I isum, I mins, F dw, F dmw, float dx) {
    return x86::finish_k(acc, isum, mins, dw, dmw, dx);
  }
};

#ifdef __AVX512VNNI__
// Two x8 groups per zmm: the group at p in the low half, the one at p + gs in the high half
// (gs = 0 for a lone last group: its rows twice, the high half is dropped). P: the AVX-512
// VNNI policy, whose x8 GEMV serves one token.
template <X86IsaX8 P>
struct GemmZmm {
  using I = __m512i;
  using F = __m512;
  using Isa = P;
  static constexpr int kGroups = 2;
  static constexpr int kTokens = 8;
  static constexpr int kTokensQ4 = 8;
  static constexpr int kTokensK = 6;
  static constexpr int kTokensT = 8;
  // The 16-row primitives are the one-token pairs' (gemv_x8_zmm.h).
  static I load(const uint8_t* p, size_t gs) { return z_pair(p, gs); }
  static F scales(const uint8_t* p, size_t gs) { return z_scales(p, gs); }
  static I bc(const int8_t* x) { return z_bcast32(x); }
  static I mask(int8_t m) { return _mm512_set1_epi8(m); }
  static I band(I a, I b) { return _mm512_and_si512(a, b); }
  static I srli16(I a, int n) { return _mm512_srli_epi16(a, n); }
  static I nib_init(int32_t bias) { return _mm512_set1_epi32(bias); }
  static I nib_mac(I acc, I lo, I hi, const int8_t* x) {
    return _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(acc, lo, bc(x)), hi, bc(x + 4));
  }
  static I nib_done(I acc, int32_t) { return acc; }
  // Q8_0: vpdpbusd of w + 128 (u8) with x, the offset taken off by the bias (128 x sum x).
  static constexpr int32_t kQ8Offset = 128;
  using Q8W = __m512i;
  static I q8_init(int32_t bias) { return _mm512_set1_epi32(bias); }
  static Q8W q8_prep(I w) { return _mm512_xor_si512(w, _mm512_set1_epi8(-128)); }
  static I q8_mac(I acc, const Q8W& w, const int8_t* x) {
    return _mm512_dpbusd_epi32(acc, w, bc(x));
  }
  static I k_scale(I isum, I a, const uint8_t* sc, size_t gs) { return z_scale_k(isum, a, sc, gs); }
  static I k_mins16(const uint8_t* mn, size_t gs) { return z_mins16(mn, gs); }
  static I madd_pair(I m16, int32_t pair) {
    return _mm512_madd_epi16(m16, _mm512_set1_epi32(pair));
  }
  static I zero() { return _mm512_setzero_si512(); }
  static I add(I a, I b) { return _mm512_add_epi32(a, b); }
  static F fzero() { return _mm512_setzero_ps(); }
  static F loadf(const float* y0, const float* y1) { return z_loadf(y0, y1); }
  static void storef(float* y0, float* y1, F v) { z_storef(y0, y1, v); }
  static F finish_magic(F acc, I v, F dw, float dx) {
    const __m512 f = _mm512_sub_ps(_mm512_castsi512_ps(v), _mm512_set1_ps(kMagic));
    return _mm512_fmadd_ps(f, _mm512_mul_ps(dw, _mm512_set1_ps(dx)), acc);
  }
  static F finish_k(F acc, I isum, I mins, F dw, F dmw, float dx) {
    return z_finish_k(acc, isum, mins, dw, dmw, dx);
  }
};
#endif

// --- formats -------------------------------------------------------------------------------------
// Each: XBlock, kQK, kBlockBytes, kChunk (blocks per K chunk), Acts (its GemmActs), prep (one
// token's activation data into Acts), tile<NT> (the micro-kernel: blocks [0, nb) of the tile's
// weights at w against tokens [tl, tl + NT) of Acts, into acc[NT]); Gemv: the x8 GEMV type
// that serves one token and ragged row groups.

// Activation data of one token group and K chunk, prepared once and read by every row tile:
// the quantized values of block b of token t at qs[b][t] (so a tile's loads are constant
// offsets from one pointer), kXI int32 per block (bias or bsums pairs) and d_x.
template <int QKX, int64_t C, int XI>
struct GemmActs {
  alignas(64) int8_t qs[C][kGemmGroupTokens][QKX];
  alignas(64) int32_t xi[C][kGemmGroupTokens][XI];
  alignas(64) float dx[C][kGemmGroupTokens];
};

template <class L>
struct GemmQ4_0 {
  using XBlock = BlockQ8_0;
  using Gemv = Q4_0x8<typename L::Isa>;
  static constexpr int kQK = QK, kTokens = L::kTokensQ4;
  static constexpr bool kWideTail = L::kGroups == 2;  // zmm: 9 tokens in one tile (gemm_x8)
  static constexpr int64_t kChunk = 32;  // 1024 elements: 16 tokens' activations are 16 KiB
  static constexpr size_t kBlockBytes = Gemv::kBlockBytes;
  using Acts = GemmActs<kQK, kChunk, 1>;
  static void prep(const BlockQ8_0* x, int64_t n, Acts& pr, int t) {
    int32_t s[kChunk];
    block_sums(x, n, 8, s);  // weights q - 8
    for (int64_t b = 0; b < n; ++b) {
      std::memcpy(pr.qs[b][t], x[b].qs, kQK);
      pr.xi[b][t][0] = kMagicBits - s[b];
      pr.dx[b][t] = _cvtsh_ss(x[b].d);
    }
  }
  template <int NT>
  static void tile(const uint8_t* w, size_t gs, const Acts& pr, int tl, int64_t nb,
                   typename L::F (&acc)[NT], const uint8_t* pf) {
    const auto m4 = L::mask(0x0F);
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* blk = w + b * kBlockBytes;
      gemm_prefetch<kBlockBytes>(pf, gs, b);
      const int8_t(*xq)[kQK] = pr.qs[b] + tl;
      const int32_t(*xi)[1] = pr.xi[b] + tl;
      const float* dx = pr.dx[b] + tl;
      typename L::I a[NT];
#pragma GCC unroll 16
      for (int t = 0; t < NT; ++t) a[t] = L::nib_init(xi[t][0]);
#pragma GCC unroll 4
      for (int l = 0; l < 4; ++l) {
        const auto v = L::load(blk + 2 * kX8Rows + 32 * l, gs);
        const auto lo = L::band(v, m4), hi = L::band(L::srli16(v, 4), m4);
#pragma GCC unroll 16
        for (int t = 0; t < NT; ++t) a[t] = L::nib_mac(a[t], lo, hi, xq[t] + 8 * l);
      }
      const auto dw = L::scales(blk, gs);
#pragma GCC unroll 16
      for (int t = 0; t < NT; ++t)
        acc[t] = L::finish_magic(acc[t], L::nib_done(a[t], xi[t][0]), dw, dx[t]);
    }
  }
};

template <class L>
struct GemmQ8_0 {
  using XBlock = BlockQ8_0;
  using Gemv = Q8_0x8<typename L::Isa>;
  static constexpr int kQK = QK, kTokens = L::kTokens;
  static constexpr bool kWideTail = L::kGroups == 2;  // zmm: 9 tokens in one tile (gemm_x8)
  static constexpr int64_t kChunk = 32;
  static constexpr size_t kBlockBytes = Gemv::kBlockBytes;
  using Acts = GemmActs<kQK, kChunk, 1>;
  static void prep(const BlockQ8_0* x, int64_t n, Acts& pr, int t) {
    int32_t s[kChunk];
    block_sums(x, n, L::kQ8Offset, s);
    for (int64_t b = 0; b < n; ++b) {
      std::memcpy(pr.qs[b][t], x[b].qs, kQK);
      pr.xi[b][t][0] = kMagicBits - s[b];
      pr.dx[b][t] = _cvtsh_ss(x[b].d);
    }
  }
  template <int NT>
  static void tile(const uint8_t* w, size_t gs, const Acts& pr, int tl, int64_t nb,
                   typename L::F (&acc)[NT], const uint8_t* pf) {
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* blk = w + b * kBlockBytes;
      gemm_prefetch<kBlockBytes>(pf, gs, b);
      const int8_t(*xq)[kQK] = pr.qs[b] + tl;
      const int32_t(*xi)[1] = pr.xi[b] + tl;
      const float* dx = pr.dx[b] + tl;
      typename L::I a[NT];
#pragma GCC unroll 16
      for (int t = 0; t < NT; ++t) a[t] = L::q8_init(xi[t][0]);
#pragma GCC unroll 8
      for (int l = 0; l < 8; ++l) {
        const typename L::Q8W v = L::q8_prep(L::load(blk + 2 * kX8Rows + 32 * l, gs));
#pragma GCC unroll 16
        for (int t = 0; t < NT; ++t) a[t] = L::q8_mac(a[t], v, xq[t] + 4 * l);
      }
      const auto dw = L::scales(blk, gs);
#pragma GCC unroll 16
      for (int t = 0; t < NT; ++t) acc[t] = L::finish_magic(acc[t], a[t], dw, dx[t]);
    }
  }
};

// Q4_K: per super-block 8 sub-blocks of Q4_0-style nibbles scaled per row (k_scale), the mins
// from the Q8_K bsums (pairs of sub-blocks, prepared per token: 4 int32), then finish_k.
template <class L>
struct GemmQ4_K {
  using XBlock = BlockQ8_K;
  using Gemv = Q4_Kx8<typename L::Isa>;
  static constexpr int kQK = QK_K, kTokens = L::kTokensK;
  static constexpr int64_t kChunk = 4;  // 1024 elements
  static constexpr size_t kBlockBytes = Gemv::kBlockBytes;
  using Acts = GemmActs<kQK, kChunk, 4>;
  static void prep(const BlockQ8_K* x, int64_t n, Acts& pr, int t) {
    for (int64_t b = 0; b < n; ++b) {
      std::memcpy(pr.qs[b][t], x[b].qs, kQK);
      for (int p = 0; p < 4; ++p) {
        const int16_t* bs = x[b].bsums + 4 * p;
        const uint32_t lo = static_cast<uint16_t>(bs[0] + bs[1]),
                       hi = static_cast<uint16_t>(bs[2] + bs[3]);
        pr.xi[b][t][p] = static_cast<int32_t>(lo | hi << 16);
      }
      pr.dx[b][t] = x[b].d;
    }
  }
  template <int NT>
  static void tile(const uint8_t* w, size_t gs, const Acts& pr, int tl, int64_t nb,
                   typename L::F (&acc)[NT], const uint8_t* pf) {
    const auto m4 = L::mask(0x0F);
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* blk = w + b * kBlockBytes;
      gemm_prefetch<kBlockBytes>(pf, gs, b);
      const uint8_t *sc = blk + 4 * kX8Rows, *mn = sc + 8 * kX8Rows, *qs = mn + 8 * kX8Rows;
      const int8_t(*xq)[kQK] = pr.qs[b] + tl;
      const int32_t(*xi)[4] = pr.xi[b] + tl;
      typename L::I isum[NT];
#pragma GCC unroll 16
      for (int t = 0; t < NT; ++t) isum[t] = L::zero();
      for (int j = 0; j < 8; ++j) {
        typename L::I a[NT];
#pragma GCC unroll 16
        for (int t = 0; t < NT; ++t) a[t] = L::nib_init(0);
#pragma GCC unroll 4
        for (int l = 0; l < 4; ++l) {
          const auto v = L::load(qs + 128 * j + 32 * l, gs);
          const auto lo = L::band(v, m4), hi = L::band(L::srli16(v, 4), m4);
#pragma GCC unroll 16
          for (int t = 0; t < NT; ++t) a[t] = L::nib_mac(a[t], lo, hi, xq[t] + 32 * j + 8 * l);
        }
#pragma GCC unroll 16
        for (int t = 0; t < NT; ++t) isum[t] = L::k_scale(isum[t], a[t], sc + 8 * j, gs);
      }
      typename L::I mins[NT];
#pragma GCC unroll 16
      for (int t = 0; t < NT; ++t) mins[t] = L::zero();
#pragma GCC unroll 4
      for (int p = 0; p < 4; ++p) {
        const auto m16 = L::k_mins16(mn + 16 * p, gs);
#pragma GCC unroll 16
        for (int t = 0; t < NT; ++t) mins[t] = L::add(mins[t], L::madd_pair(m16, xi[t][p]));
      }
      const auto dw = L::scales(blk, gs), dmw = L::scales(blk + 2 * kX8Rows, gs);
#pragma GCC unroll 16
      for (int t = 0; t < NT; ++t)
        acc[t] = L::finish_k(acc[t], isum[t], mins[t], dw, dmw, pr.dx[b][tl + t]);
    }
  }
};

// --- driver --------------------------------------------------------------------------------------

// One tile: full groups g, g + 1 (or g alone: ng = 1), tokens [t0, t0 + NT) (tl in the
// prepared group), blocks [b0, b0 + nb).
// pf: the weights to prefetch (gemm_prefetch), or null.
template <class Fmt, class L, int NT>
void gemm_tile(const MatmulArgs& a, const typename Fmt::Acts& pr, int64_t g, int ng, int t0, int tl,
               int64_t b0, int64_t nb, const uint8_t* pf) {
  const size_t gbytes = a.w_row_bytes * kX8Rows;
  const auto* w = static_cast<const uint8_t*>(a.w) + g * gbytes + b0 * Fmt::kBlockBytes;
  typename L::F acc[NT];
#pragma GCC unroll 16
  for (int t = 0; t < NT; ++t) {
    float* y = a.y + (t0 + t) * a.y_stride + g * kX8Rows;
    acc[t] = b0 > 0 ? L::loadf(y, ng > 1 ? y + kX8Rows : y) : L::fzero();
  }
  Fmt::template tile<NT>(w, ng > 1 ? gbytes : 0, pr, tl, nb, acc, pf);
#pragma GCC unroll 16
  for (int t = 0; t < NT; ++t) {
    float* y = a.y + (t0 + t) * a.y_stride + g * kX8Rows;
    L::storef(y, ng > 1 ? y + kX8Rows : nullptr, acc[t]);
  }
}

// The token tiles of [t0, t0 + n); the first one prefetches pf.
template <class Fmt, class L, int NT>
void gemm_tokens(const MatmulArgs& a, const typename Fmt::Acts& pr, int64_t g, int ng, int t0,
                 int tl, int n, int64_t b0, int64_t nb, const uint8_t* pf) {
  if constexpr (NT > 0) {
    for (; n >= NT; n -= NT, t0 += NT, tl += NT, pf = nullptr)
      gemm_tile<Fmt, L, NT>(a, pr, g, ng, t0, tl, b0, nb, pf);
    if (n > 0) gemm_tokens<Fmt, L, NT - 1>(a, pr, g, ng, t0, tl, n, b0, nb, pf);
  }
}

// The rows of [r0, r1) (inside one ragged group) by the x8 GEMV code.
template <class Fmt>
void gemm_ragged(const MatmulArgs& a, int64_t r0, int64_t r1) {
  MatmulArgs s = a;
  s.row_begin = std::max(r0, a.row_begin);
  s.row_end = std::min(r1, a.row_end);
  if (s.row_begin < s.row_end) matmul_x8<typename Fmt::Gemv>(s);
}

// Whether Fmt takes a group of kTokens + 1 tokens in one tile (Fmt::kWideTail).
template <class Fmt>
constexpr bool gemm_wide_tail() {
  if constexpr (requires { Fmt::kWideTail; })
    return Fmt::kWideTail;
  else
    return false;
}

template <class Fmt, class L>
void gemm_x8(const MatmulArgs& a) {
  using XB = typename Fmt::XBlock;
  constexpr int64_t kC = Fmt::kChunk;
  const int64_t nb = a.k / Fmt::kQK;
  // Full groups [f0, f1); a partly covered group at either end goes to the GEMV code.
  const int64_t f0 = (a.row_begin + kX8Rows - 1) / kX8Rows, f1 = a.row_end / kX8Rows;
  if (f0 >= f1) return gemm_ragged<Fmt>(a, a.row_begin, a.row_end);
  if (a.row_begin < f0 * kX8Rows) gemm_ragged<Fmt>(a, a.row_begin, f0 * kX8Rows);
  if (a.row_end > f1 * kX8Rows) gemm_ragged<Fmt>(a, f1 * kX8Rows, a.row_end);
  typename Fmt::Acts pr;
  const size_t gbytes = a.w_row_bytes * kX8Rows;
  for (int64_t b0 = 0; b0 < nb; b0 += kC) {
    const int64_t bn = std::min(kC, nb - b0);
    for (int tg = 0; tg < a.n_tokens; tg += kGemmGroupTokens) {
      const int n = std::min(kGemmGroupTokens, a.n_tokens - tg);
      for (int t = 0; t < n; ++t) {
        const auto* x =
            reinterpret_cast<const XB*>(static_cast<const uint8_t*>(a.x) + (tg + t) * a.x_stride);
        Fmt::prep(x + b0, bn, pr, t);
      }
      for (int64_t g = f0; g < f1; g += L::kGroups) {
        const int ng = static_cast<int>(std::min<int64_t>(L::kGroups, f1 - g));
        // The next row tile's weights of this chunk (the last tile: the first one's, which
        // the next token group reads first).
        const int64_t gn = g + L::kGroups < f1 ? g + L::kGroups : f0;
        const uint8_t* pf = nullptr;
        if (weight_prefetch && gn != g)
          pf = static_cast<const uint8_t*>(a.w) + gn * gbytes + b0 * Fmt::kBlockBytes;
        // 9 tokens (a verification pass with 8 drafts) on the zmm Q4_0 / Q8_0 tiles: one tile
        // of 9 (18 accumulators, in registers) instead of 8 + 1, which unpacked every block
        // a second time for the ninth token (decision 53). Each token's operations are the same.
        if constexpr (gemm_wide_tail<Fmt>()) {
          if (n == Fmt::kTokens + 1) {
            gemm_tile<Fmt, L, Fmt::kTokens + 1>(a, pr, g, ng, tg, 0, b0, bn, pf);
            continue;
          }
        }
        gemm_tokens<Fmt, L, Fmt::kTokens>(a, pr, g, ng, tg, 0, n, b0, bn, pf);
      }
    }
  }
}

}  // namespace
}  // namespace nibble::kernels::x86

// Registered GEMM entry points (declared by kernels/registry_x86.inc): one token goes to the x8
// GEMV on the same layout, more to the tiles. Named by tile (rows x tokens).
#define NIBBLE_X86_GEMM_ENTRY(NAME, FMT, L)                      \
  void NAME(const MatmulArgs& a) {                               \
    if (a.n_tokens == 1) return x86::matmul_x8<FMT<L>::Gemv>(a); \
    x86::gemm_x8<FMT<L>, L>(a);                                  \
  }
