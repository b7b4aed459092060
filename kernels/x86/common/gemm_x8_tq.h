// Prefill GEMM tiles for the ternary 8-row layout t2x8 (TQ2_0, and TQ1_0 unpacked to it at load
// time): the gemm_x8.h driver and lane policies, a format that follows the x8 GEMV T2x8
// (gemv_x8.h) the way GemmQ4_0 follows Q4_0x8.
//
// Per 256-element block and 8-row group: 16 chunks of one 32-byte load, bit pair k of byte
// (r, i) the code c = w + 1 (0..3) of element 16s + 4k + i of row r. Each load is unpacked once
// (3 shifts, 4 ANDs) for the tile's NT tokens; per chunk and token two nib_mac calls (VNNI:
// vpdpbusd into int32). The int32 accumulator starts at 0x4B400000 - sum x (the Q8_K block
// sum: sum w x = sum c x - sum x), so after the block its bits are the float 1.5 x 2^23 +
// (isum - xs) exactly (|isum - xs| <= 256 x 3 x 128 + 256 x 128 < 2^22) and finish_magic gives
// the GEMV's f32 step fma(float(isum - xs), d_w x d_x, acc): bit-identical to the 1-token path
// (gemm_x8.h). GemmT2 serves the VNNI policies (AVX-VNNI, AVX-512 VNNI); AVX2 (int16 sums) has
// its own driver, GemmT2Wide, below.
#pragma once

#include "kernels/x86/common/gemm_x8.h"

