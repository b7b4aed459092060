// Prefill GEMM tiles for the ternary 8-row layout t2x8 (TQ2_0, and TQ1_0 unpacked to it at load
// time): the gemm_x8.h driver and lane policies, a format that follows the x8 GEMV T2x8
// (gemv_x8.h) the way GemmQ4_0 follows Q4_0x8.
//
// Per 256-element block and 8-row group: 16 chunks of one 32-byte load, bit pair k of byte
// (r, i) the code c = w + 1 (0..3) of element 16s + 4k + i of row r. Each load is unpacked once
// (3 shifts, 4 ANDs) for the tile's NT tokens (AVX2: 16, in two passes of 8 that share the
// unpacked vectors through a 2 KiB buffer); per chunk and token two nib_mac calls (AVX2:
// vpmaddubsw into int16 lanes, <= 2 x 2 x 3 x 128 = 1536 per call, summed over the 8 chunks of
// a half block <= 24576 < 2^15, then widened by vpmaddwd, as the GEMV; VNNI: vpdpbusd into
// int32). The int32 accumulator starts at 0x4B400000 - sum x (the Q8_K block sum: sum w x =
// sum c x - sum x), so after the block its bits are the float 1.5 x 2^23 + (isum - xs) exactly
// (|isum - xs| <= 256 x 3 x 128 + 256 x 128 < 2^22) and finish_magic gives the GEMV's f32 step
// fma(float(isum - xs), d_w x d_x, acc): bit-identical to the 1-token path (gemm_x8.h).
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
  // Tiles of more than kPass tokens (AVX2: 16) run the block in passes of kPass tokens; the
  // first pass stores each chunk's four unpacked bit-pair vectors (2 KiB per block), the later
  // ones load them, so the unpack (3 shifts + 4 ANDs per chunk) is paid once per 16 tokens.
  static constexpr int kPass = 8;
  using I = typename L::I;
  enum Mode { kUnpack, kStore, kLoad };
  template <int NT>
  static void tile(const uint8_t* w, size_t gs, const Acts& pr, int tl, int64_t nb,
                   typename L::F (&acc)[NT], const uint8_t* pf) {
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* blk = w + b * kBlockBytes;
      gemm_prefetch<kBlockBytes>(pf, gs, b);
      if constexpr (NT <= kPass) {
        block<NT, kUnpack>(blk, gs, pr, b, tl, acc, nullptr);
      } else {
        static_assert(NT <= 2 * kPass);
        I buf[16][4];
        block<kPass, kStore>(blk, gs, pr, b, tl, acc, buf);
        block<NT - kPass, kLoad>(blk, gs, pr, b, tl + kPass, acc + kPass, buf);
      }
    }
  }
  // Block b of the tokens [tl, tl + NP) of the prepared group into acc[0, NP).
  template <int NP, Mode M>
  static void block(const uint8_t* blk, size_t gs, const Acts& pr, int64_t b, int tl,
                    typename L::F* acc, I (*buf)[4]) {
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
        I v;
        if constexpr (M != kLoad) v = L::load(qs + 32 * s, gs);
#pragma GCC unroll 2
        for (int kk = 0; kk < 2; ++kk) {  // bit pairs 2kk, 2kk + 1: elements 8kk .. 8kk + 7
          I lo, hi;
          if constexpr (M == kLoad) {
            lo = buf[s][2 * kk];
            hi = buf[s][2 * kk + 1];
          } else {
            lo = L::band(L::srli16(v, 4 * kk), m2);
            hi = L::band(L::srli16(v, 4 * kk + 2), m2);
            if constexpr (M == kStore) buf[s][2 * kk] = lo, buf[s][2 * kk + 1] = hi;
          }
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

}  // namespace
}  // namespace nibble::kernels::x86
