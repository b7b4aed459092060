// Generic-SIMD matmul for the formats without a hand-tuned kernel (Q4_1, Q5_0, Q5_1, IQ4_NL,
// Q3_K, Q5_K, and BF16 as a float format), as templates on a per-ISA hook struct `H` defined in
// each ISA's translation unit (kernels/x86/avx2/dec_matmul.cpp, kernels/arm/neon/dec_matmul.cpp)
// in an anonymous namespace, so every instantiation has internal linkage.
//
// Layout: GGUF row-major blocks (no repacking). Each weight block is decoded once to int8
// quants plus integer sub-block scales/mins (the ref::IntBlock form of kernels/ref/ref.h,
// decoded here by loops the compiler vectorises with the folder's flags), then dotted with up
// to kTokens activation rows while it is hot in L1, so prefill decodes each block once per 8
// tokens instead of once per token.
//
// H provides:
//   using arch = <xsimd arch>;
//   static float h2f(uint16_t);                          IEEE half -> float (exact)
//   static int32_t dot32(const int8_t* w, const int8_t* x);   sum of 32 products
//   static int32_t dot_scaled(const int8_t* w, const int8_t* x, const int16_t* sc, int sub);
//       sum over the 256 / sub sub-blocks s of sc[s] * (sum of its sub products), sub 16 or 32
//   static batch<float, arch> load_bf16(const uint16_t* p);   W bfloat16 -> float
//   static void lut16(const int8_t* table, const uint8_t* qs, int8_t* out);
//       out[j] = table[qs[j] & 15], out[j + 16] = table[qs[j] >> 4] for j < 16 (IQ4_NL)
//   static void bits_to_16(const uint8_t* qh, uint8_t* out);
//       out[j] = 16 if bit j of the little-endian 32-bit qh is set, else 0 (Q5_0 / Q5_1)
//
// Accumulation: int8 x int8 products in int16 pairs (|w| <= 128, |x| <= 127: a pair is at most
// 2 * 128 * 127 = 32512 < 2^15), widened to int32; per block at most 256 products times a
// sub-block scale <= 63: |sum| <= 256 * 31 * 127 * 63 < 2^26 (Q5_K is the largest), so the
// int32 block sums are exact and equal the reference's. They are combined in f32 by the
// reference's own expressions in the reference's block order, so results equal
// ref::dot_row up to FMA contraction (tests: the conformance test's 1e-5 of sum |w||x|).
// BF16: f32 FMA over W lanes x 4 accumulators, scalar tail; differs by summation order.
// K is a multiple of the block size (32 / 256) by the MatmulArgs contract; rows and tokens any.
#pragma once

#include <xsimd/xsimd.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "kernels/formats/blocks.h"
#include "kernels/kernels.h"