namespace nibble::kernels::x86 {
namespace {

template <class L>
struct GemmT2 {
  using XBlock = BlockQ8_K;
  using Gemv = T2x8<typename L::Isa>;
  static constexpr int kQK = QK_K, kTokens = L::kTokensT;
  static constexpr int64_t kChunk = 4;  // 1024 elements: 16 tokens' activations are 16 KiB
  static constexpr size_t kBlockBytes = Gemv::kBlockBytes;
  using Acts = GemmActs<kQK, kChunk, 1>;
  static void prep(const BlockQ8_K* x, int64_t n, Acts& pr, int t) {
    for (int64_t b = 0; b < n; ++b) {
      std::memcpy(pr.qs[b][t], x[b].qs, kQK);
      pr.xi[b][t][0] = kMagicBits - q8_k_sum(x[b]);
      pr.dx[b][t] = x[b].d;
    }
  }
  // Accumulator sets per token: with vpdpbusd at 256 bits each token's products are one
  // dependent chain per chunk (4 x its latency for 4 x 8 x 16 MACs), so the two bit-pair
  // halves of a chunk get their own accumulators (exact integer sums, added per half block).
  static constexpr int kSets = X86IsaX8Dpbusd<typename L::Isa> && L::kGroups == 1 ? 2 : 1;
  using I = typename L::I;
  template <int NT>
  static void tile(const uint8_t* w, size_t gs, const Acts& pr, int tl, int64_t nb,
                   typename L::F (&acc)[NT], const uint8_t* pf) {
    for (int64_t b = 0; b < nb; ++b) {
      gemm_prefetch<kBlockBytes>(pf, gs, b);
      block<NT>(w + b * kBlockBytes, gs, pr, b, tl, acc);
    }
  }
  // Block b of the tokens [tl, tl + NP) of the prepared group into acc[0, NP).
  template <int NP>
  static void block(const uint8_t* blk, size_t gs, const Acts& pr, int64_t b, int tl,
                    typename L::F* acc) {
    const auto m2 = L::mask(3);
    const uint8_t* qs = blk + 2 * kX8Rows;
    const int8_t(*xq)[kQK] = pr.qs[b] + tl;
    const int32_t(*xi)[1] = pr.xi[b] + tl;
    I isum[NP];
#pragma GCC unroll 16
    for (int t = 0; t < NP; ++t) isum[t] = L::q8_init(xi[t][0]);
#pragma GCC unroll 1
    for (int h = 0; h < 2; ++h) {
      I a[kSets][NP];
#pragma GCC unroll 16
      for (int t = 0; t < NP; ++t)
        for (int c = 0; c < kSets; ++c) a[c][t] = L::nib_init(0);
#pragma GCC unroll 1
      for (int s = 8 * h; s < 8 * h + 8; ++s) {
        const I v = L::load(qs + 32 * s, gs);
#pragma GCC unroll 2
        for (int kk = 0; kk < 2; ++kk) {  // bit pairs 2kk, 2kk + 1: elements 8kk .. 8kk + 7
          const I lo = L::band(L::srli16(v, 4 * kk), m2);
          const I hi = L::band(L::srli16(v, 4 * kk + 2), m2);
#pragma GCC unroll 16
          for (int t = 0; t < NP; ++t)
            a[kk % kSets][t] = L::nib_mac(a[kk % kSets][t], lo, hi, xq[t] + 16 * s + 8 * kk);
        }
      }
#pragma GCC unroll 16
      for (int t = 0; t < NP; ++t)
        for (int c = 0; c < kSets; ++c) isum[t] = L::add(isum[t], L::nib_done(a[c][t], 0));
    }
    const auto dw = L::scales(blk, gs);
#pragma GCC unroll 16
    for (int t = 0; t < NP; ++t) acc[t] = L::finish_magic(acc[t], isum[t], dw, pr.dx[b][tl + t]);
  }
};


// AVX2 form (int16 sums, no vpdpbusd; kernels/x86/avx2/gemm.cpp): a driver of its own, so that
// one unpack of a row group's weights serves up to kGroup tokens, and one int16 accumulator
// per token takes a whole block (decision 52).
//
// Per activation chunk (kChunk blocks) and group of up to kGroup tokens, the chunk of two 8-row
// groups is unpacked once into two buffers (4 bit-pair vectors per 32-byte load, 2 KiB per block
// and group: 3 shifts + 4 ANDs per load, shared by all the group's tokens) and the tokens run
// over them in tiles of 16 rows x 4 tokens (8 int16 accumulators; each broadcast activation
// feeds both row groups); a lone last group takes tiles of 8 rows x 8 tokens. Per token and
// block: int16 lane j of row r holds the elements e with e mod 4 in {2j, 2j + 1} (128 of
// them); it starts at -(sum of those x) and takes the 64 vpmaddubsw pair sums c x (c = w + 1
// in 0..3) by vpaddw. Its true final value, sum (c - 1) x over its 128 elements, lies in
// [128 x 2 x -128, 128 x 2 x 127] = [-32768, 32512], inside int16, so the wrapping adds give
// it exactly (no pair sum saturates: |c x + c' x'| <= 768). One vpmaddwd adds the two lanes of
// a row into int32, vcvtdq2ps is exact (|sum| <= 2^16), and the f32 step is the GEMV's
// fma(float(isum - xs), d_w x d_x, acc): bit-identical to the x8 GEMV (the 1-token path).
// Per token and block: 64 vpmaddubsw + 64 vpaddw + 4 (vpmaddwd, vcvtdq2ps, vmulps, vfmadd)
// + 112 / (tokens per group) unpack operations.
template <X86IsaX8 P>
struct GemmT2Wide {
  using L = GemmYmm<P>;
  using Gemv = T2x8<P>;
  using Fmt = GemmT2<L>;  // for the ragged rows (gemm_ragged)
  static constexpr int kTile = 8;       // tokens per one-group tile (8 int16 accumulators)
  static constexpr int kGroup = 64;     // tokens sharing one unpack
  static constexpr int64_t kChunk = 4;  // blocks per activation chunk: 64 tokens x 1 KiB
  static constexpr size_t kBlockBytes = Gemv::kBlockBytes;
  struct Acts {
    alignas(64) int8_t qs[kChunk][kGroup][QK_K];
    alignas(64) uint32_t init[kChunk][kGroup];  // the two lanes' -(sum x) as int16 pair
    alignas(64) float dx[kChunk][kGroup];
  };
  struct Buf {
    __m256i v[kChunk][16][4];
    __m256 dw[kChunk];
  };

  // The int16 pair (-sum of x_e with e mod 4 in {0, 1}, -sum with e mod 4 in {2, 3}) of one
  // block: vpmaddubsw by ones gives the pair sums x_2j + x_2j+1 (even j: lane 0, odd j: lane 1),
  // eight vectors of them add in int16 (<= 8 x 256 per element), and the eight int32 elements
  // of the total, each an (even, odd) int16 pair, add up by three lane folds (each lane's true
  // sum has |.| <= 128 x 128, inside int16).
  static uint32_t lane_sums(const int8_t* q) {
    const __m256i ones = _mm256_set1_epi8(1);
    __m256i v = _mm256_setzero_si256();
    for (int i = 0; i < QK_K; i += 32)
      v = _mm256_add_epi16(v, _mm256_maddubs_epi16(
                                  ones, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + i))));
    __m128i h = _mm_add_epi16(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    h = _mm_add_epi16(h, _mm_unpackhi_epi64(h, h));
    h = _mm_add_epi16(h, _mm_shuffle_epi32(h, 1));
    return static_cast<uint32_t>(_mm_cvtsi128_si32(_mm_sub_epi16(_mm_setzero_si128(), h)));
  }