namespace nibble::kernels::simd {

// One decoded weight block (cf. ref::IntBlock): x[i] = d * sc[i / sub] * q[i] - dmin * mn[i / sub].
struct DecBlock {
  float d, dmin;
  int8_t q[QK_K];
  int16_t sc[QK_K / 16];
  int16_t mn[QK_K / 16];
};

template <class H>
inline void decode_q4_1(const BlockQ4_1& b, DecBlock* o) {
  o->d = H::h2f(b.d);
  o->dmin = -H::h2f(b.m);
  for (int j = 0; j < QK / 2; ++j) {
    o->q[j] = static_cast<int8_t>(b.qs[j] & 0xF);
    o->q[j + 16] = static_cast<int8_t>(b.qs[j] >> 4);
  }
}

// Q5_0 (offset 16) and Q5_1 (no offset, min m): the fifth bit of element j is bit j of qh.
template <class H, int kOffset>
inline void decode_q5(const uint8_t* qs, const uint8_t* qh, DecBlock* o) {
  alignas(32) uint8_t hb[QK];
  H::bits_to_16(qh, hb);  // hb[j] = 16 * bit j
  for (int j = 0; j < QK / 2; ++j) {
    o->q[j] = static_cast<int8_t>(((qs[j] & 0xF) | hb[j]) - kOffset);
    o->q[j + 16] = static_cast<int8_t>(((qs[j] >> 4) | hb[j + 16]) - kOffset);
  }
}

template <class H>
inline void decode_iq4_nl(const BlockIQ4_NL& b, DecBlock* o) {
  o->d = H::h2f(b.d);
  H::lut16(kIQ4NLValues, b.qs, o->q);
}

template <class H>
inline void decode_q3_k(const BlockQ3_K& b, DecBlock* o) {
  o->d = H::h2f(b.d);
  o->dmin = 0;
  uint32_t aux[4];
  std::memcpy(aux, b.scales, 12);
  const uint32_t k1 = 0x03030303, k2 = 0x0f0f0f0f, tmp = aux[2];
  aux[2] = ((aux[0] >> 4) & k2) | (((tmp >> 4) & k1) << 4);
  aux[3] = ((aux[1] >> 4) & k2) | (((tmp >> 6) & k1) << 4);
  aux[0] = (aux[0] & k2) | (((tmp >> 0) & k1) << 4);
  aux[1] = (aux[1] & k2) | (((tmp >> 2) & k1) << 4);
  int8_t v[16];
  std::memcpy(v, aux, 16);
  for (int j = 0; j < 16; ++j) o->sc[j] = static_cast<int16_t>(v[j] - 32);
  for (int half = 0; half < 2; ++half) {
    const uint8_t* q = b.qs + 32 * half;
    for (int plane = 0; plane < 4; ++plane) {
      const int shift = 2 * plane;
      const uint8_t m = static_cast<uint8_t>(1u << (4 * half + plane));
      int8_t* out = o->q + 128 * half + 32 * plane;
      for (int l = 0; l < 32; ++l)
        out[l] = static_cast<int8_t>(((q[l] >> shift) & 3) - ((b.hmask[l] & m) ? 0 : 4));
    }
  }
}

template <class H>
inline void decode_q5_k(const BlockQ5_K& b, DecBlock* o) {
  o->d = H::h2f(b.d);
  o->dmin = H::h2f(b.dmin);
  const uint8_t* s = b.scales;
  for (int j = 0; j < 4; ++j) {
    o->sc[j] = s[j] & 63;
    o->mn[j] = s[j + 4] & 63;
    o->sc[j + 4] = static_cast<int16_t>((s[j + 8] & 0xF) | ((s[j] >> 6) << 4));
    o->mn[j + 4] = static_cast<int16_t>((s[j + 8] >> 4) | ((s[j + 4] >> 6) << 4));
  }
  for (int c = 0; c < 4; ++c) {
    const uint8_t* q = b.qs + 32 * c;
    const int u1 = 2 * c, u2 = 2 * c + 1;
    int8_t* lo = o->q + 64 * c;
    int8_t* hi = lo + 32;
    for (int l = 0; l < 32; ++l)
      lo[l] = static_cast<int8_t>((q[l] & 0xF) | (((b.qh[l] >> u1) & 1) << 4));
    for (int l = 0; l < 32; ++l)
      hi[l] = static_cast<int8_t>((q[l] >> 4) | (((b.qh[l] >> u2) & 1) << 4));
  }
}

// Decode block i of a row of format T.
template <class H, TensorType T>
inline void decode(const uint8_t* row, int64_t i, DecBlock* o) {
  if constexpr (T == TensorType::Q4_1) {
    decode_q4_1<H>(reinterpret_cast<const BlockQ4_1*>(row)[i], o);
  } else if constexpr (T == TensorType::Q5_0) {
    const BlockQ5_0& b = reinterpret_cast<const BlockQ5_0*>(row)[i];
    o->d = H::h2f(b.d);
    decode_q5<H, 16>(b.qs, b.qh, o);
  } else if constexpr (T == TensorType::Q5_1) {
    const BlockQ5_1& b = reinterpret_cast<const BlockQ5_1*>(row)[i];
    o->d = H::h2f(b.d);
    o->dmin = -H::h2f(b.m);
    decode_q5<H, 0>(b.qs, b.qh, o);
  } else if constexpr (T == TensorType::IQ4_NL) {
    decode_iq4_nl<H>(reinterpret_cast<const BlockIQ4_NL*>(row)[i], o);
  } else if constexpr (T == TensorType::Q3_K) {
    decode_q3_k<H>(reinterpret_cast<const BlockQ3_K*>(row)[i], o);
  } else {
    static_assert(T == TensorType::Q5_K);
    decode_q5_k<H>(reinterpret_cast<const BlockQ5_K*>(row)[i], o);
  }
}

// The partner format's block term, written as ref::dot_row writes it.
template <class H, TensorType T>
inline float block_term(const DecBlock& b, const uint8_t* x, int64_t i) {
  if constexpr (T == TensorType::Q5_0 || T == TensorType::IQ4_NL) {  // x Q8_0
    const BlockQ8_0& xb = reinterpret_cast<const BlockQ8_0*>(x)[i];
    return static_cast<float>(H::dot32(b.q, xb.qs)) * b.d * H::h2f(xb.d);
  } else if constexpr (T == TensorType::Q4_1 || T == TensorType::Q5_1) {  // x Q8_1
    const BlockQ8_1& xb = reinterpret_cast<const BlockQ8_1*>(x)[i];
    const int32_t isum = H::dot32(b.q, xb.qs);
    return b.d * H::h2f(xb.d) * static_cast<float>(isum) - b.dmin * H::h2f(xb.s);
  } else {  // x Q8_K
    const BlockQ8_K& xb = reinterpret_cast<const BlockQ8_K*>(x)[i];
    constexpr int sub = T == TensorType::Q3_K ? 16 : 32;
    const int32_t scaled = H::dot_scaled(b.q, xb.qs, b.sc, sub);
    int32_t mins = 0;
    if constexpr (T == TensorType::Q5_K) {
      for (int s = 0; s < QK_K / sub; ++s)
        mins += b.mn[s] * (xb.bsums[2 * s] + xb.bsums[2 * s + 1]);
    }
    return b.d * xb.d * static_cast<float>(scaled) - b.dmin * xb.d * static_cast<float>(mins);
  }
}

template <class H, TensorType T>
void matmul_dec(const MatmulArgs& a) {
  constexpr int kTokens = 8;
  // 32-element blocks are decoded 8 at a time, so the dot of a block does not load bytes the
  // decoder has just stored (a store-forwarding stall) and the f32 sum stays in a register.
  constexpr int kGroup = T == TensorType::Q3_K || T == TensorType::Q5_K ? 1 : 8;
  // constexpr: no call to the inline tensor_type_info compiled with this folder's flags.
  constexpr auto info = tensor_type_info(T);
  const int64_t nb = a.k / info.block_size;
  const size_t row_bytes = a.w_row_bytes ? a.w_row_bytes : static_cast<size_t>(nb) * info.type_size;
  alignas(64) DecBlock blk[kGroup];
  for (DecBlock& b : blk) {
    b.dmin = 0;
    for (auto& m : b.mn) m = 0;
    for (auto& s : b.sc) s = 1;
  }
  for (int64_t r = a.row_begin; r < a.row_end; ++r) {
    const uint8_t* w = static_cast<const uint8_t*>(a.w) + r * row_bytes;
    for (int t0 = 0; t0 < a.n_tokens; t0 += kTokens) {
      const int nt = std::min(kTokens, a.n_tokens - t0);
      const uint8_t* x0 = static_cast<const uint8_t*>(a.x) + t0 * a.x_stride;
      float acc[kTokens] = {};
      for (int64_t i0 = 0; i0 < nb; i0 += kGroup) {
        const int g = static_cast<int>(std::min<int64_t>(kGroup, nb - i0));
        for (int b = 0; b < g; ++b) decode<H, T>(w, i0 + b, &blk[b]);
        for (int t = 0; t < nt; ++t) {
          const uint8_t* x = x0 + t * a.x_stride;
          float sum = acc[t];  // the reference's order: one block after the other
          for (int b = 0; b < g; ++b) sum += block_term<H, T>(blk[b], x, i0 + b);
          acc[t] = sum;
        }
      }
      for (int t = 0; t < nt; ++t) a.y[(t0 + t) * a.y_stride + r] = acc[t];
    }
  }
}

// BF16 weights x f32 activations.
template <class H>
float dot_bf16(const uint16_t* w, const float* x, int64_t k) {
  using B = xsimd::batch<float, typename H::arch>;
  constexpr int64_t W = B::size;
  B a0(0.0f), a1(0.0f), a2(0.0f), a3(0.0f);
  int64_t i = 0;
  for (; i + 4 * W <= k; i += 4 * W) {
    a0 = xsimd::fma(H::load_bf16(w + i), B::load_unaligned(x + i), a0);
    a1 = xsimd::fma(H::load_bf16(w + i + W), B::load_unaligned(x + i + W), a1);
    a2 = xsimd::fma(H::load_bf16(w + i + 2 * W), B::load_unaligned(x + i + 2 * W), a2);
    a3 = xsimd::fma(H::load_bf16(w + i + 3 * W), B::load_unaligned(x + i + 3 * W), a3);
  }
  for (; i + W <= k; i += W) a0 = xsimd::fma(H::load_bf16(w + i), B::load_unaligned(x + i), a0);
  float s = xsimd::hadd((a0 + a1) + (a2 + a3));
  for (; i < k; ++i) {
    const uint32_t u = static_cast<uint32_t>(w[i]) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    s += f * x[i];
  }
  return s;
}

template <class H>
void matmul_bf16(const MatmulArgs& a) {
  const size_t row_bytes = a.w_row_bytes ? a.w_row_bytes : static_cast<size_t>(a.k) * 2;
  for (int t = 0; t < a.n_tokens; ++t) {
    const auto* x =
        reinterpret_cast<const float*>(static_cast<const uint8_t*>(a.x) + t * a.x_stride);
    for (int64_t r = a.row_begin; r < a.row_end; ++r) {
      const auto* w =
          reinterpret_cast<const uint16_t*>(static_cast<const uint8_t*>(a.w) + r * row_bytes);
      a.y[t * a.y_stride + r] = dot_bf16<H>(w, x, a.k);
    }
  }
}

}  // namespace nibble::kernels::simd

// The registered entry points gemv_<weight>_<activation>_dec and gemv_bf16_f32 on hook struct H,
// defined in the enclosing namespace nibble::kernels::<isa> (declared by kernels/registry*.inc).
#define NIBBLE_SIMD_DEC_ENTRIES(H)                                                               \
  void gemv_q4_1_q8_1_dec(const MatmulArgs& a) { simd::matmul_dec<H, TensorType::Q4_1>(a); }     \
  void gemv_q5_0_q8_0_dec(const MatmulArgs& a) { simd::matmul_dec<H, TensorType::Q5_0>(a); }     \
  void gemv_q5_1_q8_1_dec(const MatmulArgs& a) { simd::matmul_dec<H, TensorType::Q5_1>(a); }     \
  void gemv_iq4_nl_q8_0_dec(const MatmulArgs& a) { simd::matmul_dec<H, TensorType::IQ4_NL>(a); } \
  void gemv_q3_k_q8_k_dec(const MatmulArgs& a) { simd::matmul_dec<H, TensorType::Q3_K>(a); }     \
  void gemv_q5_k_q8_k_dec(const MatmulArgs& a) { simd::matmul_dec<H, TensorType::Q5_K>(a); }     \
  void gemv_bf16_f32(const MatmulArgs& a) { simd::matmul_bf16<H>(a); }