  static void prep(const BlockQ8_K* x, int64_t n, Acts& pr, int t) {
    for (int64_t b = 0; b < n; ++b) {
      std::memcpy(pr.qs[b][t], x[b].qs, QK_K);
      pr.init[b][t] = lane_sums(x[b].qs);
      pr.dx[b][t] = x[b].d;
    }
  }

  // The bit-pair vectors and scales of blocks [0, n) of one row group (w: its first block);
  // pf: the same blocks of the next row group, prefetched (null for none).
  static void unpack(const uint8_t* w, int64_t n, Buf& buf, const uint8_t* pf) {
    const __m256i m = _mm256_set1_epi8(3);
    for (int64_t b = 0; b < n; ++b) {
      const uint8_t* blk = w + b * kBlockBytes;
      gemm_prefetch<kBlockBytes>(pf, 0, b);
      buf.dw[b] = block_scales(blk);
      const uint8_t* qs = blk + 2 * kX8Rows;
#pragma GCC unroll 4
      for (int s = 0; s < 16; ++s) {
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * s));
        buf.v[b][s][0] = _mm256_and_si256(v, m);
        buf.v[b][s][1] = _mm256_and_si256(_mm256_srli_epi16(v, 2), m);
        buf.v[b][s][2] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m);
        buf.v[b][s][3] = _mm256_and_si256(_mm256_srli_epi16(v, 6), m);
      }
    }
  }

  // Tokens [tl, tl + NT) of the group (rows of y from t0) over blocks [0, n) of the buffer.
  template <int NT>
  static void tile(const MatmulArgs& a, const Acts& pr, const Buf& buf, int64_t g, int t0, int tl,
                   int64_t b0, int64_t n) {
    __m256 acc[NT];
#pragma GCC unroll 8
    for (int t = 0; t < NT; ++t)
      acc[t] = b0 > 0 ? _mm256_loadu_ps(a.y + (t0 + t) * a.y_stride + g * kX8Rows)
                      : _mm256_setzero_ps();
    for (int64_t b = 0; b < n; ++b) {
      const int8_t(*xq)[QK_K] = pr.qs[b] + tl;
      __m256i s[NT];
#pragma GCC unroll 8
      for (int t = 0; t < NT; ++t) s[t] = _mm256_set1_epi32(static_cast<int32_t>(pr.init[b][tl + t]));
#pragma GCC unroll 1
      for (int c = 0; c < 16; ++c) {
#pragma GCC unroll 2
        for (int kk = 0; kk < 2; ++kk) {
          const __m256i lo = buf.v[b][c][2 * kk], hi = buf.v[b][c][2 * kk + 1];
#pragma GCC unroll 8
          for (int t = 0; t < NT; ++t) s[t] = L::nib_mac(s[t], lo, hi, xq[t] + 16 * c + 8 * kk);
        }
      }
      const __m256i ones = _mm256_set1_epi16(1);
#pragma GCC unroll 8
      for (int t = 0; t < NT; ++t) {
        const __m256 f = _mm256_cvtepi32_ps(_mm256_madd_epi16(s[t], ones));
        acc[t] = _mm256_fmadd_ps(f, _mm256_mul_ps(buf.dw[b], _mm256_set1_ps(pr.dx[b][tl + t])),
                                 acc[t]);
      }
    }
#pragma GCC unroll 8
    for (int t = 0; t < NT; ++t)
      _mm256_storeu_ps(a.y + (t0 + t) * a.y_stride + g * kX8Rows, acc[t]);
  }

  template <int NT>
  static void tokens(const MatmulArgs& a, const Acts& pr, const Buf& buf, int64_t g, int t0, int tl,
                     int n, int64_t b0, int64_t bn) {
    if constexpr (NT > 0) {
      for (; n >= NT; n -= NT, t0 += NT, tl += NT) tile<NT>(a, pr, buf, g, t0, tl, b0, bn);
      if (n > 0) tokens<NT - 1>(a, pr, buf, g, t0, tl, n, b0, bn);
    }
  }

  // Two row groups (g, g + 1) x NT tokens: each broadcast activation feeds both groups.
  template <int NT>
  static void tile2(const MatmulArgs& a, const Acts& pr, const Buf* buf, int64_t g, int t0, int tl,
                    int64_t b0, int64_t n) {
    __m256 acc[2][NT];
#pragma GCC unroll 8
    for (int t = 0; t < NT; ++t)
      for (int q = 0; q < 2; ++q)
        acc[q][t] = b0 > 0 ? _mm256_loadu_ps(a.y + (t0 + t) * a.y_stride + (g + q) * kX8Rows)
                           : _mm256_setzero_ps();
    for (int64_t b = 0; b < n; ++b) {
      const int8_t(*xq)[QK_K] = pr.qs[b] + tl;
      __m256i s[2][NT];
#pragma GCC unroll 8
      for (int t = 0; t < NT; ++t)
        s[0][t] = s[1][t] = _mm256_set1_epi32(static_cast<int32_t>(pr.init[b][tl + t]));
#pragma GCC unroll 1
      for (int c = 0; c < 16; ++c) {
#pragma GCC unroll 2
        for (int kk = 0; kk < 2; ++kk) {
          const __m256i lo0 = buf[0].v[b][c][2 * kk], hi0 = buf[0].v[b][c][2 * kk + 1];
          const __m256i lo1 = buf[1].v[b][c][2 * kk], hi1 = buf[1].v[b][c][2 * kk + 1];
#pragma GCC unroll 8
          for (int t = 0; t < NT; ++t) {
            const __m256i x0 = bcast32(xq[t] + 16 * c + 8 * kk), x1 = bcast32(xq[t] + 16 * c + 8 * kk + 4);
            __m256i r0 = P::x8_mac(s[0][t], lo0, hi0, x0, x1);
            __m256i r1 = P::x8_mac(s[1][t], lo1, hi1, x0, x1);
            asm("" : "+x"(r0), "+x"(r1));
            s[0][t] = r0, s[1][t] = r1;
          }
        }
      }
      const __m256i ones = _mm256_set1_epi16(1);
#pragma GCC unroll 8
      for (int t = 0; t < NT; ++t)
        for (int q = 0; q < 2; ++q) {
          const __m256 f = _mm256_cvtepi32_ps(_mm256_madd_epi16(s[q][t], ones));
          acc[q][t] = _mm256_fmadd_ps(
              f, _mm256_mul_ps(buf[q].dw[b], _mm256_set1_ps(pr.dx[b][tl + t])), acc[q][t]);
        }
    }
#pragma GCC unroll 8
    for (int t = 0; t < NT; ++t)
      for (int q = 0; q < 2; ++q)
        _mm256_storeu_ps(a.y + (t0 + t) * a.y_stride + (g + q) * kX8Rows, acc[q][t]);
  }

  template <int NT>
  static void tokens2(const MatmulArgs& a, const Acts& pr, const Buf* buf, int64_t g, int t0, int tl,
                      int n, int64_t b0, int64_t bn) {
    if constexpr (NT > 0) {
      for (; n >= NT; n -= NT, t0 += NT, tl += NT) tile2<NT>(a, pr, buf, g, t0, tl, b0, bn);
      if (n > 0) tokens2<NT - 1>(a, pr, buf, g, t0, tl, n, b0, bn);
    }
  }

  static void run(const MatmulArgs& a) {
    const int64_t nb = a.k / QK_K;
    const int64_t f0 = (a.row_begin + kX8Rows - 1) / kX8Rows, f1 = a.row_end / kX8Rows;
    if (f0 >= f1) return gemm_ragged<Fmt>(a, a.row_begin, a.row_end);
    if (a.row_begin < f0 * kX8Rows) gemm_ragged<Fmt>(a, a.row_begin, f0 * kX8Rows);
    if (a.row_end > f1 * kX8Rows) gemm_ragged<Fmt>(a, f1 * kX8Rows, a.row_end);
    Acts pr;
    alignas(64) Buf buf[2];
    const size_t gbytes = a.w_row_bytes * kX8Rows;
    const auto* w0 = static_cast<const uint8_t*>(a.w);
    for (int64_t b0 = 0; b0 < nb; b0 += kChunk) {
      const int64_t bn = std::min(kChunk, nb - b0);
      for (int tg = 0; tg < a.n_tokens; tg += kGroup) {
        const int n = std::min(kGroup, a.n_tokens - tg);
        for (int t = 0; t < n; ++t)
          prep(reinterpret_cast<const BlockQ8_K*>(static_cast<const uint8_t*>(a.x) +
                                                  (tg + t) * a.x_stride) + b0,
               bn, pr, t);
        for (int64_t g = f0; g < f1; g += 2) {
          const uint8_t* w = w0 + g * gbytes + b0 * kBlockBytes;
          if (g + 1 < f1) {
            const uint8_t* pf = weight_prefetch && g + 2 < f1 ? w + 2 * gbytes : nullptr;
            unpack(w, bn, buf[0], pf);
            unpack(w + gbytes, bn, buf[1], pf ? pf + gbytes : nullptr);
            tokens2<kTile / 2>(a, pr, buf, g, tg, 0, n, b0, bn);
          } else {
            unpack(w, bn, buf[0], nullptr);
            tokens<kTile>(a, pr, buf[0], g, tg, 0, n, b0, bn);
          }
        }
      }
    }
  }
};

}  // namespace
}  // namespace nibble::kernels::x86
